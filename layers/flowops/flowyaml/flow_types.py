"""Architect YAML top-level keys and the Genesys flow / dependency-tracking types they map to."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from flowops.flowtypes import dependency_object_type


class FlowTypeInfo(BaseModel):
    """One Architect flow type under its three names."""

    model_config = ConfigDict(frozen=True)

    yaml_key: str
    """Top-level key of the flow YAML, spelled as Archy exports it (`inqueueCall`)."""
    flow_type: str
    """`type` of the flow in `GET /api/v2/flows` (`INQUEUECALL`)."""
    object_type: str = ""
    """Dependency-tracking object type (`INQUEUECALLFLOW`), from the one table in
    `flowops.flowtypes` (a YAML flow type without one there fails at import)."""
    voice: bool = False
    """Call-based flow: transfers go to call flows, audio prompts apply."""
    messaging: bool = False
    """Message/chat/email flow: transfers stay on the same media."""
    uses_states: bool = False
    """Archy lays this flow out as states (+ reusable tasks) rather than tasks (+ menus)."""
    uses_bots: bool = False
    """Bot flows lay out their body as `bots: - bot:`."""

    @model_validator(mode="before")
    @classmethod
    def _object_type_from_the_table(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("object_type"):
            data = {**data, "object_type": dependency_object_type(str(data.get("flow_type", "")))}
        return data


_FLOW_TYPES: tuple[FlowTypeInfo, ...] = (
    FlowTypeInfo(yaml_key="inboundCall", flow_type="INBOUNDCALL", voice=True),
    FlowTypeInfo(yaml_key="inqueueCall", flow_type="INQUEUECALL", voice=True),
    FlowTypeInfo(yaml_key="outboundCall", flow_type="OUTBOUNDCALL", voice=True),
    FlowTypeInfo(yaml_key="secureCall", flow_type="SECURECALL", voice=True),
    FlowTypeInfo(yaml_key="voicemail", flow_type="VOICEMAIL", voice=True),
    FlowTypeInfo(yaml_key="voiceSurvey", flow_type="VOICESURVEY", voice=True),
    FlowTypeInfo(yaml_key="voice", flow_type="VOICE", voice=True),
    FlowTypeInfo(yaml_key="commonModule", flow_type="COMMONMODULE"),
    FlowTypeInfo(yaml_key="inboundChat", flow_type="INBOUNDCHAT", messaging=True, uses_states=True),
    FlowTypeInfo(yaml_key="inboundEmail", flow_type="INBOUNDEMAIL", messaging=True, uses_states=True),
    FlowTypeInfo(
        yaml_key="inboundShortMessage", flow_type="INBOUNDSHORTMESSAGE", messaging=True, uses_states=True
    ),
    FlowTypeInfo(yaml_key="inqueueEmail", flow_type="INQUEUEEMAIL", messaging=True, uses_states=True),
    FlowTypeInfo(
        yaml_key="inqueueShortMessage", flow_type="INQUEUESHORTMESSAGE", messaging=True, uses_states=True
    ),
    FlowTypeInfo(yaml_key="botFlow", flow_type="BOT", uses_bots=True),
    FlowTypeInfo(yaml_key="digitalBot", flow_type="DIGITALBOT", uses_bots=True),
    FlowTypeInfo(yaml_key="workflow", flow_type="WORKFLOW", uses_states=True),
    FlowTypeInfo(yaml_key="workitem", flow_type="WORKITEM", uses_states=True),
    FlowTypeInfo(yaml_key="surveyInvite", flow_type="SURVEYINVITE", uses_states=True),
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
