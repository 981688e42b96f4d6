"""Data models of `flowops.flowyaml`: a parsed flow document, its references and structure."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ReferenceKind(StrEnum):
    """What a flow refers to by name."""

    QUEUE = "QUEUE"
    DATAACTION = "DATAACTION"
    COMMONMODULE = "COMMONMODULE"
    FLOW = "FLOW"
    INQUEUEFLOW = "INQUEUEFLOW"
    BOT = "BOT"
    DIGITALBOT = "DIGITALBOT"
    USERPROMPT = "USERPROMPT"
    SYSTEMPROMPT = "SYSTEMPROMPT"
    SCHEDULE = "SCHEDULE"
    SCHEDULEGROUP = "SCHEDULEGROUP"
    EMERGENCYGROUP = "EMERGENCYGROUP"
    DATATABLE = "DATATABLE"
    SKILL = "SKILL"
    LANGUAGE = "LANGUAGE"
    WRAPUPCODE = "WRAPUPCODE"
    USER = "USER"
    GROUP = "GROUP"
    CONTACTLIST = "CONTACTLIST"
    SCRIPT = "SCRIPT"
    WORKTYPE = "WORKTYPE"
    KNOWLEDGEBASE = "KNOWLEDGEBASE"


# Dependency-tracking object type of each kind. FLOW is refined per action and flow type by the
# extractor (a transfer from a call flow goes to an inbound call flow, ...).
OBJECT_TYPE_BY_KIND: dict[ReferenceKind, str] = {
    ReferenceKind.QUEUE: "QUEUE",
    ReferenceKind.DATAACTION: "DATAACTION",
    ReferenceKind.COMMONMODULE: "COMMONMODULEFLOW",
    ReferenceKind.FLOW: "FLOW",
    ReferenceKind.INQUEUEFLOW: "INQUEUECALLFLOW",
    ReferenceKind.BOT: "BOTFLOW",
    ReferenceKind.DIGITALBOT: "DIGITALBOTFLOW",
    ReferenceKind.USERPROMPT: "USERPROMPT",
    ReferenceKind.SYSTEMPROMPT: "SYSTEMPROMPT",
    ReferenceKind.SCHEDULE: "SCHEDULE",
    ReferenceKind.SCHEDULEGROUP: "SCHEDULEGROUP",
    ReferenceKind.EMERGENCYGROUP: "EMERGENCYGROUP",
    ReferenceKind.DATATABLE: "DATATABLE",
    ReferenceKind.SKILL: "ACDSKILL",
    ReferenceKind.LANGUAGE: "ACDLANGUAGE",
    ReferenceKind.WRAPUPCODE: "ACDWRAPUPCODE",
    ReferenceKind.USER: "USER",
    ReferenceKind.GROUP: "GROUP",
    ReferenceKind.CONTACTLIST: "CONTACTLIST",
    ReferenceKind.SCRIPT: "COMPOSERSCRIPT",
    ReferenceKind.WORKTYPE: "WORKTYPE",
    ReferenceKind.KNOWLEDGEBASE: "KNOWLEDGEBASE",
}


class FlowReference(BaseModel):
    """An object the flow uses, named literally in the YAML.

    `category` is set for data actions only: the integration (Archy "category") the data
    action belongs to; data-action names are unique per integration, not per org.

    `soft` is True when every use is a Find action (`findQueue: findName: lit: X`): Architect
    gives those a `notFound` output, so a missing object takes that path at run time instead
    of failing the publish. One hard use anywhere makes the reference hard.
    """

    model_config = ConfigDict(frozen=True)

    kind: ReferenceKind
    name: str
    object_type: str = ""
    category: str | None = None
    locations: list[str] = Field(default_factory=list)
    soft: bool = False

    @model_validator(mode="after")
    def _default_object_type(self) -> Self:
        if not self.object_type:
            object.__setattr__(self, "object_type", OBJECT_TYPE_BY_KIND[self.kind])
        return self

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """What makes two references the same object (locations aside)."""
        return (self.kind.value, self.object_type, self.name, self.category or "")


class DynamicReference(BaseModel):
    """An object the flow picks at run time (`targetQueue: exp: Task.Queue`,
    `FindSkill(Flow.skills)`): which one cannot be known from the YAML, so it is reported
    with its expression rather than guessed."""

    model_config = ConfigDict(frozen=True)

    kind: ReferenceKind
    expression: str
    location: str


class NodeKind(StrEnum):
    TASK = "task"
    STATE = "state"
    MENU = "menu"
    BOT = "bot"
    STARTUP = "startup"
    ACTION = "action"
    CHOICE = "choice"


CONTAINER_KINDS: frozenset[NodeKind] = frozenset(
    {NodeKind.TASK, NodeKind.STATE, NodeKind.MENU, NodeKind.BOT, NodeKind.STARTUP}
)


class FlowNode(BaseModel):
    """A task, state, menu, bot, menu choice or action.

    Containers have ids `task:<refId>`, `state:<refId>`, `menu:<refId>`, `bot:<refId>`
    (`startup` for `startUpTaskActions`); actions and choices are identified by their YAML path.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    kind: NodeKind
    name: str | None = None
    action_type: str | None = None
    path: str


