"""Hand-built execution documents for trace tests (shape: src/flowops/local/simulator/executions.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

ORIGIN = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def stamp(offset_ms: float) -> str:
    moment = ORIGIN + timedelta(milliseconds=offset_ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def event(kind: str, at_ms: float | None, **fields: Any) -> dict[str, Any]:
    """One event; `at_ms=None` leaves out dateTime."""
    payload = dict(fields)
    if at_ms is not None:
        payload["dateTime"] = stamp(at_ms)
    return {kind: payload}


def action(kind: str, action_id: str, at_ms: float | None, **fields: Any) -> dict[str, Any]:
    return event(kind, at_ms, **{"actionId": action_id, "actionName": f"Action {action_id}", **fields})


def document(events: list[dict[str, Any]], *, end_ms: float | None, **flow_fields: Any) -> dict[str, Any]:
    flow: dict[str, Any] = {
        "executionId": flow_fields.pop("executionId", "run-1"),
        "flowId": "flow-1",
        "flowName": "Test Flow",
        "flowType": "INBOUNDCALL",
        "flowVersion": "1.0",
        "startDateTime": stamp(0),
        "execution": events,
        **flow_fields,
    }
    if end_ms is not None:
        flow["endDateTime"] = stamp(end_ms)
    return {"flow": flow}
