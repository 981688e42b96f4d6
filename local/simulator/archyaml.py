"""Architect (Archy) YAML for stored flow versions that were generated rather than uploaded.

The document follows the shapes of the public Archy files in /work/shared/fixtures/archy-yaml:
the top-level key is the flow type (`inboundCall:`), objects are referenced BY NAME exactly where
Architect puts them (`transferToAcd.targetQueue.lit.name`, `callData.category.<c>.dataAction.<n>`,
`dataTableLookup.dataTable.<n>`, `callCommonModule.commonModule.<n>.ver_latestPublished`,
`transferToFlow.targetFlow.name`, `Prompt.<name>` in audio expressions, ...), so that the
reference extractor finds exactly the version's consumed resources.
"""

from __future__ import annotations

from typing import Any

import yaml

from local.simulator.model import Dependency, Flow, FlowVersion, Org

# Flow types whose Architect documents are organised in tasks (voice) or states (digital).
_TASK_FLOW_TYPES = frozenset({"INBOUNDCALL", "OUTBOUNDCALL", "SECURECALL", "VOICEMAIL", "VOICE", "BOT"})
_STARTUP_ACTION_FLOW_TYPES = frozenset({"COMMONMODULE", "INQUEUECALL", "INQUEUEEMAIL", "INQUEUESHORTMESSAGE"})


def _outputs(*paths: str) -> dict[str, Any]:
    return {path: {"actions": [{"disconnect": {"name": "Disconnect"}}]} for path in paths}


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
    actions = [a for i, d in enumerate(version.consumes) if (a := _action_for(org, d, i)) is not None]
    actions.append(
        {"disconnect": {"name": "Disconnect"}}
        if flow.flow_type != "COMMONMODULE"
        else {"endTask": {"name": "End"}}
    )
    body: dict[str, Any] = {
        "name": flow.name,
        "description": flow.description or f"{flow.name} (version {version.version_id})",
        "division": org.division_name,
        "defaultLanguage": "en-us",
        "supportedLanguages": {"en-us": {"defaultLanguageSkill": {"noValue": True}}},
    }
    key = flow.yaml_key
    if flow.flow_type in _STARTUP_ACTION_FLOW_TYPES:
        if flow.flow_type == "COMMONMODULE":
            body["settingsCommonModule"] = {"compatibleFlowTypes": ["inboundCall", "inboundShortMessage"]}
        body["startUpTaskActions"] = actions
    elif flow.flow_type in _TASK_FLOW_TYPES:
        body["startUpRef"] = f"/{key}/tasks/task[main]"
        body["initialGreeting"] = {"tts": f"Welcome to {flow.name}."}
        body["tasks"] = [{"task": {"name": "Main", "refId": "main", "actions": actions}}]
    else:
        body["startUpRef"] = f"/{key}/states/state[initial]"
        body["states"] = [{"state": {"name": "Initial State", "refId": "initial", "actions": actions}}]
    return yaml.safe_dump({key: body}, sort_keys=False, allow_unicode=True, width=1000)