class FlowEdge(BaseModel):
    """Control passes from `source` to `target`: `next` (sequence), `start` (container to its
    first action), an output path name (`yes`, `success`, `loop`, `case[0]` ...), `choice`, or
    the jump action type (`callTask`, `jumpToTask`, `changeState`, `jumpToMenu`, ...)."""

    model_config = ConfigDict(frozen=True)

    source: str
    target: str
    label: str


class DanglingRef(BaseModel):
    """A `*Ref` whose target does not exist in the flow."""

    model_config = ConfigDict(frozen=True)

    ref: str
    location: str


class FlowStructure(BaseModel):
    """The flow's control graph, kept as plain lists (no networkx: this runs in Lambda)."""

    nodes: list[FlowNode] = Field(default_factory=list)
    edges: list[FlowEdge] = Field(default_factory=list)
    start: str | None = None
    """Node id of the starting task/state/menu/bot, or None when the file does not say."""
    entry_points: list[str] = Field(default_factory=list)
    """Every node control can start from: the start plus targets named in flow settings
    (error handling, ...)."""
    dangling_refs: list[DanglingRef] = Field(default_factory=list)

    def node(self, node_id: str) -> FlowNode | None:
        return next((node for node in self.nodes if node.id == node_id), None)

    def containers(self) -> list[FlowNode]:
        return [node for node in self.nodes if node.kind in CONTAINER_KINDS]

    def successors(self, node_id: str) -> list[str]:
        return [edge.target for edge in self.edges if edge.source == node_id]

    def reachable_from(self, roots: list[str]) -> set[str]:
        adjacency: dict[str, list[str]] = {}
        for edge in self.edges:
            adjacency.setdefault(edge.source, []).append(edge.target)
        seen: set[str] = set()
        pending = [root for root in roots if root]
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            pending.extend(adjacency.get(current, []))
        return seen


class FlowDocument(BaseModel):
    """One Architect flow YAML file, read."""

    yaml_key: str
    flow_type: str
    object_type: str
    name: str
    description: str | None = None
    division: str | None = None
    references: list[FlowReference] = Field(default_factory=list)
    dynamic_references: list[DynamicReference] = Field(default_factory=list)
    structure: FlowStructure = Field(default_factory=FlowStructure)
    unreachable_tasks: list[str] = Field(default_factory=list)
    """Ids of tasks/states/menus/bots never reached from the start (see FlowStructure)."""
    unresolved_placeholders: list[str] = Field(default_factory=list)
    raw: dict[str, Any] = Field(default_factory=dict)

    def references_of(self, kind: ReferenceKind) -> list[FlowReference]:
        return [reference for reference in self.references if reference.kind is kind]
