"""Flow type (as `/api/v2/flows` reports it) <-> dependency-tracking object type.

Dependency tracking names flows by object type (INBOUNDCALLFLOW, COMMONMODULEFLOW, ...),
while the flows API uses flow types (INBOUNDCALL, COMMONMODULE, ...). Two flow types have no
dependency-tracking object type (SPEECH, EMAILSEND): `dependency_object_type` returns None
for them and for any flow type the platform adds later.
"""

from __future__ import annotations

from collections.abc import Mapping

FLOW_TYPES: tuple[str, ...] = (
    "INBOUNDCALL",
    "INQUEUECALL",
    "OUTBOUNDCALL",
    "INBOUNDCHAT",
    "INBOUNDEMAIL",
    "INBOUNDSHORTMESSAGE",
    "COMMONMODULE",
    "WORKFLOW",
    "WORKITEM",
    "BOT",
    "DIGITALBOT",
    "SECURECALL",
    "SURVEYINVITE",
    "SPEECH",
    "VOICE",
    "VOICEMAIL",
    "INQUEUEEMAIL",
    "INQUEUESHORTMESSAGE",
    "VOICESURVEY",
    "EMAILSEND",
)

DEPENDENCY_OBJECT_TYPE_BY_FLOW_TYPE: Mapping[str, str] = {
    "INBOUNDCALL": "INBOUNDCALLFLOW",
    "INQUEUECALL": "INQUEUECALLFLOW",
    "OUTBOUNDCALL": "OUTBOUNDCALLFLOW",
    "INBOUNDCHAT": "INBOUNDCHATFLOW",
    "INBOUNDEMAIL": "INBOUNDEMAILFLOW",
    "INBOUNDSHORTMESSAGE": "INBOUNDSHORTMESSAGEFLOW",
    "COMMONMODULE": "COMMONMODULEFLOW",
    "WORKFLOW": "WORKFLOW",
    "WORKITEM": "WORKITEMFLOW",
    "BOT": "BOTFLOW",
    "DIGITALBOT": "DIGITALBOTFLOW",
    "SECURECALL": "SECURECALLFLOW",
    "SURVEYINVITE": "SURVEYINVITEFLOW",
    "VOICE": "VOICEFLOW",
    "VOICEMAIL": "VOICEMAILFLOW",
    "INQUEUEEMAIL": "INQUEUEEMAILFLOW",
    "INQUEUESHORTMESSAGE": "INQUEUESHORTMESSAGEFLOW",
    "VOICESURVEY": "VOICESURVEYFLOW",
}

FLOW_TYPE_BY_DEPENDENCY_OBJECT_TYPE: Mapping[str, str] = {
    object_type: flow_type for flow_type, object_type in DEPENDENCY_OBJECT_TYPE_BY_FLOW_TYPE.items()
}


def dependency_object_type(flow_type: str) -> str | None:
    """`INBOUNDCALL` -> `INBOUNDCALLFLOW`; None when dependency tracking has no such type."""
    return DEPENDENCY_OBJECT_TYPE_BY_FLOW_TYPE.get(flow_type.upper())


def flow_type_for_object_type(object_type: str) -> str | None:
    """`COMMONMODULEFLOW` -> `COMMONMODULE`; None when the object is not a flow (QUEUE, ...)."""
    return FLOW_TYPE_BY_DEPENDENCY_OBJECT_TYPE.get(object_type.upper())


def is_flow_object_type(object_type: str) -> bool:
    return object_type.upper() in FLOW_TYPE_BY_DEPENDENCY_OBJECT_TYPE
