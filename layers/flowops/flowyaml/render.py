"""`render_minimal_flow_yaml`: the smallest Architect flow YAML that consumes given objects.

Used by the simulator's org generator so a generated flow's exported YAML names exactly the
objects its dependency records say it uses (export -> extract round-trips). Each reference
becomes the action Architect uses for it, in the shapes real exports have:

| kind | rendered as |
| --- | --- |
| QUEUE | `transferToAcd.targetQueue` (a `queueVariable` in flows that cannot transfer) |
| DATAACTION | `callData.category.<category>.dataAction.<name>` |
| COMMONMODULE | `callCommonModule.commonModule.<name>.ver_latestPublished` |
| BOT / DIGITALBOT | `callBotFlow.botFlow.<name>` / `callDigitalBotFlow.digitalBotFlow.<name>` |
| FLOW | `transferToFlow.targetFlow.name` (`transferToFlowSecure` for SECURECALLFLOW) |
| INQUEUEFLOW | `transferToAcd.overrideInQueueFlow.name` (queue left NOT_SET: no extra reference) |
| KNOWLEDGEBASE | `settingsKnowledge.<name>` (bot flows) |
| DATATABLE | `dataTableLookup.dataTable.<name>` |
| SCHEDULE | `evaluateSchedule...selectedSchedule.lit.name` |
| SCHEDULEGROUP / EMERGENCYGROUP | `evaluateScheduleGroup.scheduleGroup` / `.emergencyGroup` |
| USERPROMPT / SYSTEMPROMPT | `playAudio.audio.exp: ToAudio(Prompt.<name>)` / `PromptSystem.<name>` |
| SCRIPT | `setScreenPop.screenPopScript.<name>` |
| CONTACTLIST | `settingsOutboundCall.contactList` (outbound call flows) |
| WORKTYPE | top-level `worktype.name` (workitem flows) |
| SKILL, LANGUAGE, USER, GROUP, WRAPUPCODE | typed flow variables with a literal initial value |

The typed variables (`acdSkillVariable`, `languageSkillVariable`, `userVariable`,
`groupVariable`, `wrapupCodeVariable`) follow the `queueVariable` shape of real exports.

A FLOW reference's object type is decided by the flow it sits in (see
`transfer_target_object_type`), as it is when the YAML is read back.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from flowops.flowyaml.errors import FlowYamlError
from flowops.flowyaml.flow_types import KNOWN_YAML_KEYS, FlowTypeInfo, flow_type_info
from flowops.flowyaml.models import FlowReference, ReferenceKind

DEFAULT_DATA_ACTION_CATEGORY = "Genesys Cloud Data Actions"
_PROMPT_NAME = re.compile(r"^[A-Za-z_]\w*$")
_VARIABLE_TYPES: dict[ReferenceKind, str] = {
    ReferenceKind.SKILL: "acdSkill",
    ReferenceKind.LANGUAGE: "languageSkill",
    ReferenceKind.USER: "user",
    ReferenceKind.GROUP: "group",
    ReferenceKind.WRAPUPCODE: "wrapupCode",
}
_CANNOT_TRANSFER = frozenset({"workflow", "commonModule", "surveyInvite"})
_CAN_CALL_BOTS = frozenset(
    {"inboundCall", "inqueueCall", "outboundCall", "inboundShortMessage", "inboundChat"}
)


def render_minimal_flow_yaml(
    flow_type: str,
    name: str,
    references: Iterable[FlowReference],
    *,
    division: str | None = "Home",
    description: str | None = None,
) -> str:
    """Architect YAML for a flow named `name` of `flow_type` (`INBOUNDCALL`, `inboundCall`
    or `INBOUNDCALLFLOW`) that consumes `references`. Raises FlowYamlError for a flow type
    it does not know or a reference that flow type cannot hold."""
    info = flow_type_info(flow_type)
    if info is None:
        raise FlowYamlError(
            f"unknown flow type {flow_type!r}",
            hint=f"use a Genesys flow type or one of: {', '.join(KNOWN_YAML_KEYS)}",
        )
    ordered = sorted(references, key=lambda ref: (ref.kind.value, ref.name, ref.category or ""))
    body: dict[str, Any] = {"name": name}
    if description is not None:
        body["description"] = description
    if division is not None:
        body["division"] = division
    container_word, container_list, ref_id = _container_layout(info)
    if info.yaml_key != "commonModule":
        body["startUpRef"] = f"/{info.yaml_key}/{container_list}/{container_word}[{ref_id}]"
    body["defaultLanguage"] = "en-us"
    body["supportedLanguages"] = {"en-us": {"defaultLanguageSkill": {"noValue": True}}}

    actions: list[dict[str, Any]] = []
    variables: list[dict[str, Any]] = []
    for reference in ordered:
        _place(info, reference, body, actions, variables)
    if variables:
        body["variables"] = variables
    actions.append(_final_action(info))

    if info.yaml_key == "commonModule":
        body["settingsCommonModule"] = {"compatibleFlowTypes": [{"flowType": "inboundcall"}]}
        body["startUpTaskActions"] = actions
    else:
        container = {"name": ref_id.rsplit("_", 1)[0], "refId": ref_id, "actions": actions}
        body[container_list] = [{container_word: container}]
    document = {info.yaml_key: body}
    import yaml

    return yaml.dump(
        document,
        Dumper=_archy_style_dumper(),
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1000,
    )


@functools.cache
def _archy_style_dumper() -> type[Any]:
    """Built on first use: importing this module (every publish step does) needs no PyYAML."""
    import yaml

    class ArchyStyleDumper(yaml.SafeDumper):
        """Indents list items under their key, as Archy's exports do."""

        def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
            super().increase_indent(flow, False)

    return ArchyStyleDumper


