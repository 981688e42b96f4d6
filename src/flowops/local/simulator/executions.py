"""Synthetic Genesys Cloud flow execution data for the simulator.

This module is the CONTRACT between the simulator (which serves the data), the flowops Genesys
client (which fetches it) and `flowops.trace` (which analyses it). It generates, deterministically
per seed, the two shapes Genesys Cloud returns for flow execution data.

Sources for the shapes: the Genesys SDK models `FlowExecutionDataQueryResult` (query rows),
`V2FlowExecutionDataFlowidTopicFlowExecutionHistory` / `...TopicExecution` /
`...TopicFlowErrorWarningInfo` (the execution history document and its items), the SDK enum of
action types (`FlowsQueryCriteriaResponse.actionTypes`: `actionCallData`, `actionDecision`,
`actionPlayAudio`, `actionTransferToAcd`, ...) and public parsers of downloaded documents, which
all read the event list from `flow.execution`.

1. Query row — one element of `entities` in `POST /api/v2/flows/instances/query`::

       {"id": "<instance id>", "startDateTime": "2025-01-02T03:04:05.678Z",
        "endDateTime": "...Z", "flowId": "<uuid>", "flowVersion": "3.0",
        "conversationId": "<uuid>", "flowType": "inboundcall", "flowName": "Main IVR",
        "flowErrorReason": "DATA_ACTION_FAILED",        # only when the flow errored
        "flowWarningReason": "..."}                       # only when it warned

   Like every Genesys response, absent values are omitted rather than sent as null. `flowType` is
   lower case here (the SDK enum of this model), unlike the upper-case `type` of `/api/v2/flows`.

2. Download document — the JSON behind each `downloadUri` of a completed
   `GET /api/v2/flows/instances/jobs/{jobId}`::

       {"flow": {
           "executionId": "<instance id>", "conversationId": "<uuid>",
           "division": {"id": "<uuid>", "name": "Home"}, "divisionId": "<uuid>",
           "flowId": "<uuid>", "flowName": "Main IVR", "flowType": "INBOUNDCALL",
           "flowVersion": "3.0", "flowIsDebug": false, "executionItemsTruncated": false,
           "startDateTime": "...Z", "endDateTime": "...Z",
           "flowExitReason": "FLOW_DISCONNECT",
           "errors": [{"reason": "...", "objectId": "<actionId>", "executionId": "<item id>"}],
           "execution": [ <event>, ... ]}}

   Each event is an object with exactly ONE key, the event kind, whose value is the payload::

       {"actionCallData": {"actionId": "12", "actionName": "Lookup Customer",
                           "trackingId": "12", "executionId": "<uuid>",
                           "dateTime": "2025-01-02T03:04:05.790Z",
                           "outputPathId": "__SUCCESS__",
                           "outputVariables": [{"variableName": "Flow.CustomerTier", "value": "gold"}],
                           "error": {"reason": "...", "objectId": "12", "executionId": "<uuid>"}}}

   - Lifecycle events `startedFlow` (with `variables`) and `endedFlow` (with `flowExitReason`)
     frame the action events; they carry `dateTime` and `executionId` but no `actionId`.
   - `dateTime` is the moment the item STARTED executing (the SDK calls the same field
     `startDateTime`: "the starting time of the executionItem"). An action therefore lasts until
     the next event's `dateTime`; the generator builds timestamps exactly that way.
   - `outputPathId` is present only for actions with several output paths (`__YES__`/`__NO__`
     of a decision, `__SUCCESS__`/`__FAILURE__`/`__TIMEOUT__` of a data action, ...).
   - `error` is present only on the item that failed; the same entry is repeated in the
     flow-level `errors[]`, and the query row carries its reason as `flowErrorReason`.
   - Timestamps are ISO-8601 UTC with milliseconds and a `Z` suffix.

The action graph a run walks is a list of `ActionSpec`s: the first one is the entry point, each
output path names the next action (or `None`: the flow ends after this action). Runs pick paths
by weight, so most runs follow the common path and a few branch off; `PlantedBehaviour` shifts one
action's durations (a known bottleneck) and makes a share of the runs that reach one action fail
there on a given path with a given reason (a known error), so tests can check that the analysis
finds exactly what was planted. `corrupt_document` produces the malformed documents the parser
must survive.
"""

