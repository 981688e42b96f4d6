"""The ONE table of Genesys Cloud flow types and dependency-tracking object types.

The flows API names a flow's kind with a *flow type* (``INBOUNDCALL``); dependency tracking names
the same flow with an *object type* (``INBOUNDCALLFLOW``). The mapping is NOT a ``<TYPE>FLOW``
rule: ``WORKFLOW`` stays ``WORKFLOW``, and ``SPEECH`` has no object type at all (dependency
tracking has no ``SPEECHFLOW``; asking for one is a 400). A flow type without an object type is
skipped by the scan with a problem, as the Terraform provider skips the types it cannot map.

Checked against PureCloudPlatformClientV2 269.0.0 (``Flow.type`` and ``Dependency.type`` allowed
values; ``tests/unit/test_flowtypes.py`` holds both lists and fails when this table drifts from
them). Every module that needs a flow or object type reads it from here.
"""

from __future__ import annotations

from typing import Final

# Flow type (GET /api/v2/flows `type`) -> dependency-tracking object type, or None where the
# platform's Dependency.type enum has no object type for it.
FLOW_TYPE_TO_OBJECT_TYPE: Final[dict[str, str | None]] = {
    "BOT": "BOTFLOW",
    "BUSINESSPROCESS": "BUSINESSPROCESSFLOW",
    "COMMONMODULE": "COMMONMODULEFLOW",
    "DIGITALBOT": "DIGITALBOTFLOW",
    "EMAILSEND": "EMAILSENDFLOW",
    "INBOUNDCALL": "INBOUNDCALLFLOW",
    "INBOUNDCHAT": "INBOUNDCHATFLOW",
    "INBOUNDEMAIL": "INBOUNDEMAILFLOW",
    "INBOUNDSHORTMESSAGE": "INBOUNDSHORTMESSAGEFLOW",
    "INQUEUECALL": "INQUEUECALLFLOW",
    "INQUEUEEMAIL": "INQUEUEEMAILFLOW",
    "INQUEUESHORTMESSAGE": "INQUEUESHORTMESSAGEFLOW",
    "OUTBOUNDCALL": "OUTBOUNDCALLFLOW",
    "SECURECALL": "SECURECALLFLOW",
    "SPEECH": None,
    "SURVEYINVITE": "SURVEYINVITEFLOW",
    "VOICE": "VOICEFLOW",
    "VOICEMAIL": "VOICEMAILFLOW",
    "VOICESURVEY": "VOICESURVEYFLOW",
    "WORKFLOW": "WORKFLOW",
    "WORKITEM": "WORKITEMFLOW",
}

FLOW_TYPES: Final[tuple[str, ...]] = tuple(FLOW_TYPE_TO_OBJECT_TYPE)

OBJECT_TYPE_TO_FLOW_TYPE: Final[dict[str, str]] = {
    object_type: flow_type
    for flow_type, object_type in FLOW_TYPE_TO_OBJECT_TYPE.items()
    if object_type is not None
}
FLOW_OBJECT_TYPES: Final[frozenset[str]] = frozenset(OBJECT_TYPE_TO_FLOW_TYPE)