def _container_layout(info: FlowTypeInfo) -> tuple[str, str, str]:
    if info.uses_bots:
        return "bot", "bots", "Default Bot_10"
    if info.uses_states:
        return "state", "states", "Initial State_10"
    return "task", "tasks", "Main Task_10"


def _final_action(info: FlowTypeInfo) -> dict[str, Any]:
    final = {
        "workflow": "endWorkflow",
        "workitem": "exitWorkitemFlow",
        "commonModule": "endTask",
        "botFlow": "exitBotFlow",
        "digitalBot": "exitBotFlow",
    }.get(info.yaml_key, "disconnect")
    return {final: {"name": "End"}}


def _unsupported(reference: FlowReference, info: FlowTypeInfo, why: str) -> FlowYamlError:
    return FlowYamlError(
        f"cannot render a {reference.kind.value} reference ({reference.name!r}) in a {info.yaml_key} flow",
        hint=why,
    )


def _place(
    info: FlowTypeInfo,
    reference: FlowReference,
    body: dict[str, Any],
    actions: list[dict[str, Any]],
    variables: list[dict[str, Any]],
) -> None:
    kind = reference.kind
    name = reference.name
    if kind is ReferenceKind.QUEUE:
        if info.yaml_key in _CANNOT_TRANSFER:
            variables.append(_variable("queue", f"Flow.Queue{len(variables) + 1}", name))
        else:
            actions.append(
                {"transferToAcd": {"name": f"Transfer to {name}", "targetQueue": {"lit": {"name": name}}}}
            )
    elif kind is ReferenceKind.DATAACTION:
        category = reference.category or DEFAULT_DATA_ACTION_CATEGORY
        actions.append(
            {"callData": {"name": f"Call {name}", "category": {category: {"dataAction": {name: {}}}}}}
        )
    elif kind is ReferenceKind.COMMONMODULE:
        if info.yaml_key == "commonModule":
            raise _unsupported(reference, info, "common modules cannot call other common modules")
        actions.append(
            {
                "callCommonModule": {
                    "name": f"Call {name}",
                    "commonModule": {name: {"ver_latestPublished": {"none": True}}},
                }
            }
        )
    elif kind in (ReferenceKind.BOT, ReferenceKind.DIGITALBOT):
        if info.yaml_key not in _CAN_CALL_BOTS:
            raise _unsupported(
                reference, info, f"only {', '.join(sorted(_CAN_CALL_BOTS))} flows call bot flows"
            )
        action, field = (
            ("callBotFlow", "botFlow")
            if kind is ReferenceKind.BOT
            else ("callDigitalBotFlow", "digitalBotFlow")
        )
        actions.append(
            {action: {"name": f"Call {name}", field: {name: {"ver_latestPublished": {"none": True}}}}}
        )
    elif kind is ReferenceKind.FLOW:
        _place_flow_transfer(info, reference, actions)
    elif kind is ReferenceKind.INQUEUEFLOW:
        if not (info.voice or info.messaging) or info.yaml_key in _CANNOT_TRANSFER:
            raise _unsupported(reference, info, "in-queue flows are chosen on ACD transfers")
        actions.append(
            {
                "transferToAcd": {
                    "name": f"Transfer with {name}",
                    "targetQueue": {"exp": "ToQueue(NOT_SET)"},
                    "overrideInQueueFlow": {"name": name},
                }
            }
        )
    elif kind is ReferenceKind.KNOWLEDGEBASE:
        if info.yaml_key not in ("botFlow", "digitalBot"):
            raise _unsupported(reference, info, "knowledge bases belong to bot flows")
        body.setdefault("settingsKnowledge", {})[name] = {}
    elif kind is ReferenceKind.DATATABLE:
        actions.append(
            {
                "dataTableLookup": {
                    "name": f"Look up {name}",
                    "lookupValue": {"lit": "key"},
                    "dataTable": {name: {}},
                }
            }
        )
    elif kind is ReferenceKind.SCHEDULE:
        actions.append(
            {
                "evaluateSchedule": {
                    "name": f"Evaluate {name}",
                    "evaluationType": {
                        "schedule": {"selectedSchedule": {"lit": {"name": name}}, "evaluate": {"now": True}}
                    },
                }
            }
        )
    elif kind in (ReferenceKind.SCHEDULEGROUP, ReferenceKind.EMERGENCYGROUP):
        group: dict[str, Any]
        if kind is ReferenceKind.SCHEDULEGROUP:
            group = {"scheduleGroup": {"lit": {"name": name}}, "emergencyGroup": {"noValue": True}}
        else:
            group = {
                "scheduleGroup": {"exp": "ToScheduleGroup(NOT_SET)"},
                "emergencyGroup": {"lit": {"name": name}},
            }
        actions.append(
            {"evaluateScheduleGroup": {"name": f"Evaluate {name}", "evaluate": {"now": True}, **group}}
        )
    elif kind in (ReferenceKind.USERPROMPT, ReferenceKind.SYSTEMPROMPT):
        if not (info.voice or info.yaml_key == "commonModule"):
            raise _unsupported(reference, info, "audio prompts play in call flows and common modules")
        if not _PROMPT_NAME.match(name):
            raise _unsupported(reference, info, "prompt names are letters, digits and underscores")
        prefix = "Prompt" if kind is ReferenceKind.USERPROMPT else "PromptSystem"
        actions.append({"playAudio": {"name": f"Play {name}", "audio": {"exp": f"ToAudio({prefix}.{name})"}}})
    elif kind is ReferenceKind.SCRIPT:
        if not (info.voice or info.messaging):
            raise _unsupported(reference, info, "screen pops exist in call and message flows")
        actions.append(
            {"setScreenPop": {"name": f"Screen pop {name}", "screenPopScript": {name: {"inputs": {}}}}}
        )
    elif kind is ReferenceKind.CONTACTLIST:
        settings = body.setdefault("settingsOutboundCall", {})
        if info.yaml_key != "outboundCall" or "contactList" in settings:
            raise _unsupported(reference, info, "one contact list, in an outbound call flow's settings")
        settings["contactList"] = {"lit": {"name": name}}
    elif kind is ReferenceKind.WORKTYPE:
        if info.yaml_key != "workitem" or "worktype" in body:
            raise _unsupported(reference, info, "one worktype, in a workitem flow")
        body["worktype"] = {"name": name}
    elif kind in _VARIABLE_TYPES:
        variable_type = _VARIABLE_TYPES[kind]
        variables.append(
            _variable(
                variable_type, f"Flow.{variable_type[0].upper()}{variable_type[1:]}{len(variables) + 1}", name
            )
        )
    else:
        raise _unsupported(reference, info, "there is no known Archy shape for it")


def _place_flow_transfer(info: FlowTypeInfo, reference: FlowReference, actions: list[dict[str, Any]]) -> None:
    secure = reference.object_type == "SECURECALLFLOW"
    if secure and not info.voice:
        raise _unsupported(reference, info, "secure flows are reached from call flows")
    if not (info.voice or info.messaging):
        raise _unsupported(reference, info, "flow transfers exist in call and message flows")
    action = "transferToFlowSecure" if secure else "transferToFlow"
    actions.append(
        {action: {"name": f"Transfer to {reference.name}", "targetFlow": {"name": reference.name}}}
    )


def _variable(variable_type: str, variable_name: str, object_name: str) -> dict[str, Any]:
    return {
        f"{variable_type}Variable": {"name": variable_name, "initialValue": {"lit": {"name": object_name}}}
    }
