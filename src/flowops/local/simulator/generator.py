"""Deterministic generation of a realistic org: same (flows, seed, now) -> identical org.

What a generated org contains, and why (each is a case the pipeline must handle):
- every flow type; common modules consumed by many flows (fan-in hot spots);
- flow-to-flow transfers, including an explicit 3-cycle and a self-loop (cycle detection);
- queues, data actions, data tables, user prompts, schedules, schedule groups, skills, some of
  them deleted but still referenced (broken-reference detection);
- locked flows (held by another user through the Architect UI);
- flows with several versions, where older versions consume less;
- stale snapshots: a consumer pinned to an older version of a common module, or of a data
  action, than the one now published (needs-republish detection);
- never-published flows that other flows transfer to;
- execution data for a subset of flows within the 10 days before `now`;
- flows of the types Archy does not deploy and dependency tracking covers differently (SPEECH:
  no object type at all; EMAILSEND, BUSINESSPROCESS): nobody transfers to them, they are never
  published by flowops, but the scan lists them and must cope.
Flow YAML is rendered on demand from the version data (see archyaml.py), which keeps a
20,000-flow org well under the time budget.
"""

from __future__ import annotations

import random
import uuid
import zlib
from datetime import UTC, datetime, timedelta

from flowops.flowyaml.flow_types import flow_type_info
from flowops.flowyaml.references import transfer_target_object_type
from flowops.local.simulator.executions import generate_flow_runs
from flowops.local.simulator.model import (
    FLOW_TYPES,
    UNDEPLOYABLE_FLOW_TYPES,
    Dependency,
    Flow,
    FlowVersion,
    Org,
    OrgObject,
    Principal,
)

# 2025-01-06T00:00:00Z: the default "now" of a generated org, so that a bare
# generate_org(flows, seed) is reproducible across runs.
GENERATED_ORG_EPOCH = 1_736_121_600.0
DAY = 86_400.0

# Relative weights of flow types in a generated org (every type appears at least once).
_FLOW_TYPE_WEIGHTS: dict[str, int] = {
    "INBOUNDCALL": 20,
    "INQUEUECALL": 8,
    "OUTBOUNDCALL": 4,
    "INBOUNDCHAT": 4,
    "INBOUNDEMAIL": 5,
    "INBOUNDSHORTMESSAGE": 10,
    "COMMONMODULE": 9,
    "WORKFLOW": 8,
    "WORKITEM": 3,
    "BOT": 5,
    "DIGITALBOT": 4,
    "SECURECALL": 3,
    "SURVEYINVITE": 2,
    "VOICE": 2,
    "VOICEMAIL": 2,
    "INQUEUEEMAIL": 2,
    "INQUEUESHORTMESSAGE": 2,
    "VOICESURVEY": 2,
}
_NAME_WORDS = (
    "Billing", "Claims", "Sales", "Support", "Renewals", "Onboarding", "Fraud", "Payments",
    "Loyalty", "Returns", "Appointments", "Outage", "Retention", "Collections", "Escalation",
    "Priority", "Partner", "Wholesale", "Insurance", "Travel",
)  # fmt: skip
_OTHER_USER = Principal(
    "7d5e1c90-8f5e-4a59-9c41-0b1f2e3a4b5c", "Jane Architect", "architect-ui", "Architect UI"
)
_CI_USER = Principal("0c9d8e7f-1a2b-4c3d-8e9f-a0b1c2d3e4f5", "Release Bot", "release-pipeline", "flowops")
_DATA_ACTION_CATEGORIES = ("Genesys Cloud Data Actions", "Web Services Data Actions", "CRM Lookups")


