"""Architect YAML top-level keys and the Genesys flow / dependency-tracking types they map to."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FlowTypeInfo(BaseModel):
    """One Architect flow type under its three names."""

    model_config = ConfigDict(frozen=True)

    yaml_key: str
    """Top-level key of the flow YAML, spelled as Archy exports it (`inqueueCall`)."""
    flow_type: str
    """`type` of the flow in `GET /api/v2/flows` (`INQUEUECALL`)."""
    object_type: str
    """Dependency-tracking object type (`INQUEUECALLFLOW`)."""
    voice: bool = False
    """Call-based flow: transfers go to call flows, audio prompts apply."""
    messaging: bool = False
    """Message/chat/email flow: transfers stay on the same media."""
    uses_states: bool = False
    """Archy lays this flow out as states (+ reusable tasks) rather than tasks (+ menus)."""
    uses_bots: bool = False
    """Bot flows lay out their body as `bots: - bot:`."""


_FLOW_TYPES: tuple[FlowTypeInfo, ...] = (
    FlowTypeInfo(yaml_key="inboundCall", flow_type="INBOUNDCALL", object_type="INBOUNDCALLFLOW", voice=True),
    FlowTypeInfo(yaml_key="inqueueCall", flow_type="INQUEUECALL", object_type="INQUEUECALLFLOW", voice=True),
    FlowTypeInfo(
        yaml_key="outboundCall", flow_type="OUTBOUNDCALL", object_type="OUTBOUNDCALLFLOW", voice=True
    ),
    FlowTypeInfo(yaml_key="secureCall", flow_type="SECURECALL", object_type="SECURECALLFLOW", voice=True),
    FlowTypeInfo(yaml_key="voicemail", flow_type="VOICEMAIL", object_type="VOICEMAILFLOW", voice=True),
    FlowTypeInfo(yaml_key="voiceSurvey", flow_type="VOICESURVEY", object_type="VOICESURVEYFLOW", voice=True),
    FlowTypeInfo(yaml_key="voice", flow_type="VOICE", object_type="VOICEFLOW", voice=True),
    FlowTypeInfo(yaml_key="commonModule", flow_type="COMMONMODULE", object_type="COMMONMODULEFLOW"),
    FlowTypeInfo(
        yaml_key="inboundChat",
        flow_type="INBOUNDCHAT",
        object_type="INBOUNDCHATFLOW",
        messaging=True,
        uses_states=True,
    ),
    FlowTypeInfo(
        yaml_key="inboundEmail",
        flow_type="INBOUNDEMAIL",
        object_type="INBOUNDEMAILFLOW",
        messaging=True,
        uses_states=True,
    ),
    FlowTypeInfo(
        yaml_key="inboundShortMessage",
        flow_type="INBOUNDSHORTMESSAGE",
        object_type="INBOUNDSHORTMESSAGEFLOW",
        messaging=True,
        uses_states=True,
    ),
    FlowTypeInfo(
        yaml_key="inqueueEmail",
        flow_type="INQUEUEEMAIL",
        object_type="INQUEUEEMAILFLOW",
        messaging=True,
        uses_states=True,
    ),
    FlowTypeInfo(
        yaml_key="inqueueShortMessage",
        flow_type="INQUEUESHORTMESSAGE",
        object_type="INQUEUESHORTMESSAGEFLOW",
        messaging=True,
        uses_states=True,
    ),
    FlowTypeInfo(yaml_key="botFlow", flow_type="BOT", object_type="BOTFLOW", uses_bots=True),
    FlowTypeInfo(yaml_key="digitalBot", flow_type="DIGITALBOT", object_type="DIGITALBOTFLOW", uses_bots=True),
    FlowTypeInfo(yaml_key="workflow", flow_type="WORKFLOW", object_type="WORKFLOW", uses_states=True),
    FlowTypeInfo(yaml_key="workitem", flow_type="WORKITEM", object_type="WORKITEMFLOW", uses_states=True),
    FlowTypeInfo(
        yaml_key="surveyInvite", flow_type="SURVEYINVITE", object_type="SURVEYINVITEFLOW", uses_states=True
    ),
)

# Archy's own spelling is `inqueueCall`; the camel-cased `inQueueCall` seen in docs and
# hand-written files means the same thing, so keys are matched without regard to case.
_BY_LOWER_KEY: dict[str, FlowTypeInfo] = {info.yaml_key.lower(): info for info in _FLOW_TYPES}
_BY_FLOW_TYPE: dict[str, FlowTypeInfo] = {info.flow_type: info for info in _FLOW_TYPES}

KNOWN_YAML_KEYS: tuple[str, ...] = tuple(info.yaml_key for info in _FLOW_TYPES)


def flow_type_for_yaml_key(yaml_key: str) -> FlowTypeInfo | None:
    """The flow type a top-level key names, or None when it is not a flow type."""
    return _BY_LOWER_KEY.get(yaml_key.lower())


def flow_type_info(flow_type_or_key: str) -> FlowTypeInfo | None:
    """Look a flow type up by Genesys type (`INBOUNDCALL`), object type or YAML key."""
    upper = flow_type_or_key.upper()
    if upper in _BY_FLOW_TYPE:
        return _BY_FLOW_TYPE[upper]
    for info in _FLOW_TYPES:
        if info.object_type == upper:
            return info
    return flow_type_for_yaml_key(flow_type_or_key)


def all_flow_types() -> tuple[FlowTypeInfo, ...]:
    return _FLOW_TYPES
