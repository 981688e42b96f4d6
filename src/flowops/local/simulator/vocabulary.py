"""Platform vocabulary in consumedresources answers, as a real org reports it.

Besides what a flow really uses, dependency tracking lists what Architect itself is built of:
every action the flow contains (FLOWACTION), every data type it touches (FLOWDATATYPE), its
supported languages (LANGUAGE), the system prompts, TTS engine and voices and the STT engine of
voice flows. A real call flow lists about 59 such rows beside about 20 real dependencies (a
live-org note in shared genesys-api.md). The rows here are derived from the flow's id and
version (no state, nothing stored), so every answer for the same version is the same, and
`updated` is in every row as in the real answers.
"""

from __future__ import annotations

import zlib
from typing import Any

from flowops.local.simulator.model import Flow

_ACTIONS = (
    "Decision", "Disconnect", "Transfer to ACD", "Play Audio", "Set Participant Data", "Get Participant Data",
    "Update Data", "Call Data Action", "Data Table Lookup", "Evaluate Schedule", "Evaluate Schedule Group",
    "Call Common Module", "Transfer to Flow", "Jump to Menu", "Loop", "Exit Loop", "Collect Input",
    "Switch", "Set Language", "Set Screen Pop", "Set Whisper Audio", "Set Wrap-up Code", "Find Queue",
    "Find User", "Find Skill", "Send Response", "Wait for Input", "Ask for Intent", "Ask for Yes/No",
    "Get External Contact", "Set UUI Data", "Record Voicemail", "Transfer to User", "Transfer to Number",
    "Check Caller", "Set Flow Outcome", "Initialize Flow Outcome", "Set Flow Milestone",
)  # fmt: skip
_DATA_TYPES = (
    "String", "Integer", "Boolean", "Decimal", "DateTime", "Date", "Time", "Duration", "Queue", "User",
    "Skill", "Language", "Currency", "JSON", "Communication", "Audio", "Wrapup Code", "Group",
)  # fmt: skip
_SYSTEM_PROMPTS = (
    "PleaseHold", "ThankYouForCalling", "Goodbye", "PleaseTryAgain", "InvalidEntry", "TransferringYourCall",
    "AllAgentsBusy", "OfficeClosed", "Silence_1s", "Beep",
)  # fmt: skip
_LANGUAGES = ("en-us", "es-us", "fr-ca", "de-de")
_VOICE_FLOW_TYPES = frozenset(
    {
        "INBOUNDCALL",
        "INQUEUECALL",
        "OUTBOUNDCALL",
        "SECURECALL",
        "VOICEMAIL",
        "VOICESURVEY",
        "VOICE",
        "BOT",
        "SPEECH",
    }
)


def _pick(names: tuple[str, ...], seed: int, low: int, high: int) -> list[str]:
    count = min(len(names), low + seed % (high - low + 1))
    start = seed % len(names)
    return [names[(start + offset) % len(names)] for offset in range(count)]


def _row(object_type: str, object_id: str, name: str) -> dict[str, Any]:
    return {
        "id": object_id,
        "name": name,
        "type": object_type,
        "deleted": False,
        "updated": False,
        "stateUnknown": False,
        "selfUri": f"/api/v2/architect/dependencytracking/object?id={object_id}",
    }


def _slug(prefix: str, name: str) -> str:
    return f"{prefix}-" + "".join(c if c.isalnum() else "-" for c in name.lower())


def vocabulary_rows(flow: Flow, version_id: str) -> list[dict[str, Any]]:
    """The vocabulary rows of one flow version (~58 for a call flow, ~30 for a digital one)."""
    seed = zlib.crc32(f"{flow.id}:{version_id}".encode())
    voice = flow.flow_type in _VOICE_FLOW_TYPES
    low, high = (28, 34) if voice else (14, 20)
    rows = [_row("FLOWACTION", _slug("action", name), name) for name in _pick(_ACTIONS, seed, low, high)]
    rows += [
        _row("FLOWDATATYPE", _slug("datatype", name), name) for name in _pick(_DATA_TYPES, seed >> 3, 10, 14)
    ]
    rows += [_row("LANGUAGE", code, code) for code in _pick(_LANGUAGES, seed >> 5, 1, 2)]
    if voice:
        rows += [_row("SYSTEMPROMPT", name, name) for name in _pick(_SYSTEM_PROMPTS, seed >> 7, 5, 8)]
        rows += [_row("TTSENGINE", "genesys-tts", "Genesys Enhanced TTS")]
        rows += [_row("TTSVOICE", f"tts-voice-{n}", f"Voice {n}") for n in range(1, 2 + (seed >> 9) % 2)]
        rows += [_row("STTENGINE", "genesys-stt", "Genesys Native STT")]
    return rows