class _Ids:
    """Deterministic UUIDs from the generator's random stream."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def next(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


def _make_objects(org: Org, rng: random.Random, ids: _Ids, flow_count: int) -> dict[str, list[OrgObject]]:
    plan = {
        "QUEUE": (max(4, flow_count // 8), "{w} Queue {i}"),
        "DATAACTION": (max(3, flow_count // 12), "Get {w} Details {i}"),
        "DATATABLE": (max(2, flow_count // 40), "{w} Lookup Table {i}"),
        "USERPROMPT": (max(3, flow_count // 10), "{lw}_greeting_{i}"),
        "SCHEDULE": (max(2, flow_count // 30), "{w} Business Hours {i}"),
        "SCHEDULEGROUP": (max(2, flow_count // 50), "{w} Schedule Group {i}"),
        "ACDSKILL": (max(2, flow_count // 40), "{w} Skill {i}"),
    }
    by_type: dict[str, list[OrgObject]] = {}
    for object_type, (count, pattern) in plan.items():
        created: list[OrgObject] = []
        for i in range(1, count + 1):
            word = _NAME_WORDS[rng.randrange(len(_NAME_WORDS))]
            name = pattern.format(w=word, lw=word.lower(), i=i)
            obj = OrgObject(id=ids.next(), name=name, object_type=object_type)
            if object_type == "DATAACTION":
                obj.category = _DATA_ACTION_CATEGORIES[i % len(_DATA_ACTION_CATEGORIES)]
                obj.version = 1 + rng.randrange(5)
            created.append(org.add_object(obj))
        # The last object of every kind is deleted but stays referenced by some flows.
        created[-1].deleted = True
        by_type[object_type] = created
    return by_type


_VOICE_TYPES = frozenset(
    {"INBOUNDCALL", "OUTBOUNDCALL", "SECURECALL", "VOICEMAIL", "VOICE", "INQUEUECALL", "VOICESURVEY"}
)
_MESSAGE_TYPES = frozenset(
    {"INBOUNDCHAT", "INBOUNDSHORTMESSAGE", "INBOUNDEMAIL", "INQUEUEEMAIL", "INQUEUESHORTMESSAGE"}
)
_BOT_TYPES = frozenset({"BOT", "DIGITALBOT"})
FLOW_OBJECT_TYPE_NAMES = frozenset(object_type for object_type, _ in FLOW_TYPES.values())


def can_consume(flow_type: str, object_type: str) -> bool:
    """Whether a flow of `flow_type` can use an object of `object_type` in Architect.

    Call flows use everything; message flows play no audio; common modules call no modules and
    transfer nowhere; workflows, workitem and survey-invite flows play no audio and transfer
    nowhere (they may call common modules); bot flows call no modules, transfer nowhere and play
    no user prompts (they speak through their own prompts settings).
    """
    is_flow = object_type in FLOW_OBJECT_TYPE_NAMES
    if flow_type in _VOICE_TYPES:
        return True
    if flow_type in _MESSAGE_TYPES:
        return object_type != "USERPROMPT"
    if flow_type == "COMMONMODULE":
        return not is_flow
    if flow_type in _BOT_TYPES:
        return not is_flow and object_type != "USERPROMPT"
    # WORKFLOW, WORKITEM, SURVEYINVITE
    return object_type != "USERPROMPT" and (not is_flow or object_type == "COMMONMODULEFLOW")


# Objects the name-lookup APIs serve that generated flows do not use (yet): a real org has them.
_DIRECTORY_PLAN: dict[str, tuple[int, str]] = {
    "ACDLANGUAGE": (3, "{w} Language {i}"),
    "ACDWRAPUPCODE": (4, "{w} Resolved {i}"),
    "EMERGENCYGROUP": (2, "{w} Evacuation {i}"),
    "KNOWLEDGEBASE": (2, "{w} FAQ {i}"),
    "USER": (5, "{w} Agent {i}"),
    "GROUP": (3, "{w} Team {i}"),
    "CONTACTLIST": (2, "{w} Callback List {i}"),
}


def _make_directory_objects(org: Org, seed: int, flow_count: int) -> None:
    # Their own random stream: adding them must not shift the generator's main stream (and so
    # every org an existing seed describes).
    rng = random.Random(f"directory-{seed}")
    ids = _Ids(rng)
    for object_type, (base, pattern) in _DIRECTORY_PLAN.items():
        for i in range(1, base + flow_count // 100 + 1):
            word = _NAME_WORDS[rng.randrange(len(_NAME_WORDS))]
            org.add_object(
                OrgObject(id=ids.next(), name=pattern.format(w=word, i=i), object_type=object_type)
            )


def _flow_types(rng: random.Random, flow_count: int) -> list[str]:
    # The undeployable types are added afterwards (_add_undeployable_flows), so the random stream
    # and every org an existing seed describes stay the same.
    all_types = [flow_type for flow_type in FLOW_TYPES if flow_type not in UNDEPLOYABLE_FLOW_TYPES]
    types = all_types[: min(flow_count, len(all_types))]
    # Six more inbound call flows carry the planted cycle, self-loop and unpublished target.
    types.extend(["INBOUNDCALL"] * min(6, max(0, flow_count - len(types))))
    names = list(_FLOW_TYPE_WEIGHTS)
    weights = list(_FLOW_TYPE_WEIGHTS.values())
    types.extend(rng.choices(names, weights=weights, k=max(0, flow_count - len(types))))
    if flow_count >= 2 and "COMMONMODULE" not in types:
        types[-1] = "COMMONMODULE"
    return types


def _transfer_target_type(flow: Flow) -> str:
    info = flow_type_info(flow.flow_type)
    return "FLOW" if info is None else transfer_target_object_type("transferToFlow", info)


def _transfer_candidates(callers: list[Flow]) -> dict[str, list[Flow]]:
    """Flows each kind of flow can hand over to, by the type a plain transfer targets.

    Architect keeps a transfer on the media of the flow it is in (call flows transfer to
    inbound call flows, ...); bot calls and secure transfers are possible from anywhere.
    Choosing targets this way keeps the YAML and the dependency index consistent.
    """
    anywhere = [f for f in callers if f.object_type in {"BOTFLOW", "DIGITALBOTFLOW", "SECURECALLFLOW"}]
    by_type: dict[str, list[Flow]] = {"FLOW": list(callers)}
    for flow in callers:
        target_type = _transfer_target_type(flow)
        if target_type not in by_type:
            by_type[target_type] = [f for f in callers if f.object_type == target_type] + anywhere
    return by_type


def generate_org(flows: int = 200, seed: int = 1, now: float | None = None) -> Org:
    """A deterministic org of `flows` flows; `now` anchors every timestamp (default fixed)."""
    if flows < 1:
        raise ValueError(f"an org needs at least one flow, got {flows}")
    anchor = GENERATED_ORG_EPOCH if now is None else float(now)
    rng = random.Random(seed)
    ids = _Ids(rng)
    org = Org()
    objects = _make_objects(org, rng, ids, flows)
    _make_directory_objects(org, seed, flows)

    # 1. Flows without versions yet.
    all_flows: list[Flow] = []
    for index, flow_type in enumerate(_flow_types(rng, flows)):
        word = _NAME_WORDS[rng.randrange(len(_NAME_WORDS))]
        yaml_key = FLOW_TYPES[flow_type][1]
        kind = "".join(f" {c}" if c.isupper() else c for c in yaml_key).title().strip()
        flow = Flow(id=ids.next(), name=f"{word} {kind} {index + 1:05d}", flow_type=flow_type)
        flow.description = f"Generated {kind.lower()} flow for {word.lower()}"
        all_flows.append(org.add_flow(flow))
    modules = [f for f in all_flows if f.flow_type == "COMMONMODULE"]
    callers = [f for f in all_flows if f.flow_type != "COMMONMODULE"]
    never_published = {f.id for f in callers if rng.random() < 0.02}
    inbound = [f for f in callers if f.flow_type == "INBOUNDCALL"]
    planted: dict[str, list[Flow]] = {}
    if len(inbound) >= 6:
        # A 3-cycle, a self-loop, and a never-published flow that another flow transfers to.
        for position in range(3):
            planted[inbound[position].id] = [inbound[(position + 1) % 3]]
        planted[inbound[3].id] = [inbound[3]]
        planted[inbound[5].id] = [inbound[4]]
        never_published.add(inbound[4].id)
    targets_by_type = _transfer_candidates(callers)

    # 2. Common modules first (they consume objects only): 1-4 versions each.
    module_versions: dict[str, list[str]] = {}
    for module in modules:
        module_versions[module.id] = _add_versions(
            org, module, rng, objects, transfers=[], modules=[], anchor=anchor
        )

    # 3. Everyone else: objects, common-module snapshots (some stale) and flow transfers.
    for flow in callers:
        transfers = list(planted.get(flow.id, []))
        candidates = targets_by_type[_transfer_target_type(flow)]
        if candidates and rng.random() < 0.25:
            transfers.extend(rng.sample(candidates, k=min(len(candidates), 1 + rng.randrange(2))))
        picked_modules = rng.sample(modules, k=min(len(modules), rng.randrange(3))) if modules else []
        _add_versions(
            org, flow, rng, objects, transfers=transfers, modules=picked_modules, anchor=anchor,
            module_versions=module_versions, publish=flow.id not in never_published,
        )  # fmt: skip

    # Transfers name a flow; dependency tracking reports the target's published version.
    for flow in callers:
        for version in flow.versions.values():
            version.consumes = tuple(
                Dependency(d.id, d.object_type, org.flows[d.id].published_version_id)
                if d.object_type != "COMMONMODULEFLOW" and d.id in org.flows
                else d
                for d in version.consumes
            )

    _snapshot_data_actions(org, all_flows)

    # 4. Locks held by someone else through the Architect UI.
    for flow in all_flows:
        if rng.random() < 0.02:
            flow.locked_by = _OTHER_USER
    _add_execution_data(org, rng, all_flows, anchor, seed)
    _add_undeployable_flows(org, all_flows, protected={f.id for f in inbound[:6]})
    return org


# One flow in this many becomes each undeployable type (at least one each where possible).
_UNDEPLOYABLE_SHARE = 150


def _add_undeployable_flows(org: Org, flows: list[Flow], *, protected: set[str]) -> None:
    """Turn a few flows nobody consumes into SPEECH / EMAILSEND / BUSINESSPROCESS flows.

    Chosen by a hash of the id, among published flows no other flow references, with no
    execution data and outside the planted cycle: nothing else in the org changes.
    """
    traced = {row["flowId"] for row in org.flow_instances.values()}
    eligible = sorted(
        (
            f
            for f in flows
            if f.flow_type != "COMMONMODULE"
            and f.published_version_id is not None
            and not org.consumers.get(f.id)
            and f.id not in traced
            and f.id not in protected
        ),
        key=lambda f: (zlib.crc32(f.id.encode()), f.id),
    )
    per_type = max(1, len(flows) // _UNDEPLOYABLE_SHARE)
    chosen = iter(eligible)
    for flow_type in sorted(UNDEPLOYABLE_FLOW_TYPES):
        for _ in range(per_type):
            flow = next(chosen, None)
            if flow is None:
                return
            flow.flow_type = flow_type
            word = flow.name.split(" ", 1)[0]
            kind = "".join(f" {c}" if c.isupper() else c for c in FLOW_TYPES[flow_type][1]).title().strip()
            flow.name = f"{word} {kind} {flow.name.rsplit(' ', 1)[-1]}"
            flow.description = f"Generated {kind.lower()} flow for {word.lower()}"


# About one consumed data action in seven was published against an older action version.
_STALE_DATA_ACTION_PERCENT = 15


def _stale_data_action_pick(flow_id: str, action_id: str) -> bool:
    # A hash instead of the generator's random stream: adding data-action snapshots must not
    # shift every other random choice (and so every org an existing seed describes).
    return zlib.crc32(f"{flow_id}:{action_id}".encode()) % 100 < _STALE_DATA_ACTION_PERCENT


def _snapshot_data_actions(org: Org, flows: list[Flow]) -> None:
    """Give every consumed data action the version its consumer was published against.

    Most consumers snapshot the current version; a hashed few an older one (stale snapshots).
    An org with any stale-capable consumer gets at least one, so small orgs show the case too.
    """

    def snapshot(flow: Flow, dependency: Dependency, *, force_stale: bool = False) -> Dependency:
        action = org.objects[dependency.id]
        stale = action.version > 1 and (force_stale or _stale_data_action_pick(flow.id, action.id))
        return Dependency(
            dependency.id, dependency.object_type, str(action.version - 1 if stale else action.version)
        )

    def live_action(dependency: Dependency) -> bool:
        return dependency.object_type == "DATAACTION" and not org.objects[dependency.id].deleted

    any_stale = False
    for flow in flows:
        for version in flow.versions.values():
            version.consumes = tuple(snapshot(flow, d) if live_action(d) else d for d in version.consumes)
        published = flow.versions.get(flow.published_version_id or "")
        if published is not None:
            any_stale = any_stale or any(
                live_action(d) and d.version != str(org.objects[d.id].version) for d in published.consumes
            )
    if any_stale:
        return
    for flow in flows:
        published = flow.versions.get(flow.published_version_id or "")
        if published is None:
            continue
        candidate = next(
            (d for d in published.consumes if live_action(d) and org.objects[d.id].version > 1), None
        )
        if candidate is not None:
            stale = snapshot(flow, candidate, force_stale=True)
            # Every version holding that dependency (older versions share a prefix) agrees.
            for version in flow.versions.values():
                version.consumes = tuple(stale if d == candidate else d for d in version.consumes)
            return


def _add_versions(
    org: Org,
    flow: Flow,
    rng: random.Random,
    objects: dict[str, list[OrgObject]],
    *,
    transfers: list[Flow],
    modules: list[Flow],
    anchor: float,
    module_versions: dict[str, list[str]] | None = None,
    publish: bool = True,
) -> list[str]:
    consumes: list[Dependency] = []
    for object_type, weight in (("QUEUE", 2), ("DATAACTION", 2), ("USERPROMPT", 1), ("DATATABLE", 1)):
        for _ in range(rng.randrange(weight + 1)):
            obj = rng.choice(objects[object_type])
            consumes.append(Dependency(obj.id, object_type))
    for object_type in ("SCHEDULE", "SCHEDULEGROUP", "ACDSKILL"):
        if rng.random() < 0.3:
            consumes.append(Dependency(rng.choice(objects[object_type]).id, object_type))
    for module in modules:
        versions = (module_versions or {}).get(module.id, [])
        if not versions:
            continue
        # Stale snapshot: this consumer was published against an older module version.
        snapshot = versions[-2] if len(versions) > 1 and rng.random() < 0.15 else versions[-1]
        consumes.append(Dependency(module.id, "COMMONMODULEFLOW", snapshot))
    for target in transfers:
        consumes.append(Dependency(target.id, target.object_type, None))
    # Drawn for every flow alike (the random stream stays the same), kept only where this type
    # of flow can use it: a workflow has no audio and transfers nowhere, a bot calls no modules.
    unique = [d for d in dict.fromkeys(consumes) if can_consume(flow.flow_type, d.object_type)]

    version_count = 1 + min(3, int(rng.expovariate(1.2)))
    created: list[str] = []
    start = anchor - (30 + rng.randrange(300)) * DAY
    for number in range(1, version_count + 1):
        # Older versions consumed a prefix of what the newest consumes.
        keep = len(unique) if number == version_count else max(0, len(unique) - (version_count - number))
        version_id = f"{number}.0"
        version_type = "PUBLISH" if publish else ("CHECKIN" if number < version_count else "SAVE")
        created_at = start + number * 3 * DAY
        version = FlowVersion(version_id, version_type, tuple(unique[:keep]), created_at, _CI_USER)
        org.add_version(flow, version)
        created.append(version_id)
        if publish:
            org.publish_version(flow, version_id, created_at, _CI_USER)
    if not publish:
        flow.saved_version_id = created[-1]
        flow.checked_in_version_id = created[-2] if len(created) > 1 else None
    return created


def _add_execution_data(org: Org, rng: random.Random, flows: list[Flow], anchor: float, seed: int) -> None:
    """Execution data for a subset of published flows, within the 10 days before `anchor`."""
    candidates = [f for f in flows if f.published_version_id is not None and f.flow_type != "COMMONMODULE"]
    if not candidates:
        return
    # A bounded subset: enough flows for tracing, few enough to keep big orgs fast to generate.
    chosen = rng.sample(candidates, k=min(len(candidates), max(1, len(candidates) // 20), 50))
    org.execution_data_enabled = True
    window_end = datetime.fromtimestamp(anchor, tz=UTC)
    window_start = window_end - timedelta(days=10)
    for offset, flow in enumerate(chosen):
        runs = generate_flow_runs(
            flow_id=flow.id,
            flow_name=flow.name,
            flow_type=flow.flow_type,
            flow_version=flow.published_version_id or "1.0",
            actions=None,
            seed=seed * 1000 + offset,
            count=rng.randrange(5, 40),
            window_start=window_start,
            window_end=window_end,
            division_id=flow.division_id,
            division_name=org.division_name,
        )
        for run in runs:
            org.add_flow_run(run.instance_row, run.document)
