"""Genesys Cloud flow types and dependency-tracking object types, as the lock needs them.

The flows API names a flow's kind with a *flow type* (``INBOUNDCALL``); dependency tracking
names the same flow with an *object type* (``INBOUNDCALLFLOW``). The lock stores both, and
the graph needs to know which consumed objects are flows (flows are deployed, queues are not).
"""

from __future__ import annotations

from typing import Final

FLOW_TYPE_TO_OBJECT_TYPE: Final[dict[str, str]] = {
    "BOT": "BOTFLOW",
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
    "SPEECH": "SPEECHFLOW",
    "SURVEYINVITE": "SURVEYINVITEFLOW",
    "VOICE": "VOICEFLOW",
    "VOICEMAIL": "VOICEMAILFLOW",
    "VOICESURVEY": "VOICESURVEYFLOW",
    "WORKFLOW": "WORKFLOW",
    "WORKITEM": "WORKITEMFLOW",
}

FLOW_OBJECT_TYPES: Final[frozenset[str]] = frozenset(FLOW_TYPE_TO_OBJECT_TYPE.values())

COMMON_MODULE_OBJECT_TYPE: Final = "COMMONMODULEFLOW"
DATA_ACTION_OBJECT_TYPE: Final = "DATAACTION"


def flow_object_type(flow_type: str) -> str:
    """Dependency-tracking object type of a flow type (``INBOUNDCALL`` → ``INBOUNDCALLFLOW``).

    Flow types added by Genesys after this table was written follow the documented naming
    rule (type + ``FLOW``), so an unknown flow type maps by that rule rather than failing.
    """
    upper = flow_type.upper()
    return FLOW_TYPE_TO_OBJECT_TYPE.get(upper, upper if upper.endswith("FLOW") else f"{upper}FLOW")


def is_flow_object_type(object_type: str) -> bool:
    """True when a dependency-tracking object type denotes an Architect flow.

    Every flow object type ends in ``FLOW`` (``WORKFLOW`` included); no non-flow object type
    among the 86 dependency-tracking types does, so the suffix covers flow types newer than
    the table above.
    """
    upper = object_type.upper()
    return upper in FLOW_OBJECT_TYPES or upper.endswith("FLOW")