from __future__ import annotations

import copy
import functools
import json
import random
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

# A run never executes more than this many actions: protects against action graphs with loops.
MAX_ACTIONS_PER_RUN = 64


class OutputPath(BaseModel):
    """One way out of an action."""

    model_config = ConfigDict(frozen=True)

    path_id: str | None = Field(description="outputPathId in the event; None for single-path actions")
    next_action_id: str | None = Field(description="action executed next; None ends the flow")
    weight: float = Field(default=1.0, gt=0)
    error_reason: str | None = Field(
        default=None, description="taking this path is a flow error with this reason (e.g. a timeout)"
    )


class ActionSpec(BaseModel):
    """One Architect action as it appears in execution data."""

    model_config = ConfigDict(frozen=True)

    action_id: str
    kind: str = Field(description="event key, e.g. actionCallData")
    name: str
    duration_ms: tuple[int, int] = Field(description="inclusive range a normal execution takes")
    paths: tuple[OutputPath, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_range(self) -> ActionSpec:
        low, high = self.duration_ms
        if low < 0 or high < low:
            raise ValueError(f"action {self.action_id}: bad duration range {self.duration_ms}")
        return self


class SlowAction(BaseModel):
    """Every execution of `action_id` takes `extra_ms` longer (a uniform draw from the range)."""

    model_config = ConfigDict(frozen=True)

    action_id: str
    extra_ms: tuple[int, int] = (2000, 4000)


class FailingPath(BaseModel):
    """A share of the runs reaching `action_id` fail there, taking `output_path_id`."""

    model_config = ConfigDict(frozen=True)

    action_id: str
    output_path_id: str
    error_reason: str
    share: float = Field(gt=0, le=1, description="fraction of the runs that reach the action")


class PlantedBehaviour(BaseModel):
    model_config = ConfigDict(frozen=True)

    slow_action: SlowAction | None = None
    failing_path: FailingPath | None = None


class FlowRun(BaseModel):
    """One flow execution: what the query returns and what the download returns."""

    instance_row: dict[str, Any]
    document: dict[str, Any]
    # Ground truth for tests; never served by the simulator.
    planted_failure: bool = False
    action_ids: list[str] = Field(default_factory=list, description="actions executed, in order")


def default_inbound_call_actions() -> list[ActionSpec]:
    """A small but realistic inbound call flow.

    Set participant data → evaluate business hours → (closed: play closed message → disconnect)
    → look up the customer with a data action → (failure/timeout: apology → general queue)
    → decision "Is VIP?" → VIP queue, or welcome menu audio → general queue.
    """
    return [
        ActionSpec(
            action_id="1",
            kind="actionSetParticipantData",
            name="Set Participant Data",
            duration_ms=(5, 40),
            paths=(OutputPath(path_id=None, next_action_id="2"),),
        ),
        ActionSpec(
            action_id="2",
            kind="actionEvaluateScheduleGroup",
            name="Evaluate Business Hours",
            duration_ms=(20, 90),
            paths=(
                OutputPath(path_id="__OPEN__", next_action_id="3", weight=0.88),
                OutputPath(path_id="__CLOSED__", next_action_id="8", weight=0.12),
            ),
        ),
        ActionSpec(
            action_id="3",
            kind="actionCallData",
            name="Lookup Customer",
            duration_ms=(120, 600),
            paths=(
                OutputPath(path_id="__SUCCESS__", next_action_id="4", weight=0.93),
                OutputPath(path_id="__FAILURE__", next_action_id="7", weight=0.05),
                OutputPath(
                    path_id="__TIMEOUT__",
                    next_action_id="7",
                    weight=0.02,
                    error_reason="DATA_ACTION_TIMEOUT",
                ),
            ),
        ),
        ActionSpec(
            action_id="4",
            kind="actionDecision",
            name="Is VIP?",
            duration_ms=(1, 6),
            paths=(
                OutputPath(path_id="__YES__", next_action_id="5", weight=0.2),
                OutputPath(path_id="__NO__", next_action_id="6", weight=0.8),
            ),
        ),
        ActionSpec(
            action_id="5",
            kind="actionTransferToAcd",
            name="Transfer to VIP Queue",
            duration_ms=(40, 200),
            paths=(OutputPath(path_id=None, next_action_id=None),),
        ),
        ActionSpec(
            action_id="6",
            kind="actionPlayAudio",
            name="Play Welcome Menu",
            duration_ms=(700, 1600),
            paths=(OutputPath(path_id=None, next_action_id="10"),),
        ),
        ActionSpec(
            action_id="7",
            kind="actionPlayAudio",
            name="Play Apology",
            duration_ms=(500, 1100),
            paths=(OutputPath(path_id=None, next_action_id="10"),),
        ),
        ActionSpec(
            action_id="8",
            kind="actionPlayAudio",
            name="Play Closed Message",
            duration_ms=(900, 1800),
            paths=(OutputPath(path_id=None, next_action_id="9"),),
        ),
        ActionSpec(
            action_id="9",
            kind="actionDisconnect",
            name="Disconnect",
            duration_ms=(1, 8),
            paths=(OutputPath(path_id=None, next_action_id=None),),
        ),
        ActionSpec(
            action_id="10",
            kind="actionTransferToAcd",
            name="Transfer to General Queue",
            duration_ms=(40, 200),
            paths=(OutputPath(path_id=None, next_action_id=None),),
        ),
    ]


def format_timestamp(epoch_ms: int) -> str:
    """ISO-8601 UTC with milliseconds and Z, the way Genesys writes dates."""
    seconds, millis = divmod(epoch_ms, 1000)
    return f"{_second_prefix(seconds)}.{millis:03d}Z"


@functools.lru_cache(maxsize=8192)
def _second_prefix(epoch_seconds: int) -> str:
    # Events of one run share seconds; caching the formatted second keeps 10k runs fast.
    return f"{datetime.fromtimestamp(epoch_seconds, tz=UTC):%Y-%m-%dT%H:%M:%S}"


_UUID_VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_VERSION_4 = (0x4000 << 64) | (0x8000 << 48)


def _uuid(rng: random.Random) -> str:
    """A version-4 UUID string drawn from `rng` (same text as uuid.UUID(int=..., version=4))."""
    value = (rng.getrandbits(128) & _UUID_VERSION_MASK) | _UUID_VERSION_4
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _exit_reason(last_kind: str, errored: bool) -> str:
    if errored:
        return "FLOW_ERROR_DISCONNECT"
    if last_kind == "actionTransferToAcd":
        return "TRANSFER"
    return "FLOW_DISCONNECT"


def generate_flow_runs(
    *,
    flow_id: str,
    flow_name: str,
    flow_type: str,
    flow_version: str,
    actions: list[ActionSpec] | None,
    seed: int,
    count: int,
    window_start: datetime,
    window_end: datetime,
    planted: PlantedBehaviour | None = None,
    division_id: str = "00000000-0000-4000-8000-000000000001",
    division_name: str = "Home",
) -> list[FlowRun]:
    """Generate `count` runs of one flow, started uniformly inside [window_start, window_end).

    Same arguments → same runs (ids included). Runs are returned in start order. `flow_type` is
    the upper-case flow type of `/api/v2/flows` (e.g. INBOUNDCALL); rows carry it lower case.
    """
    if window_start.tzinfo is None or window_end.tzinfo is None:
        raise ValueError("window bounds must be timezone-aware")
    if window_end <= window_start:
        raise ValueError("window_end must be after window_start")
    if count < 0:
        raise ValueError("count must not be negative")
    specs = actions if actions is not None else default_inbound_call_actions()
    if not specs:
        raise ValueError("a flow needs at least one action")
    by_id = {spec.action_id: spec for spec in specs}
    _check_references(by_id, planted)

    rng = random.Random(seed)
    start_ms = int(window_start.timestamp() * 1000)
    span_ms = int(window_end.timestamp() * 1000) - start_ms
    starts = sorted(start_ms + rng.randrange(span_ms) for _ in range(count))
    division = {"id": division_id, "name": division_name}
    return [
        _generate_one(
            rng,
            by_id=by_id,
            entry_id=specs[0].action_id,
            started_ms=started,
            planted=planted or PlantedBehaviour(),
            flow_id=flow_id,
            flow_name=flow_name,
            flow_type=flow_type,
            flow_version=flow_version,
            division=division,
        )
        for started in starts
    ]


def _check_references(by_id: dict[str, ActionSpec], planted: PlantedBehaviour | None) -> None:
    for spec in by_id.values():
        for path in spec.paths:
            if path.next_action_id is not None and path.next_action_id not in by_id:
                raise ValueError(f"action {spec.action_id} leads to unknown action {path.next_action_id}")
    if planted is None:
        return
    for planted_id in (
        planted.slow_action.action_id if planted.slow_action else None,
        planted.failing_path.action_id if planted.failing_path else None,
    ):
        if planted_id is not None and planted_id not in by_id:
            raise ValueError(f"planted behaviour names unknown action {planted_id}")


def _generate_one(
    rng: random.Random,
    *,
    by_id: dict[str, ActionSpec],
    entry_id: str,
    started_ms: int,
    planted: PlantedBehaviour,
    flow_id: str,
    flow_name: str,
    flow_type: str,
    flow_version: str,
    division: dict[str, str],
) -> FlowRun:
    instance_id = _uuid(rng)
    conversation_id = _uuid(rng)
    now_ms = started_ms
    events: list[dict[str, Any]] = [
        {
            "startedFlow": {
                "dateTime": format_timestamp(now_ms),
                "executionId": _uuid(rng),
                "variables": [
                    {"variableName": "Flow.Version", "value": flow_version},
                    {"variableName": "Call.ConversationId", "value": conversation_id},
                ],
            }
        }
    ]
    # Flow start-up overhead before the first action runs.
    now_ms += rng.randint(2, 25)
    errors: list[dict[str, str]] = []
    executed: list[str] = []
    planted_failure = False
    current: str | None = entry_id
    last_kind = "startedFlow"
    while current is not None and len(executed) < MAX_ACTIONS_PER_RUN:
        spec = by_id[current]
        duration = rng.randint(*spec.duration_ms)
        if planted.slow_action is not None and planted.slow_action.action_id == current:
            duration += rng.randint(*planted.slow_action.extra_ms)
        path, error_reason, planted_hit = _choose_path(rng, spec, planted)
        planted_failure = planted_failure or planted_hit
        execution_id = _uuid(rng)
        payload: dict[str, Any] = {
            "actionId": spec.action_id,
            "actionName": spec.name,
            "trackingId": spec.action_id,
            "executionId": execution_id,
            "dateTime": format_timestamp(now_ms),
        }
        if path.path_id is not None:
            payload["outputPathId"] = path.path_id
        if spec.kind == "actionCallData" and error_reason is None:
            payload["outputVariables"] = [
                {"variableName": "Flow.CustomerTier", "value": rng.choice(["gold", "silver", "standard"])}
            ]
        if error_reason is not None:
            error = {"reason": error_reason, "objectId": spec.action_id, "executionId": execution_id}
            payload["error"] = error
            errors.append(error)
        events.append({spec.kind: payload})
        executed.append(current)
        last_kind = spec.kind
        now_ms += duration
        current = path.next_action_id

    ended_ms = now_ms
    exit_reason = _exit_reason(last_kind, errored=bool(errors))
    events.append(
        {
            "endedFlow": {
                "dateTime": format_timestamp(ended_ms),
                "executionId": _uuid(rng),
                "flowExitReason": exit_reason,
            }
        }
    )
    started_at = format_timestamp(started_ms)
    ended_at = format_timestamp(ended_ms)
    flow_document: dict[str, Any] = {
        "executionId": instance_id,
        "conversationId": conversation_id,
        "division": division,
        "divisionId": division["id"],
        "flowId": flow_id,
        "flowName": flow_name,
        "flowType": flow_type.upper(),
        "flowVersion": flow_version,
        "flowIsDebug": False,
        "executionItemsTruncated": False,
        "startDateTime": started_at,
        "endDateTime": ended_at,
        "flowExitReason": exit_reason,
        "execution": events,
    }
    if errors:
        flow_document["errors"] = errors
    row: dict[str, Any] = {
        "id": instance_id,
        "startDateTime": started_at,
        "endDateTime": ended_at,
        "flowId": flow_id,
        "flowVersion": flow_version,
        "conversationId": conversation_id,
        "flowType": flow_type.lower(),
        "flowName": flow_name,
    }
    if errors:
        row["flowErrorReason"] = errors[0]["reason"]
    return FlowRun(
        instance_row=row,
        document={"flow": flow_document},
        planted_failure=planted_failure,
        action_ids=executed,
    )


def _choose_path(
    rng: random.Random, spec: ActionSpec, planted: PlantedBehaviour
) -> tuple[OutputPath, str | None, bool]:
    """Pick the output path of one execution, the error reason it raises (if any), and whether
    the planted failure struck."""
    failing = planted.failing_path
    if failing is not None and failing.action_id == spec.action_id and rng.random() < failing.share:
        declared = next((p for p in spec.paths if p.path_id == failing.output_path_id), None)
        # A planted path the spec does not declare ends the flow right after the failure.
        path = declared or OutputPath(path_id=failing.output_path_id, next_action_id=None)
        return path, failing.error_reason, True
    if len(spec.paths) == 1:
        path = spec.paths[0]
    else:
        path = rng.choices(spec.paths, weights=[p.weight for p in spec.paths])[0]
    return path, path.error_reason, False


class CorruptionKind(StrEnum):
    TRUNCATED = "truncated"  # JSON text cut off mid-way (a broken download)
    OUT_OF_ORDER = "out_of_order"  # events not in time order
    UNKNOWN_KIND = "unknown_kind"  # an event kind the parser has never seen
    MISSING_TIMESTAMPS = "missing_timestamps"  # some events lack dateTime


UNKNOWN_EVENT_KIND = "actionHolographicTransfer"


def corrupt_document(
    doc: dict[str, Any], kind: CorruptionKind | str, *, seed: int = 0
) -> dict[str, Any] | str:
    """A malformed copy of `doc`; the original is left untouched.

    truncated → JSON TEXT (str) cut in the middle of the event list; out_of_order → the event list
    reversed after the first event; unknown_kind → the second event re-keyed to an unknown kind
    (`UNKNOWN_EVENT_KIND`); missing_timestamps → `dateTime` removed from every other action event.
    """
    corruption = CorruptionKind(kind)
    if corruption is CorruptionKind.TRUNCATED:
        text = json.dumps(doc, separators=(",", ":"))
        cut = max(1, len(text) // 2 + random.Random(seed).randrange(-10, 10))
        return text[:cut]
    broken = copy.deepcopy(doc)
    events: list[dict[str, Any]] = broken["flow"]["execution"]
    if corruption is CorruptionKind.OUT_OF_ORDER:
        if len(events) > 2:
            events[1:] = list(reversed(events[1:]))
    elif corruption is CorruptionKind.UNKNOWN_KIND:
        if len(events) > 1:
            (payload,) = events[1].values()
            events[1] = {UNKNOWN_EVENT_KIND: payload}
    else:
        for position, event in enumerate(events[1:-1]):
            if position % 2 == 0:
                (payload,) = event.values()
                payload.pop("dateTime", None)
    return broken
