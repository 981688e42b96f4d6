"""Architect (Archy) YAML for stored flow versions that were generated rather than uploaded.

The document follows the shapes of real exports (the public Archy files in
/work/shared/fixtures/archy-yaml): the top-level key is the flow type (`inboundCall:`); call flows
are organised in `tasks` and end with `disconnect`; message flows, workflows and workitem flows
in `states` (ending with `disconnect`, `endWorkflow`, `disconnectWorkitem`); bot flows in
`bots:` ending with `exitBotFlow`; common modules and in-queue flows in `startUpTaskActions`
(modules end with `endTask` and list `compatibleFlowTypes` as `- flowType: x`). Objects are
referenced BY NAME exactly where Architect puts them (`transferToAcd.targetQueue.lit.name`,
`callData.category.<c>.dataAction.<n>`, `dataTableLookup.dataTable.<n>`,
`callCommonModule.commonModule.<n>.ver_latestPublished`, `transferToFlow.targetFlow.name`,
`Prompt.<name>` in audio expressions, ...); where a flow type has no such action (a workflow
cannot transfer to ACD, a bot cannot evaluate a schedule group) the object is the literal initial
value of a typed flow variable (`queueVariable`, as real exports have), so that the reference
extractor finds exactly the version's consumed resources.
"""

from __future__ import annotations

from typing import Any

import yaml

from flowops.local.simulator.model import Dependency, Flow, FlowVersion, Org

# Flow types whose Architect documents are organised in tasks (voice), bots, start-up actions or
# states (everything else).
_TASK_FLOW_TYPES = frozenset(
    {"INBOUNDCALL", "OUTBOUNDCALL", "SECURECALL", "VOICEMAIL", "VOICE", "VOICESURVEY"}
)
_BOT_FLOW_TYPES = frozenset({"BOT", "DIGITALBOT"})
_STARTUP_ACTION_FLOW_TYPES = frozenset({"COMMONMODULE", "INQUEUECALL", "INQUEUEEMAIL", "INQUEUESHORTMESSAGE"})
# Flow types without ACD transfers, schedule evaluation or audio: objects become typed variables.
_VARIABLE_ONLY_FLOW_TYPES = frozenset({"WORKFLOW", "WORKITEM", "SURVEYINVITE", "BOT", "DIGITALBOT"})
_VARIABLE_TYPES = {
    "QUEUE": "queue",
    "ACDSKILL": "acdSkill",
    "SCHEDULE": "schedule",
    "SCHEDULEGROUP": "scheduleGroup",
}
_END_ACTIONS = {
    "COMMONMODULE": {"endTask": {"name": "End Task"}},
    "WORKFLOW": {"endWorkflow": {"name": "End Workflow"}},
    "SURVEYINVITE": {"endWorkflow": {"name": "End Workflow"}},
    "WORKITEM": {"disconnectWorkitem": {"name": "Disconnect Workitem"}},
    "BOT": {"exitBotFlow": {"name": "Exit Bot Flow"}},
    "DIGITALBOT": {"exitBotFlow": {"name": "Exit Bot Flow"}},
}
_COMPATIBLE_WITH_MODULES = ("inboundcall", "inboundshortmessage", "inboundemail", "workflow")


def _outputs(*paths: str) -> dict[str, Any]:
    return {path: {"actions": [{"disconnect": {"name": "Disconnect"}}]} for path in paths}


def _variable_for(org: Org, flow: Flow, dependency: Dependency, index: int) -> dict[str, Any] | None:
    described = org.describe(dependency.id)
    if flow.flow_type not in _VARIABLE_ONLY_FLOW_TYPES or described is None:
        return None
    name, object_type, _deleted = described
    variable_type = _VARIABLE_TYPES.get(object_type)
    if variable_type is None:
        return None
    variable = f"Flow.{variable_type[0].upper()}{variable_type[1:]}{index + 1}"
    return {f"{variable_type}Variable": {"name": variable, "initialValue": {"lit": {"name": name}}}}


