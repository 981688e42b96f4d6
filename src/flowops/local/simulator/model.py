"""The simulated Genesys Cloud org: flows with versions, the objects they use, locks and the
dependency index.

Plain dataclasses (not pydantic) on purpose: `generate_org` builds hundreds of thousands of these
for a 20,000-flow org and validation would dominate its run time. Everything that crosses the
wire is built as JSON by the server, never from these classes directly.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flowops.local.simulator.access import HOME_DIVISION_ID, HOME_DIVISION_NAME, Division, OAuthClient
from flowops.publish.references import ARCHITECT_WORDS

# Flow type (as the flows API spells it) -> (dependency-tracking object type, Architect YAML key).
# The object types are the platform's (SDK 269 Dependency.type): SPEECH has none ("" here), so
# dependency tracking cannot be asked about a speech flow at all.
FLOW_TYPES: dict[str, tuple[str, str]] = {
    "INBOUNDCALL": ("INBOUNDCALLFLOW", "inboundCall"),
    "INQUEUECALL": ("INQUEUECALLFLOW", "inqueueCall"),
    "OUTBOUNDCALL": ("OUTBOUNDCALLFLOW", "outboundCall"),
    "INBOUNDCHAT": ("INBOUNDCHATFLOW", "inboundChat"),
    "INBOUNDEMAIL": ("INBOUNDEMAILFLOW", "inboundEmail"),
    "INBOUNDSHORTMESSAGE": ("INBOUNDSHORTMESSAGEFLOW", "inboundShortMessage"),
    "COMMONMODULE": ("COMMONMODULEFLOW", "commonModule"),
    "WORKFLOW": ("WORKFLOW", "workflow"),
    "WORKITEM": ("WORKITEMFLOW", "workitem"),
    "BOT": ("BOTFLOW", "botFlow"),
    "DIGITALBOT": ("DIGITALBOTFLOW", "digitalBot"),
    "SECURECALL": ("SECURECALLFLOW", "secureCall"),
    "SURVEYINVITE": ("SURVEYINVITEFLOW", "surveyInvite"),
    "VOICE": ("VOICEFLOW", "voice"),
    "VOICEMAIL": ("VOICEMAILFLOW", "voicemail"),
    "INQUEUEEMAIL": ("INQUEUEEMAILFLOW", "inqueueEmail"),
    "INQUEUESHORTMESSAGE": ("INQUEUESHORTMESSAGEFLOW", "inqueueShortMessage"),
    "VOICESURVEY": ("VOICESURVEYFLOW", "voiceSurvey"),
    "SPEECH": ("", "speech"),
    "EMAILSEND": ("EMAILSENDFLOW", "emailSend"),
    "BUSINESSPROCESS": ("BUSINESSPROCESSFLOW", "businessProcess"),
}
# Flow types whose flows Archy YAML does not describe: generated orgs keep them out of transfers
# and publishes (what flowops can deploy), but list them and index them as a real org does.
UNDEPLOYABLE_FLOW_TYPES = frozenset({"SPEECH", "EMAILSEND", "BUSINESSPROCESS"})
FLOW_OBJECT_TYPES: dict[str, str] = {
    object_type: flow_type for flow_type, (object_type, _) in FLOW_TYPES.items() if object_type
}
YAML_KEY_TO_FLOW_TYPE: dict[str, str] = {
    yaml_key: flow_type for flow_type, (_, yaml_key) in FLOW_TYPES.items()
}

# Non-flow dependency-tracking object types the simulator stores, with the words Architect uses
# for them in its error messages ("Unable to find a queue named 'X'."): the ones a flow YAML can
# name are the table flowops itself predicts Architect's messages from (one table, so the two
# cannot drift), plus the types only the dependency index knows.
OBJECT_TYPE_WORDS: dict[str, str] = {
    **ARCHITECT_WORDS,
    "GRAMMAR": "grammar",
    "IVRCONFIGURATION": "IVR configuration",
    "INTEGRATION": "integration",
    "BOTCONNECTORBOT": "bot connector bot",
    "RESPONSE": "canned response",
    "LANGUAGE": "language",
    "TTSENGINE": "TTS engine",
    "TTSVOICE": "TTS voice",
}
FLOW_REFERENCE_TYPE = "FLOW"  # a flow transfer whose target type the YAML does not say
KNOWN_OBJECT_TYPES: frozenset[str] = frozenset(OBJECT_TYPE_WORDS) | frozenset(FLOW_OBJECT_TYPES)


def object_type_word(object_type: str) -> str:
    if object_type in OBJECT_TYPE_WORDS:
        return OBJECT_TYPE_WORDS[object_type]
    if object_type in FLOW_OBJECT_TYPES or object_type == FLOW_REFERENCE_TYPE:
        return "flow"
    return object_type.lower()


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass(slots=True, frozen=True)
class Principal:
    """Who holds a lock or ran an action: a user and/or an OAuth client."""

    user_id: str
    user_name: str
    client_id: str
    client_name: str


@dataclass(slots=True, frozen=True)
class Dependency:
    """One consumed resource of a flow version. `version` is the snapshot the flow version was
    published against: a flow's published version id, or a data action's integer version (as
    the string dependency tracking reports); None for unversioned objects."""

    id: str
    object_type: str
    version: str | None = None


@dataclass(slots=True)
class OrgObject:
    id: str
    name: str
    object_type: str
    deleted: bool = False
    version: int = 1  # data actions use optimistic concurrency on an integer version
    category: str | None = None  # data actions: the integration category Architect shows


@dataclass(slots=True)
class FlowVersion:
    version_id: str  # "3.0"
    version_type: str  # PUBLISH | CHECKIN | SAVE
    consumes: tuple[Dependency, ...]
    created_at: float
    created_by: Principal
    yaml_text: str | None = None  # None: rendered from the org on demand (generated orgs)
    secure: bool = False


@dataclass(slots=True)
class Operation:
    """An asynchronous lifecycle action (publish/checkin). Status follows simulated time."""

    id: str
    flow_id: str
    action_name: str
    started_at: float
    principal: Principal
    succeeds: bool
    error_message: str | None = None
    applied: bool = False


@dataclass(slots=True)
class Flow:
    id: str
    name: str
    flow_type: str
    description: str = ""
    division_id: str = HOME_DIVISION_ID
    versions: dict[str, FlowVersion] = field(default_factory=dict)
    published_version_id: str | None = None
    checked_in_version_id: str | None = None
    saved_version_id: str | None = None
    locked_by: Principal | None = None
    deleted: bool = False
    active: bool = True
    system: bool = False
    current_operation: Operation | None = None
    published_at: float | None = None
    published_by: Principal | None = None
    # Dependency index: False -> consumedresources answers the real 404 for this flow's versions;
    # index_error -> listed in the build status's failedObjects with this errorCode (and 404s).
    indexed: bool = True
    index_error: str | None = None

    @property
    def object_type(self) -> str:
        return FLOW_TYPES[self.flow_type][0]

    @property
    def yaml_key(self) -> str:
        return FLOW_TYPES[self.flow_type][1]

    def latest_version_id(self) -> str | None:
        return next(reversed(self.versions), None)

    def next_version_id(self) -> str:
        numbers = [int(float(v)) for v in self.versions]
        return f"{max(numbers, default=0) + 1}.0"


@dataclass(slots=True)
class Org:
    """All state of one simulated org. Not thread-safe: the server serialises access."""

    flows: dict[str, Flow] = field(default_factory=dict)
    objects: dict[str, OrgObject] = field(default_factory=dict)
    division_name: str = "Home"  # the home division's name (Architect YAML `division:`)
    # Divisions by id (the home division always exists) and the limited OAuth clients of the
    # org (src/flowops/local/simulator/access.py); the simulator's own client sees everything.
    divisions: dict[str, Division] = field(
        default_factory=lambda: {HOME_DIVISION_ID: Division(HOME_DIVISION_ID, HOME_DIVISION_NAME)}
    )
    oauth_clients: dict[str, OAuthClient] = field(default_factory=dict)
    # Dependency index, maintained by add_version: object id -> {(flow id, version id)}
    consumers: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    execution_data_enabled: bool = False
    # Execution data (instance rows and downloadable documents), keyed by instance id.
    flow_instances: dict[str, dict[str, Any]] = field(default_factory=dict)
    flow_instance_documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    default_principal: Principal = field(
        default_factory=lambda: Principal(
            "sim-admin-user", "Simulator Admin", "sim-admin-client", "Simulator"
        )
    )

    # ---- lookups ---------------------------------------------------------------------------
    def division(self, division_id: str) -> Division:
        return self.divisions.get(division_id) or Division(division_id, self.division_name)

    def iter_flows(self) -> Iterator[Flow]:
        return iter(self.flows.values())

    def find_object_by_name(self, object_type: str, name: str) -> OrgObject | None:
        """The live object called exactly `name`: Architect resolves names as written (case and
        surrounding spaces count), unlike the listings' case-insensitive `name` filters."""
        for obj in self.objects.values():
            if obj.object_type == object_type and obj.name == name and not obj.deleted:
                return obj
        return None

    def find_flow_by_name(self, name: str, flow_type: str | None = None) -> Flow | None:
        wanted = name.strip().lower()
        for flow in self.flows.values():
            if flow.deleted or flow.name.strip().lower() != wanted:
                continue
            if flow_type is None or flow.flow_type == flow_type:
                return flow
        return None

    def describe(self, entity_id: str) -> tuple[str, str, bool] | None:
        """(name, object type, deleted) of any flow or object, None when unknown."""
        flow = self.flows.get(entity_id)
        if flow is not None:
            return flow.name, flow.object_type, flow.deleted
        obj = self.objects.get(entity_id)
        if obj is not None:
            return obj.name, obj.object_type, obj.deleted
        return None

    def current_snapshot(self, entity_id: str) -> str | None:
        """The version a publish snapshots now: the published version of a flow, the current
        `version` of a live data action, None for anything unversioned."""
        flow = self.flows.get(entity_id)
        if flow is not None:
            return flow.published_version_id
        obj = self.objects.get(entity_id)
        if obj is not None and obj.object_type == "DATAACTION" and not obj.deleted:
            return str(obj.version)
        return None

    # ---- mutation ----------------------------------------------------------------------------
    def add_object(self, obj: OrgObject) -> OrgObject:
        self.objects[obj.id] = obj
        return obj

    def add_flow(self, flow: Flow) -> Flow:
        self.flows[flow.id] = flow
        return flow

    def add_version(self, flow: Flow, version: FlowVersion) -> FlowVersion:
        flow.versions[version.version_id] = version
        for dependency in version.consumes:
            self.consumers.setdefault(dependency.id, set()).add((flow.id, version.version_id))
        return version

    def add_flow_run(self, instance_row: dict[str, Any], document: dict[str, Any]) -> None:
        self.flow_instances[instance_row["id"]] = instance_row
        self.flow_instance_documents[instance_row["id"]] = document

    def publish_version(self, flow: Flow, version_id: str, at: float, by: Principal) -> None:
        flow.published_version_id = version_id
        flow.checked_in_version_id = version_id
        flow.published_at = at
        flow.published_by = by
        flow.active = True
