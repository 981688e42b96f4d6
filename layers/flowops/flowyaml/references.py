"""Find the objects an Architect flow refers to by name.

Architect YAML names other objects in a handful of shapes, all seen in real exports:

- `field: {lit: {name: X}}` for queues, schedules, emergency groups, contact lists, wrap-up
  codes, skills, languages, users, groups (`targetQueue`, `selectedSchedule`, ...), for typed
  variables (`queueVariable.initialValue`) and typed update statements (`- queue: {value}`);
- the object's name as a mapping KEY: `callData.category.<integration>.dataAction.<name>`,
  `callCommonModule.commonModule.<name>.ver_latestPublished`, `callBotFlow.botFlow.<name>`,
  `dataTableLookup.dataTable.<name>`, `setScreenPop.screenPopScript.<name>`;
- `transferToFlow(Secure).targetFlow.name`, `findQueue.findName.lit`, top-level
  `worktype.name` of workitem flows;
- prompts: `lit: {name: PromptSystem.x}` anywhere, the audio shorthand `prompt: Prompt.x` /
  `prompt: PromptSystem.x`, or `Prompt.x` / `PromptSystem.x` inside expressions; literal lookups
  `FindQueue("X")` inside expressions;
- `overrideInQueueFlow: {name: X}` on ACD transfers (the in-queue flow the call waits in);
- bot knowledge: `settingsKnowledge: {<knowledge base name>: {...}}` (or `knowledgeBase:` keyed
  by name, or `{lit: {name}}`); `settingsKnowledge: {none: true}` names nothing.

Find actions (`findQueue: {findName: {lit: X}}`, ...) name objects too, but Architect gives them
a `notFound` output: those references are `soft` (a missing object is a run-time path, not a
publish failure) unless the same object is also used directly elsewhere.

Anything picked at run time is reported as a `DynamicReference` with its expression.
`settingsActionDefaults` holds per-action-type SETTINGS keyed by action names (`callData`,
`transferToFlowSecure`): those keys are not actions and yield no action references.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowops.flowyaml.expressions import analyse_expression, is_not_set, string_literal_value
from flowops.flowyaml.flow_types import FlowTypeInfo
from flowops.flowyaml.models import DynamicReference, FlowReference, ReferenceKind

# field whose value is {lit: {name}} / {exp} -> kind
_REFERENCE_FIELDS: dict[str, ReferenceKind] = {
    "targetQueue": ReferenceKind.QUEUE,
    "queue": ReferenceKind.QUEUE,
    "selectedSchedule": ReferenceKind.SCHEDULE,
    "schedule": ReferenceKind.SCHEDULE,
    "scheduleGroup": ReferenceKind.SCHEDULEGROUP,
    "emergencyGroup": ReferenceKind.EMERGENCYGROUP,
    "contactList": ReferenceKind.CONTACTLIST,
    "wrapupCode": ReferenceKind.WRAPUPCODE,
    "acdSkill": ReferenceKind.SKILL,
    "skill": ReferenceKind.SKILL,
    "languageSkill": ReferenceKind.LANGUAGE,
    "targetUser": ReferenceKind.USER,
    "user": ReferenceKind.USER,
    "targetGroup": ReferenceKind.GROUP,
    "group": ReferenceKind.GROUP,
    "knowledgeBase": ReferenceKind.KNOWLEDGEBASE,
    "defaultLanguageSkill": ReferenceKind.LANGUAGE,
}

# `<type>Variable.initialValue` and update statements `- <type>: {variable, value}`
_TYPED_VALUE_KINDS: dict[str, ReferenceKind] = {
    "queue": ReferenceKind.QUEUE,
    "acdSkill": ReferenceKind.SKILL,
    "skill": ReferenceKind.SKILL,
    "languageSkill": ReferenceKind.LANGUAGE,
    "language": ReferenceKind.LANGUAGE,
    "user": ReferenceKind.USER,
    "group": ReferenceKind.GROUP,
    "schedule": ReferenceKind.SCHEDULE,
    "scheduleGroup": ReferenceKind.SCHEDULEGROUP,
    "emergencyGroup": ReferenceKind.EMERGENCYGROUP,
    "wrapupCode": ReferenceKind.WRAPUPCODE,
}

# field whose KEYS are object names
_NAME_KEYED_FIELDS: dict[str, ReferenceKind] = {
    "commonModule": ReferenceKind.COMMONMODULE,
    "botFlow": ReferenceKind.BOT,
    "digitalBotFlow": ReferenceKind.DIGITALBOT,
    "dataTable": ReferenceKind.DATATABLE,
    "screenPopScript": ReferenceKind.SCRIPT,
}

_DATA_ACTION_ACTIONS = frozenset({"callData", "callDataSecure"})
_FLOW_TRANSFER_ACTIONS = frozenset({"transferToFlow", "transferToFlowSecure"})
_FIND_BY_NAME_ACTIONS: dict[str, ReferenceKind] = {
    "findQueue": ReferenceKind.QUEUE,
    "findSkill": ReferenceKind.SKILL,
    "findLanguageSkill": ReferenceKind.LANGUAGE,
    "findUser": ReferenceKind.USER,
    "findGroup": ReferenceKind.GROUP,
    "findSchedule": ReferenceKind.SCHEDULE,
    "findScheduleGroup": ReferenceKind.SCHEDULEGROUP,
    "findEmergencyGroup": ReferenceKind.EMERGENCYGROUP,
    "findUserPrompt": ReferenceKind.USERPROMPT,
    "findSystemPrompt": ReferenceKind.SYSTEMPROMPT,
}
_FIND_BY_ID_ACTIONS: dict[str, ReferenceKind] = {
    "findQueueById": ReferenceKind.QUEUE,
    "findUserById": ReferenceKind.USER,
    "findGroupById": ReferenceKind.GROUP,
    "findSkillById": ReferenceKind.SKILL,
}

# The in-queue flow an ACD transfer overrides, by the media of the flow the transfer is in.
_IN_QUEUE_OBJECT_TYPE_BY_KEY: dict[str, str] = {
    "inboundShortMessage": "INQUEUESHORTMESSAGEFLOW",
    "inqueueShortMessage": "INQUEUESHORTMESSAGEFLOW",
    "inboundEmail": "INQUEUEEMAILFLOW",
    "inqueueEmail": "INQUEUEEMAILFLOW",
}
_IN_QUEUE_OVERRIDE = "overrideInQueueFlow"
_KNOWLEDGE_SETTINGS = "settingsKnowledge"
# Keys of `settingsKnowledge` that are settings, not knowledge base names.
_KNOWLEDGE_SETTING_KEYS = frozenset({"none", "knowledgeBase", "enabled", "confidenceThreshold"})
_AUDIO_PROMPT_KEYS = frozenset({"prompt", "audioPrompt"})

_SYSTEM_PROMPT_PREFIX = "PromptSystem."
_USER_PROMPT_PREFIX = "Prompt."
_SETTINGS_ACTION_DEFAULTS = "settingsActionDefaults"


def transfer_target_object_type(action: str, flow: FlowTypeInfo) -> str:
    """Dependency-tracking type of the flow a transfer action goes to.

    A secure transfer always targets a secure call flow. A plain `transferToFlow` stays on
    the media of the flow it is in: call flows transfer to inbound call flows, message flows
    to inbound message flows, and so on. Where Architect does not pin it down: `FLOW`.
    """
    if action == "transferToFlowSecure":
        return "SECURECALLFLOW"
    if flow.voice:
        return "INBOUNDCALLFLOW"
    by_media = {
        "inboundShortMessage": "INBOUNDSHORTMESSAGEFLOW",
        "inqueueShortMessage": "INBOUNDSHORTMESSAGEFLOW",
        "inboundChat": "INBOUNDCHATFLOW",
        "inboundEmail": "INBOUNDEMAILFLOW",
        "inqueueEmail": "INBOUNDEMAILFLOW",
    }
    return by_media.get(flow.yaml_key, "FLOW")


def name_text(value: object) -> str | None:
    """An object name as text; YAML may have read `name: 2024` as a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        text = str(value)
        return text if text.strip() else None
    return None


