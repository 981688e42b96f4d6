"""Rebuild one run's execution graph from a downloaded execution-data document.

The document shape is the contract written in `src/flowops/local/simulator/executions.py`: a `flow` object
whose `execution` list holds one-key events (`{"actionCallData": {...payload...}}`). A top-level
`execution` list is accepted too. Items nested in an event's own `execution` list (tasks, loops,
common modules) are flattened in place with `depth + 1`.

Rules (each one is what the tests pin down):
- Event `dateTime` is when the item started. The duration of an event is the NEXT event's time
  minus its own (exclusive "self" time: a task call's duration is its own overhead, its children
  carry theirs). The last event runs until the flow's `endDateTime` when that is known.
- A missing or unparsable timestamp makes the duration of that event AND of the event before it
  unknown (`None`). It is never guessed and never zero; the event stays in the graph and the
  anomaly is recorded, so coverage shows it.
- Events out of time order are stably re-sorted by timestamp (untimed events travel with the
  timed event before them) and an `out_of_order` anomaly is recorded.
- Kinds outside `event_kinds.KNOWN_KINDS` become kind `unknown` (raw kind kept) with an anomaly.
- Items that are not a one-key object holding an object are dropped with a `malformed_event`
  anomaly (there is nothing to place in the graph).
- Text that is not JSON (e.g. a truncated download) or lacks the event list → `ParseFailure`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flowops.bounded import JSON_LIMITS, HostileInputError, load_bounded_json
from flowops.clock import read_timestamp
from flowops.trace.event_kinds import KNOWN_KINDS, UNKNOWN_KIND
from flowops.trace.models import (
    ActionExecution,
    AnomalyKind,
    ParseAnomaly,
    ParsedRun,
    ParseFailure,
    PathEdge,
)


@dataclass
class _RawEvent:
    document_index: int
    raw_kind: str
    payload: dict[str, Any]
    depth: int
    at: datetime | None
    error_reason: str | None


def parse_execution_document(
    raw: bytes | str | dict[str, Any], *, instance_id: str | None = None
) -> ParsedRun | ParseFailure:
    """Parse one document; `instance_id` labels failures when the document cannot say it."""
    document = _decode(raw, instance_id)
    if isinstance(document, ParseFailure):
        return document
    flow = document.get("flow")
    if not isinstance(flow, dict):
        return ParseFailure(
            reason="missing_flow", detail="document has no 'flow' object", instance_id=instance_id
        )
    instance_id = _text(flow.get("executionId")) or _text(flow.get("id")) or instance_id
    items = flow.get("execution", document.get("execution"))
    if not isinstance(items, list):
        return ParseFailure(
            reason="missing_execution", detail="'flow.execution' is not a list", instance_id=instance_id
        )

    anomalies: list[ParseAnomaly] = []
    events: list[_RawEvent] = []
    _flatten(items, depth=0, into=events, anomalies=anomalies)
    if not events:
        return ParseFailure(
            reason="no_events", detail="the event list holds no usable event", instance_id=instance_id
        )
    if flow.get("executionItemsTruncated") is True:
        anomalies.append(
            ParseAnomaly(
                kind=AnomalyKind.ITEMS_TRUNCATED, detail="Genesys truncated the event list of this run"
            )
        )

    started_at = read_timestamp(flow.get("startDateTime"))
    ended_at = read_timestamp(flow.get("endDateTime"))
    run_errors = _attach_flow_errors(flow.get("errors"), events, anomalies)
    ordered = _order_by_time(events, anomalies)
    actions = _build_nodes(ordered, started_at=started_at, ended_at=ended_at, anomalies=anomalies)
    edges = [
        PathEdge(source=node.index, target=node.index + 1, output_path_id=node.output_path_id)
        for node in actions[:-1]
    ]
    return ParsedRun(
        instance_id=instance_id,
        conversation_id=_text(flow.get("conversationId")),
        flow_id=_text(flow.get("flowId")),
        flow_name=_text(flow.get("flowName")),
        flow_type=_text(flow.get("flowType")),
        flow_version=_text(flow.get("flowVersion")),
        started_at=started_at,
        ended_at=ended_at,
        exit_reason=_text(flow.get("flowExitReason")),
        actions=actions,
        edges=edges,
        anomalies=sorted(anomalies, key=lambda a: (a.event_index is None, a.event_index or 0)),
        run_errors=run_errors,
    )


def _decode(raw: bytes | str | dict[str, Any], instance_id: str | None) -> dict[str, Any] | ParseFailure:
    if isinstance(raw, dict):
        return raw
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        decoded = load_bounded_json(text, JSON_LIMITS, "the execution data document")
    except HostileInputError as exc:
        return ParseFailure(reason="refused", detail=str(exc), instance_id=instance_id)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        # The message names the position only, never the content (documents hold caller data).
        return ParseFailure(reason="invalid_json", detail=f"not valid JSON: {exc}", instance_id=instance_id)
    if not isinstance(decoded, dict):
        return ParseFailure(
            reason="not_an_object", detail="document is not a JSON object", instance_id=instance_id
        )
    return decoded


def _flatten(
    items: list[Any],
    *,
    depth: int,
    into: list[_RawEvent],
    anomalies: list[ParseAnomaly],
    seen: list[int] | None = None,
) -> None:
    # `seen` counts every item met so far, dropped ones included: the position anomalies cite.
    seen = seen if seen is not None else [0]
    for item in items:
        position = seen[0]
        seen[0] += 1
        if not (isinstance(item, dict) and len(item) == 1):
            anomalies.append(
                ParseAnomaly(
                    kind=AnomalyKind.MALFORMED_EVENT,
                    detail="event is not an object with exactly one kind key",
                    event_index=position,
                )
            )
            continue
        ((raw_kind, payload),) = item.items()
        if not isinstance(payload, dict):
            anomalies.append(
                ParseAnomaly(
                    kind=AnomalyKind.MALFORMED_EVENT,
                    detail=f"payload of {raw_kind!r} is not an object",
                    event_index=position,
                )
            )
            continue
        at = _event_time(payload, raw_kind, position, anomalies)
        into.append(
            _RawEvent(
                document_index=position,
                raw_kind=raw_kind,
                payload=payload,
                depth=depth,
                at=at,
                error_reason=_error_reason(payload),
            )
        )
        nested = payload.get("execution")
        if isinstance(nested, list):
            _flatten(nested, depth=depth + 1, into=into, anomalies=anomalies, seen=seen)


def _event_time(
    payload: dict[str, Any], raw_kind: str, position: int, anomalies: list[ParseAnomaly]
) -> datetime | None:
    value = payload.get("dateTime")
    if value is None:
        anomalies.append(
            ParseAnomaly(
                kind=AnomalyKind.MISSING_TIMESTAMP,
                detail=f"{raw_kind} has no dateTime: durations around it are unknown",
                event_index=position,
            )
        )
        return None
    parsed = read_timestamp(value)
    if parsed is None:
        anomalies.append(
            ParseAnomaly(
                kind=AnomalyKind.INVALID_TIMESTAMP,
                detail=f"{raw_kind} has an unparsable dateTime: durations around it are unknown",
                event_index=position,
            )
        )
    return parsed


def _error_reason(payload: dict[str, Any]) -> str | None:
    for field in ("error", "errorInfo"):
        reason = _reason_of(payload.get(field))
        if reason is not None:
            return reason
    errors = payload.get("errors")
    if isinstance(errors, list):
        for entry in errors:
            reason = _reason_of(entry)
            if reason is not None:
                return reason
    return None


def _reason_of(entry: Any) -> str | None:
    if isinstance(entry, str) and entry:
        return entry
    if not isinstance(entry, dict) or not entry:
        return None
    for key in ("reason", "errorCode", "code", "message", "errorMessage"):
        value = entry.get(key)
        if isinstance(value, str) and value:
            return value
    return "unspecified"


def _attach_flow_errors(
    flow_errors: Any, events: list[_RawEvent], anomalies: list[ParseAnomaly]
) -> list[str]:
    """Tie flow-level `errors[]` to their events (by executionId, then objectId=actionId).

    Returns the reasons that match no event: the run failed, but not at a known action.
    """
    if not isinstance(flow_errors, list):
        return []
    unmatched: list[str] = []
    for entry in flow_errors:
        reason = _reason_of(entry)
        if reason is None or not isinstance(entry, dict):
            continue
        target = _find_event(events, entry)
        if target is None:
            unmatched.append(reason)
            anomalies.append(
                ParseAnomaly(
                    kind=AnomalyKind.UNMATCHED_ERROR,
                    detail=f"flow error {reason!r} names no event of the run",
                )
            )
        elif target.error_reason is None:
            target.error_reason = reason
    return unmatched


def _find_event(events: list[_RawEvent], entry: dict[str, Any]) -> _RawEvent | None:
    execution_id = _text(entry.get("executionId"))
    object_id = _text(entry.get("objectId"))
    if execution_id is not None:
        for event in events:
            if _text(event.payload.get("executionId")) == execution_id:
                return event
    if object_id is not None:
        for event in events:
            if _text(event.payload.get("actionId")) == object_id:
                return event
    return None


def _order_by_time(events: list[_RawEvent], anomalies: list[ParseAnomaly]) -> list[_RawEvent]:
    previous: datetime | None = None
    first_offender: int | None = None
    for event in events:
        if event.at is None:
            continue
        if previous is not None and event.at < previous and first_offender is None:
            first_offender = event.document_index
        previous = event.at if previous is None else max(previous, event.at)
    if first_offender is None:
        return events
    # Untimed events inherit the sort key of the timed event before them, so they stay attached
    # to it; events before any timed event sort first. Python's sort is stable.
    keyed: list[tuple[float, int, _RawEvent]] = []
    inherited = float("-inf")
    for event in events:
        if event.at is not None:
            inherited = event.at.timestamp()
        keyed.append((inherited, event.document_index, event))
    keyed.sort(key=lambda entry: (entry[0], entry[1]))
    ordered = [event for _, _, event in keyed]
    moved = sum(1 for before, after in zip(events, ordered, strict=True) if before is not after)
    anomalies.append(
        ParseAnomaly(
            kind=AnomalyKind.OUT_OF_ORDER,
            detail=f"{moved} events were out of time order and were re-sorted by timestamp",
            event_index=first_offender,
        )
    )
    return ordered


def _build_nodes(
    ordered: list[_RawEvent],
    *,
    started_at: datetime | None,
    ended_at: datetime | None,
    anomalies: list[ParseAnomaly],
) -> list[ActionExecution]:
    timed = [event.at for event in ordered if event.at is not None]
    origin_candidates = [*timed, *([started_at] if started_at is not None else [])]
    origin = min(origin_candidates) if origin_candidates else None
    nodes: list[ActionExecution] = []
    for index, event in enumerate(ordered):
        if index + 1 < len(ordered):
            following = ordered[index + 1].at
        else:
            following = (
                ended_at if ended_at is not None and event.at is not None and ended_at >= event.at else None
            )
        duration = _millis(following - event.at) if event.at is not None and following is not None else None
        known = event.raw_kind in KNOWN_KINDS
        if not known:
            anomalies.append(
                ParseAnomaly(
                    kind=AnomalyKind.UNKNOWN_EVENT_KIND,
                    detail=f"unknown event kind {event.raw_kind!r} kept as 'unknown'",
                    event_index=event.document_index,
                )
            )
        payload = event.payload
        nodes.append(
            ActionExecution(
                index=index,
                kind=event.raw_kind if known else UNKNOWN_KIND,
                raw_kind=event.raw_kind,
                action_id=_text(payload.get("actionId")),
                action_name=_text(payload.get("actionName")),
                tracking_id=_text(payload.get("trackingId")),
                execution_id=_text(payload.get("executionId")),
                output_path_id=_text(payload.get("outputPathId")),
                depth=event.depth,
                at=event.at,
                offset_ms=_millis(event.at - origin) if event.at is not None and origin is not None else None,
                duration_ms=duration,
                error_reason=event.error_reason,
            )
        )
    return nodes


def _millis(delta: timedelta) -> float:
    return delta.total_seconds() * 1000.0


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value)
    return text or None
