"""The control structure of an Architect flow: tasks, states, menus, bots and their actions.

Nodes are containers (`task:<refId>`, `state:<refId>`, `menu:<refId>`, `bot:<refId>`,
`startup` for `startUpTaskActions`), actions and menu choices (identified by YAML path).
Edges follow what Architect executes: a container starts at its first action, actions run in
sequence unless one ends the path (disconnect, jumps, end task, ...), output paths (`yes`,
`no`, `success`, `loop`, switch cases, bot intents) branch off an action, and `*Ref` values
(`targetTaskRef`, `targetStateRef`, `targetMenuRef`, `defaultChildMenuRef`) jump to their
target. Anything not reached from the start is dead: an unreachable task is a flow defect
(and a task deleted in the UI leaves its `callTask` dangling, reported as `dangling_refs`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flowops.flowyaml.models import (
    CONTAINER_KINDS,
    DanglingRef,
    FlowEdge,
    FlowNode,
    FlowStructure,
    NodeKind,
)
from flowops.flowyaml.references import list_item_path, name_text

_CONTAINER_LISTS: dict[str, tuple[str, NodeKind]] = {
    "tasks": ("task", NodeKind.TASK),
    "states": ("state", NodeKind.STATE),
    "menus": ("menu", NodeKind.MENU),
    "bots": ("bot", NodeKind.BOT),
}
STARTUP_NODE_ID = "startup"

# Actions after which control never reaches the next action of the same list.
_PATH_ENDING_ACTIONS = frozenset(
    {
        "disconnect",
        "jumpToTask",
        "jumpToMenu",
        "jumpToPreviousMenu",
        "jumpToReusableTask",
        "changeState",
        "endTask",
        "endState",
        "endFlow",
        "endWorkflow",
        "exitBotFlow",
        "exitWorkitemFlow",
        "exitCommonModule",
        "loopExit",
        "loopNext",
        "previousMenu",
        "menuDisconnect",
    }
)
# `/inboundCall/tasks/task[Main_12]`, `./menus/menu[mainMenu]`, `./choices/menuTask[x_1]`
_REF_TARGET = re.compile(r"(?P<type>[A-Za-z]+)\[(?P<ref_id>[^\]]*)\]\s*$")
_ROOT_SKIPPED_KEYS = frozenset({"tasks", "states", "menus", "bots", "startUpTaskActions", "startUpRef"})


class _StructureBuilder:
    def __init__(self, root_path: str) -> None:
        self._root_path = root_path
        self.nodes: dict[str, FlowNode] = {}
        self.edges: list[FlowEdge] = []
        self._edge_keys: set[tuple[str, str, str]] = set()
        self._targets: dict[tuple[str, str], str] = {}
        self._pending_refs: list[tuple[str, str, str, str]] = []  # source, ref, label, location

    def add_node(self, node: FlowNode) -> None:
        self.nodes.setdefault(node.id, node)

    def add_edge(self, source: str, target: str, label: str) -> None:
        key = (source, target, label)
        if key not in self._edge_keys:
            self._edge_keys.add(key)
            self.edges.append(FlowEdge(source=source, target=target, label=label))

    def register_target(self, item_type: str, ref_id: str, node_id: str) -> None:
        self._targets.setdefault((item_type, ref_id), node_id)

    def refer(self, source: str, ref: str, label: str, location: str) -> None:
        self._pending_refs.append((source, ref, label, location))

    def resolve(self, ref: str) -> str | None:
        match = _REF_TARGET.search(ref)
        if match is None:
            return None
        return self._targets.get((match.group("type"), match.group("ref_id")))

    def link_refs(self) -> list[DanglingRef]:
        dangling: list[DanglingRef] = []
        for source, ref, label, location in self._pending_refs:
            if "#" in ref:
                continue  # a reference into another file (Archy external reference)
            target = self.resolve(ref)
            if target is None:
                dangling.append(DanglingRef(ref=ref, location=location))
            else:
                self.add_edge(source, target, label)
        return dangling

    # building ------------------------------------------------------------------------------
    def containers(self, body: Mapping[str, Any]) -> None:
        """Register every container first, so refs to later containers resolve."""
        for list_key, (word, kind) in _CONTAINER_LISTS.items():
            items = body.get(list_key)
            if not isinstance(items, list):
                continue
            for index, item in enumerate(items):
                if not (isinstance(item, Mapping) and isinstance(item.get(word), Mapping)):
                    continue
                container = item[word]
                ref_id = name_text(container.get("refId")) or name_text(container.get("name")) or str(index)
                node_id = f"{word}:{ref_id}"
                path, _ = list_item_path(f"{self._root_path}/{list_key}", item, index)
                self.add_node(
                    FlowNode(id=node_id, kind=kind, name=name_text(container.get("name")), path=path)
                )
                self.register_target(word, ref_id, node_id)

    def container_bodies(self, body: Mapping[str, Any]) -> None:
        for list_key, (word, _) in _CONTAINER_LISTS.items():
            items = body.get(list_key)
            if not isinstance(items, list):
                continue
            for index, item in enumerate(items):
                if not (isinstance(item, Mapping) and isinstance(item.get(word), Mapping)):
                    continue
                container = item[word]
                ref_id = name_text(container.get("refId")) or name_text(container.get("name")) or str(index)
                node_id = f"{word}:{ref_id}"
                path, _ = list_item_path(f"{self._root_path}/{list_key}", item, index)
                if word == "menu":
                    self._menu(node_id, container, path)
                else:
                    self._explore(node_id, container, path, label_root=path)

    def startup_actions(self, actions: list[Any]) -> None:
        path = f"{self._root_path}/startUpTaskActions"
        self.add_node(
            FlowNode(id=STARTUP_NODE_ID, kind=NodeKind.STARTUP, name="startUpTaskActions", path=path)
        )
        self._action_list(STARTUP_NODE_ID, actions, path, "start")

    def _menu(self, menu_id: str, menu: Mapping[str, Any], path: str) -> None:
        choices = menu.get("choices")
        if isinstance(choices, list):
            for index, item in enumerate(choices):
                if not (isinstance(item, Mapping) and len(item) == 1):
                    continue
                ((choice_type, choice),) = item.items()
                if not isinstance(choice, Mapping):
                    continue
                choice_path, _ = list_item_path(f"{path}/choices", item, index)
                choice_id = choice_path
                self.add_node(
                    FlowNode(
                        id=choice_id,
                        kind=NodeKind.CHOICE,
                        name=name_text(choice.get("name")),
                        action_type=str(choice_type),
                        path=choice_path,
                    )
                )
                if (ref_id := name_text(choice.get("refId"))) is not None:
                    self.register_target(str(choice_type), ref_id, choice_id)
                self.add_edge(menu_id, choice_id, "choice")
                self._explore(
                    choice_id, choice, choice_path, label_root=choice_path, jump_label=str(choice_type)
                )
        rest = {key: value for key, value in menu.items() if key != "choices"}
        self._explore(menu_id, rest, path, label_root=path, jump_label="default")

    def _explore(
        self,
        owner: str,
        value: object,
        path: str,
        *,
        label_root: str,
        jump_label: str | None = None,
    ) -> None:
        """Find the action lists and `*Ref` jumps that belong to `owner` (not to nested actions)."""
        if isinstance(value, Mapping):
            for key, child in value.items():
                child_path = f"{path}/{key}"
                if key == "actions" and isinstance(child, list):
                    self._action_list(owner, child, child_path, _branch_label(label_root, path))
                elif isinstance(child, str) and key.endswith("Ref") and key != "startUpRef":
                    self.refer(owner, child, jump_label or key, child_path)
                else:
                    self._explore(owner, child, child_path, label_root=label_root, jump_label=jump_label)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                item_path, _ = list_item_path(path, item, index)
                self._explore(owner, item, item_path, label_root=label_root, jump_label=jump_label)

    def _action_list(self, owner: str, actions: list[Any], path: str, first_label: str) -> None:
        previous: str | None = None
        previous_ends_path = False
        for index, item in enumerate(actions):
            if not (isinstance(item, Mapping) and len(item) == 1):
                continue
            ((action_type, action),) = item.items()
            action_path, wrapped = list_item_path(path, item, index)
            if wrapped is None:
                action_path = f"{action_path}/{action_type}"
            body = action if isinstance(action, Mapping) else {}
            self.add_node(
                FlowNode(
                    id=action_path,
                    kind=NodeKind.ACTION,
                    name=name_text(body.get("name")),
                    action_type=str(action_type),
                    path=action_path,
                )
            )
            if previous is None:
                self.add_edge(owner, action_path, first_label)
            elif not previous_ends_path:
                self.add_edge(previous, action_path, "next")
            self._explore(action_path, body, action_path, label_root=action_path, jump_label=str(action_type))
            previous = action_path
            previous_ends_path = str(action_type) in _PATH_ENDING_ACTIONS


def _branch_label(label_root: str, list_parent_path: str) -> str:
    """`.../decision/outputs/yes` -> `yes`; `.../cases[0]/case` -> `cases[0]/case`."""
    relative = list_parent_path[len(label_root) :].strip("/")
    relative = relative.removeprefix("outputs/")
    return relative or "start"


def build_structure(body: Mapping[str, Any], root_path: str) -> FlowStructure:
    builder = _StructureBuilder(root_path)
    builder.containers(body)
    startup = body.get("startUpTaskActions")
    if isinstance(startup, list):
        builder.startup_actions(startup)
    builder.container_bodies(body)

    start: str | None = None
    start_ref = next(
        (
            body[key]
            for key in ("startUpRef", "initialState", "startUpObject")
            if isinstance(body.get(key), str)
        ),
        None,
    )
    if isinstance(start_ref, str):
        start = builder.resolve(start_ref)
    elif isinstance(startup, list):
        start = STARTUP_NODE_ID

    # `*Ref` values in flow settings (error handling, ...) are entry points too.
    settings_entries: list[str] = []
    for key, value in body.items():
        if key in _ROOT_SKIPPED_KEYS:
            continue
        _collect_setting_refs(value, f"{root_path}/{key}", builder, settings_entries)

    dangling = builder.link_refs()
    if isinstance(start_ref, str) and start is None and "#" not in start_ref:
        dangling.append(DanglingRef(ref=start_ref, location=f"{root_path}/startUpRef"))
    entry_points = ([start] if start else []) + [entry for entry in settings_entries if entry != start]
    return FlowStructure(
        nodes=list(builder.nodes.values()),
        edges=builder.edges,
        start=start,
        entry_points=entry_points,
        dangling_refs=dangling,
    )


def _collect_setting_refs(value: object, path: str, builder: _StructureBuilder, entries: list[str]) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            if isinstance(child, str) and key.endswith("Ref"):
                target = builder.resolve(child)
                if target is not None and target not in entries:
                    entries.append(target)
            else:
                _collect_setting_refs(child, f"{path}/{key}", builder, entries)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _collect_setting_refs(item, f"{path}[{index}]", builder, entries)


def unreachable_containers(structure: FlowStructure) -> list[str]:
    """Tasks/states/menus/bots no entry point reaches; empty when the start is unknown."""
    if structure.start is None:
        return []
    reached = structure.reachable_from(structure.entry_points)
    return [
        node.id
        for node in structure.nodes
        if node.kind in CONTAINER_KINDS and node.kind is not NodeKind.STARTUP and node.id not in reached
    ]