class ReferenceCollector:
    """Walks a flow body and gathers literal and dynamic references, deduplicated."""

    def __init__(self, flow: FlowTypeInfo) -> None:
        self._flow = flow
        self._found: dict[tuple[str, str, str, str], FlowReference] = {}
        self._locations: dict[tuple[str, str, str, str], list[str]] = {}
        self._hard: set[tuple[str, str, str, str]] = set()
        self._dynamic: dict[tuple[str, str, str], DynamicReference] = {}

    # results -----------------------------------------------------------------------------
    def references(self) -> list[FlowReference]:
        result = [
            reference.model_copy(
                update={"locations": sorted(set(self._locations[key])), "soft": key not in self._hard}
            )
            for key, reference in self._found.items()
        ]
        return sorted(result, key=lambda ref: (ref.kind.value, ref.name, ref.category or "", ref.object_type))

    def dynamic_references(self) -> list[DynamicReference]:
        return sorted(self._dynamic.values(), key=lambda ref: (ref.location, ref.kind.value, ref.expression))

    # recording ---------------------------------------------------------------------------
    def add(
        self,
        kind: ReferenceKind,
        name: str,
        location: str,
        *,
        object_type: str = "",
        category: str | None = None,
        soft: bool = False,
    ) -> None:
        reference = FlowReference(kind=kind, name=name, object_type=object_type, category=category)
        key = reference.identity
        self._found.setdefault(key, reference)
        self._locations.setdefault(key, []).append(location)
        if not soft:
            self._hard.add(key)

    def add_dynamic(self, kind: ReferenceKind, expression: str, location: str) -> None:
        self._dynamic.setdefault(
            (location, kind.value, expression),
            DynamicReference(kind=kind, expression=expression, location=location),
        )

    # walking -----------------------------------------------------------------------------
    def collect(self, body: Mapping[str, Any], root_path: str) -> None:
        worktype = body.get("worktype")
        if isinstance(worktype, Mapping) and (name := name_text(worktype.get("name"))):
            self.add(ReferenceKind.WORKTYPE, name, f"{root_path}/worktype")
        knowledge = body.get(_KNOWLEDGE_SETTINGS)
        if isinstance(knowledge, Mapping):
            self._knowledge(knowledge, f"{root_path}/{_KNOWLEDGE_SETTINGS}")
        self._visit_mapping(body, root_path, parent_key=None)

    def _visit(self, value: object, path: str, parent_key: str | None) -> None:
        if isinstance(value, Mapping):
            self._visit_mapping(value, path, parent_key)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                item_path, wrapped = list_item_path(path, item, index)
                if wrapped is not None:
                    # An Archy item with a refId: the path already names its wrapper key.
                    self._visit_entry(wrapped[0], wrapped[1], item_path, parent_key)
                else:
                    self._visit(item, item_path, parent_key)

    def _visit_mapping(self, mapping: Mapping[str, Any], path: str, parent_key: str | None) -> None:
        self._literal_prompt(mapping, path)
        self._audio_shorthand(mapping, path)
        expression = mapping.get("exp")
        if isinstance(expression, str):
            self._expression(expression, path, field_kind=_REFERENCE_FIELDS.get(parent_key or ""))
        for key, value in mapping.items():
            self._visit_entry(key, value, f"{path}/{key}", parent_key)

    def _visit_entry(self, key: str, value: object, key_path: str, parent_key: str | None) -> None:
        if isinstance(value, Mapping):
            if parent_key != _SETTINGS_ACTION_DEFAULTS:
                self._action(key, value, key_path)
            self._field(key, value, key_path)
        self._visit(value, key_path, key)

    def _literal_prompt(self, mapping: Mapping[str, Any], path: str) -> None:
        literal = mapping.get("lit")
        if not isinstance(literal, Mapping):
            return
        name = name_text(literal.get("name"))
        if name is None:
            return
        if name.startswith(_SYSTEM_PROMPT_PREFIX):
            self.add(ReferenceKind.SYSTEMPROMPT, name.removeprefix(_SYSTEM_PROMPT_PREFIX), path)
        elif name.startswith(_USER_PROMPT_PREFIX):
            self.add(ReferenceKind.USERPROMPT, name.removeprefix(_USER_PROMPT_PREFIX), path)

    def _audio_shorthand(self, mapping: Mapping[str, Any], path: str) -> None:
        """`prompt: PromptSystem.x` / `prompt: Prompt.x`: Archy's short form of an audio prompt."""
        for key in _AUDIO_PROMPT_KEYS:
            value = mapping.get(key)
            if not isinstance(value, str):
                continue
            text, where = value.strip(), f"{path}/{key}"
            if text.startswith(_SYSTEM_PROMPT_PREFIX):
                self.add(ReferenceKind.SYSTEMPROMPT, text.removeprefix(_SYSTEM_PROMPT_PREFIX), where)
            elif text.startswith(_USER_PROMPT_PREFIX):
                self.add(ReferenceKind.USERPROMPT, text.removeprefix(_USER_PROMPT_PREFIX), where)

    def _knowledge(self, settings: Mapping[str, Any], path: str) -> None:
        """Knowledge bases a bot flow answers from, named as keys of `settingsKnowledge`."""
        for key, value in settings.items():
            if key in _KNOWLEDGE_SETTING_KEYS or not isinstance(value, Mapping):
                continue
            if name := name_text(key):
                self.add(ReferenceKind.KNOWLEDGEBASE, name, f"{path}/{key}")
        named = settings.get("knowledgeBase")
        if isinstance(named, Mapping) and "lit" not in named and "exp" not in named:
            for key, value in named.items():
                if isinstance(value, Mapping) and (name := name_text(key)):
                    self.add(ReferenceKind.KNOWLEDGEBASE, name, f"{path}/knowledgeBase/{key}")

    def _expression(self, expression: str, path: str, field_kind: ReferenceKind | None) -> None:
        findings = analyse_expression(expression)
        for found in findings.literal:
            self.add(found.kind, found.name, path)
        for kind in findings.dynamic_kinds:
            self.add_dynamic(kind, expression, path)
        if field_kind is None or findings.has_lookup or is_not_set(expression):
            return
        literal_text = string_literal_value(expression)
        if literal_text is not None:
            self.add(field_kind, literal_text, path)
        elif not any(found.kind is field_kind for found in findings.literal):
            self.add_dynamic(field_kind, expression, path)

    def _field(self, key: str, value: Mapping[str, Any], path: str) -> None:
        kind = _REFERENCE_FIELDS.get(key)
        if kind is not None:
            self._lit_name(kind, value, path)
        # `- queue: {variable: ..., value: {lit: {name: X}}}` inside updateData statements
        statement_kind = _TYPED_VALUE_KINDS.get(key)
        if statement_kind is not None and "variable" in value and isinstance(value.get("value"), Mapping):
            self._typed_value(statement_kind, value["value"], f"{path}/value")
        if key.endswith("Variable") and isinstance(value.get("initialValue"), Mapping):
            variable_kind = _TYPED_VALUE_KINDS.get(key.removesuffix("Variable"))
            if variable_kind is not None:
                self._typed_value(variable_kind, value["initialValue"], f"{path}/initialValue")
        if key == _IN_QUEUE_OVERRIDE:
            self._in_queue_override(value, path)
        keyed_kind = _NAME_KEYED_FIELDS.get(key)
        if keyed_kind is not None:
            for object_name in value:
                if name := name_text(object_name):
                    self.add(keyed_kind, name, path)

    def _lit_name(self, kind: ReferenceKind, value: Mapping[str, Any], path: str) -> None:
        literal = value.get("lit")
        if isinstance(literal, Mapping):
            name = name_text(literal.get("name"))
            if name is not None and not name.startswith((_SYSTEM_PROMPT_PREFIX, _USER_PROMPT_PREFIX)):
                self.add(kind, name, path)

    def _typed_value(self, kind: ReferenceKind, value: Mapping[str, Any], path: str) -> None:
        self._lit_name(kind, value, path)
        expression = value.get("exp")
        if isinstance(expression, str):
            # Reported here with the variable's type; `_visit_mapping` will still pick up
            # literal lookups inside it, which deduplicate.
            findings = analyse_expression(expression)
            if not findings.has_lookup and not is_not_set(expression):
                literal_text = string_literal_value(expression)
                if literal_text is not None:
                    self.add(kind, literal_text, path)

    def _action(self, action: str, body: Mapping[str, Any], path: str) -> None:
        if action in _DATA_ACTION_ACTIONS:
            categories = body.get("category")
            if isinstance(categories, Mapping):
                for category, category_body in categories.items():
                    if not isinstance(category_body, Mapping):
                        continue
                    actions = category_body.get("dataAction")
                    if not isinstance(actions, Mapping):
                        continue
                    for action_name in actions:
                        if name := name_text(action_name):
                            self.add(ReferenceKind.DATAACTION, name, path, category=name_text(category))
        elif action in _FLOW_TRANSFER_ACTIONS:
            self._flow_transfer(action, body, path)
        elif action in _FIND_BY_NAME_ACTIONS:
            self._find_action(_FIND_BY_NAME_ACTIONS[action], body.get("findName"), f"{path}/findName")
        elif action in _FIND_BY_ID_ACTIONS:
            find_id = body.get("findId")
            if isinstance(find_id, Mapping):
                expression = find_id.get("exp")
                literal = find_id.get("lit")
                if isinstance(expression, str):
                    self.add_dynamic(_FIND_BY_ID_ACTIONS[action], expression, f"{path}/findId")
                elif (text := name_text(literal)) is not None:
                    self.add_dynamic(_FIND_BY_ID_ACTIONS[action], f"id {text}", f"{path}/findId")

    def _flow_transfer(self, action: str, body: Mapping[str, Any], path: str) -> None:
        target = body.get("targetFlow")
        object_type = transfer_target_object_type(action, self._flow)
        if not isinstance(target, Mapping):
            return
        name = name_text(target.get("name"))
        literal = target.get("lit")
        if name is None and isinstance(literal, Mapping):
            name = name_text(literal.get("name"))
        if name is not None:
            self.add(ReferenceKind.FLOW, name, f"{path}/targetFlow", object_type=object_type)
        elif isinstance(target.get("exp"), str):
            self.add_dynamic(ReferenceKind.FLOW, str(target["exp"]), f"{path}/targetFlow")

    def _in_queue_override(self, value: Mapping[str, Any], path: str) -> None:
        object_type = _IN_QUEUE_OBJECT_TYPE_BY_KEY.get(self._flow.yaml_key, "INQUEUECALLFLOW")
        name = name_text(value.get("name"))
        literal = value.get("lit")
        if name is None and isinstance(literal, Mapping):
            name = name_text(literal.get("name"))
        if name is not None:
            self.add(ReferenceKind.INQUEUEFLOW, name, path, object_type=object_type)
        elif isinstance(value.get("exp"), str) and not is_not_set(str(value["exp"])):
            self.add_dynamic(ReferenceKind.INQUEUEFLOW, str(value["exp"]), path)

    def _find_action(self, kind: ReferenceKind, find_name: object, path: str) -> None:
        # Find actions have a notFound output: what they name is a soft reference.
        if not isinstance(find_name, Mapping):
            return
        literal = name_text(find_name.get("lit"))
        if literal is not None:
            self.add(kind, literal, path, soft=True)
            return
        expression = find_name.get("exp")
        if isinstance(expression, str) and not is_not_set(expression):
            literal_text = string_literal_value(expression)
            if literal_text is not None:
                self.add(kind, literal_text, path, soft=True)
            else:
                self.add_dynamic(kind, expression, path)


def list_item_path(path: str, item: object, index: int) -> tuple[str, tuple[str, Mapping[str, Any]] | None]:
    """Path of a list item, and the (key, body) of an Archy item that has a refId.

    Items with a refId get `tasks/task[<refId>]` (the form Archy's own `*Ref` values use);
    other items get `actions[3]`.
    """
    if isinstance(item, Mapping) and len(item) == 1:
        ((key, inner),) = item.items()
        if isinstance(inner, Mapping) and (ref_id := name_text(inner.get("refId"))) is not None:
            return f"{path}/{key}[{ref_id}]", (str(key), inner)
    return f"{path}[{index}]", None