def _action_for(org: Org, dependency: Dependency, index: int) -> dict[str, Any] | None:
    described = org.describe(dependency.id)
    if described is None:
        return None
    name, object_type, _deleted = described
    if object_type == "QUEUE":
        return {
            "transferToAcd": {
                "name": f"Transfer to {name}",
                "targetQueue": {"lit": {"name": name}},
                "preTransferAudio": {"tts": "Please hold while we connect you."},
                "failureTransferAudio": {"tts": "Sorry, the transfer failed."},
                "priority": {"lit": 0},
                "preferredAgents": {"noValue": True},
                "languageSkill": {"noValue": True},
            }
        }
    if object_type == "DATAACTION":
        category = org.objects[dependency.id].category or "Web Services Data Actions"
        return {
            "callData": {
                "name": f"Call {name}",
                "timeout": {"lit": {"minutes": 1}},
                "category": {category: {"dataAction": {name: {"inputs": {}, "successOutputs": {}}}}},
                "outputs": _outputs("success", "failure", "timeout"),
            }
        }
    if object_type == "DATATABLE":
        return {
            "dataTableLookup": {
                "name": f"Look up {name}",
                "lookupValue": {"exp": "Call.Ani"},
                "dataTable": {
                    name: {
                        "failureOutputs": {"errorType": {"noValue": True}, "errorMessage": {"noValue": True}}
                    }
                },
                "outputs": _outputs("found", "notFound", "failure"),
            }
        }
    if object_type == "USERPROMPT":
        return {
            "playAudio": {
                "name": f"Play {name}",
                "audio": {"exp": f"AudioPlaybackOptions(ToAudio(Prompt.{name}), true)"},
            }
        }
    if object_type == "SCHEDULE":
        return {
            "evaluateSchedule": {
                "name": f"Evaluate {name}",
                "evaluationType": {
                    "schedule": {
                        "selectedSchedule": {"lit": {"name": name}},
                        "evaluationTimeZone": "America/Chicago",
                        "evaluate": {"now": True},
                    }
                },
                "outputs": _outputs("active", "inactive"),
            }
        }
    if object_type == "SCHEDULEGROUP":
        return {
            "evaluateScheduleGroup": {
                "name": f"Evaluate {name}",
                "evaluate": {"now": True},
                "scheduleGroup": {"lit": {"name": name}},
                "outputs": _outputs("open", "closed", "holiday"),
            }
        }
    if object_type == "ACDSKILL":
        return {
            "transferToAcd": {
                "name": f"Transfer with skill {name}",
                "targetQueue": {"noValue": True},
                "acdSkills": [{"acdSkill": {"lit": {"name": name}}}],
            }
        }
    if object_type == "COMMONMODULEFLOW":
        return {
            "callCommonModule": {
                "name": f"Call {name}",
                "commonModule": {name: {"ver_latestPublished": {"inputs": {}, "outputs": {}}}},
            }
        }
    if object_type == "BOTFLOW":
        return {
            "callBotFlow": {
                "name": f"Call {name}",
                "botFlow": {name: {"ver_latestPublished": {"inputs": {}, "outputs": {}}}},
            }
        }
    if object_type == "DIGITALBOTFLOW":
        return {
            "callDigitalBotFlow": {
                "name": f"Call {name}",
                "digitalBotFlow": {name: {"ver_latestPublished": {"none": True}}},
            }
        }
    if object_type == "SECURECALLFLOW":
        return {"transferToFlowSecure": {"name": f"Secure transfer to {name}", "targetFlow": {"name": name}}}
    if object_type.endswith("FLOW") or object_type == "WORKFLOW":
        return {"transferToFlow": {"name": f"Transfer to {name} ({index})", "targetFlow": {"name": name}}}
    return None


def render_flow_yaml(org: Org, flow: Flow, version: FlowVersion) -> str:
    """The Architect YAML of one stored version (its uploaded text when there is one)."""
    if version.yaml_text is not None:
        return version.yaml_text
    variables: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for index, dependency in enumerate(version.consumes):
        variable = _variable_for(org, flow, dependency, index)
        if variable is not None:
            variables.append(variable)
        elif (action := _action_for(org, dependency, index)) is not None:
            actions.append(action)
    actions.append(_END_ACTIONS.get(flow.flow_type, {"disconnect": {"name": "Disconnect"}}))
    body: dict[str, Any] = {
        "name": flow.name,
        "description": flow.description or f"{flow.name} (version {version.version_id})",
        "division": org.division_name,
        "defaultLanguage": "en-us",
        "supportedLanguages": {"en-us": {"defaultLanguageSkill": {"noValue": True}}},
    }
    if variables:
        body["variables"] = variables
    key = flow.yaml_key
    if flow.flow_type in _STARTUP_ACTION_FLOW_TYPES:
        if flow.flow_type == "COMMONMODULE":
            body["settingsCommonModule"] = {
                "compatibleFlowTypes": [{"flowType": flow_type} for flow_type in _COMPATIBLE_WITH_MODULES]
            }
        body["startUpTaskActions"] = actions
    elif flow.flow_type in _TASK_FLOW_TYPES:
        body["startUpRef"] = f"/{key}/tasks/task[main]"
        body["initialGreeting"] = {"tts": f"Welcome to {flow.name}."}
        body["tasks"] = [{"task": {"name": "Main", "refId": "main", "actions": actions}}]
    elif flow.flow_type in _BOT_FLOW_TYPES:
        body["startUpRef"] = f"/{key}/bots/bot[main]"
        body["bots"] = [{"bot": {"name": "Main", "refId": "main", "actions": actions}}]
    else:
        body["startUpRef"] = f"/{key}/states/state[initial]"
        body["states"] = [{"state": {"name": "Initial State", "refId": "initial", "actions": actions}}]
    return yaml.safe_dump({key: body}, sort_keys=False, allow_unicode=True, width=1000)