# Every dependency-tracking object type (Dependency.type / DependencyObject.type allowed values,
# SDK 269.0.0: 89 values). The scan asks for these minus the platform vocabulary below.
DEPENDENCY_OBJECT_TYPES: Final[frozenset[str]] = frozenset(
    {
        "ACDLANGUAGE", "ACDSKILL", "ACDWRAPUPCODE", "AGENTICVIRTUALAGENT", "AGENTICVIRTUALAGENTVERSION",
        "AUDIOCONNECTORBOT", "BOTCONNECTORBOT", "BOTCONNECTORINTEGRATION", "BOTFLOW", "BRIDGEACTION",
        "BUSINESSPROCESSFLOW", "COMMONMODULEFLOW", "COMPOSERSCRIPT", "CONTACTLIST",
        "CONVERSATIONCUSTOMATTRIBUTESCHEMA", "CONVERSATIONSUMMARYSETTING", "CUSTOMERSEGMENT", "DATAACTION",
        "DATATABLE", "DECISIONTABLE", "DIALOGENGINEBOT", "DIALOGENGINEBOTVERSION", "DIALOGFLOWAGENT",
        "DIALOGFLOWCXAGENT", "DIGITALAUDIO", "DIGITALBOTCONNECTOR", "DIGITALBOTCONNECTORINTEGRATION",
        "DIGITALBOTFLOW", "DIVISION", "EMAILROUTE", "EMAILSENDFLOW", "EMERGENCYGROUP", "FILE", "FLOWACTION",
        "FLOWDATATYPE", "FLOWMILESTONE", "FLOWOUTCOME", "GRAMMAR", "GROUP", "GUIDE", "GUIDEVERSION", "IMAGE",
        "INBOUNDCALLFLOW", "INBOUNDCHATFLOW", "INBOUNDEMAILFLOW", "INBOUNDSHORTMESSAGEFLOW",
        "INQUEUECALLFLOW", "INQUEUEEMAILFLOW", "INQUEUESHORTMESSAGEFLOW", "IVRCONFIGURATION",
        "KNOWLEDGEBASE", "KNOWLEDGEBASEDOCUMENT", "KNOWLEDGESETTING", "LANGUAGE", "LEXBOT", "LEXBOTALIAS",
        "LEXV2BOT", "LEXV2BOTALIAS", "NLUDOMAIN", "NUANCEMIXBOT", "NUANCEMIXINTEGRATION", "OAUTHCLIENT",
        "OUTBOUNDCALLFLOW", "QUEUE", "RECORDINGPOLICY", "RESPONSE", "RESPONSEASSET", "SCHEDULE",
        "SCHEDULEGROUP", "SECUREACTION", "SECURECALLFLOW", "SMSPHONENUMBER", "STTENGINE", "SURVEYFORM",
        "SURVEYINVITEFLOW", "SYSTEMPROMPT", "TTSENGINE", "TTSVOICE", "USER", "USERPROMPT",
        "UTILIZATIONLABEL", "VIDEO", "VOICEFLOW", "VOICEMAILFLOW", "VOICESURVEYFLOW", "WIDGET", "WORKFLOW",
        "WORKITEMFLOW", "WORKTYPE",
    }
)  # fmt: skip

# Platform vocabulary: what every flow "consumes" because Architect is built of it, not because
# someone configured it. A real call flow lists ~59 of these beside ~20 real dependencies; kept,
# they make a 2,000-flow lock ~20 MB and link every flow to every other (all share FLOWDATATYPE
# String). Reasons per type in docs/scan.md ("Which consumed resources are dependencies").
PLATFORM_VOCABULARY_TYPES: Final[frozenset[str]] = frozenset(
    {"FLOWACTION", "FLOWDATATYPE", "LANGUAGE", "STTENGINE", "TTSENGINE", "TTSVOICE"}
)

# The resource types a scan asks consumedresources for (`resourceType=`, repeated), sorted so the
# request is the same on every run.
SCANNED_RESOURCE_TYPES: Final[tuple[str, ...]] = tuple(
    sorted(DEPENDENCY_OBJECT_TYPES - PLATFORM_VOCABULARY_TYPES)
)

COMMON_MODULE_OBJECT_TYPE: Final = "COMMONMODULEFLOW"
DATA_ACTION_OBJECT_TYPE: Final = "DATAACTION"


def dependency_object_type(flow_type: str) -> str | None:
    """``INBOUNDCALL`` -> ``INBOUNDCALLFLOW``; None when dependency tracking has no type for it
    (``SPEECH``, or a flow type newer than this table: guessing would send the platform an
    object type it refuses)."""
    return FLOW_TYPE_TO_OBJECT_TYPE.get(flow_type.upper())


def flow_type_for_object_type(object_type: str) -> str | None:
    """``COMMONMODULEFLOW`` -> ``COMMONMODULE``; None when the object is not a flow (QUEUE, ...)."""
    return OBJECT_TYPE_TO_FLOW_TYPE.get(object_type.upper())


def is_flow_object_type(object_type: str) -> bool:
    """True when a dependency-tracking object type denotes an Architect flow."""
    return object_type.upper() in FLOW_OBJECT_TYPES


# Old name kept for the lock's callers: the object type of a flow type, or None.
flow_object_type = dependency_object_type
