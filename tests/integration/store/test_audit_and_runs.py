from __future__ import annotations

from typing import Any

import pytest

from flowops.clock import ScaledClock
from flowops.store import AuditLog, RunStore, RunTransitionError
from tests.integration.store.conftest import AUDIT_TABLE, STATE_TABLE


def test_audit_events_append_and_list_in_order(dynamodb_client: Any) -> None:
    # Given an audit log on a fixed clock origin
    clock = ScaledClock(scale=1000, origin=1_700_000_000)
    audit = AuditLog(AUDIT_TABLE, dynamodb_client, clock=clock, retention_days=30)
    # When three events are appended for dev and one for prod
    first = audit.append("dev", "scan.completed", actor="schedule", subject="dev", details={"flows": 3})
    audit.append("dev", "lock.advanced", actor="scan-1", subject="a" * 64)
    audit.append("prod", "scan.completed", actor="schedule", subject="prod")
    third = audit.append("dev", "publish.rolled_back", actor="ci", subject="flow-1", details={"to": "2.0"})
    # Then dev lists its own three in time order, each expiring after the retention
    events = audit.list_events("dev")
    assert [event.kind for event in events] == ["scan.completed", "lock.advanced", "publish.rolled_back"]
    assert events[0].details == {"flows": 3}
    assert events[0].event_id == first.event_id
    written_at = events[0].expires_at - 30 * 86400
    assert 1_700_000_000 <= written_at < 1_700_000_000 + 60_000
    assert events[0].timestamp.startswith("2023-11-1")
    # And `since` filters by timestamp
    assert [event.event_id for event in audit.list_events("dev", since=third.timestamp)] == [third.event_id]


def test_run_transitions_are_conditional(dynamodb_client: Any) -> None:
    runs = RunStore(STATE_TABLE, dynamodb_client)
    runs.create("run-1", "publish", org="dev", details={"flow_id": "f-1"})
    running = runs.transition("run-1", "PENDING", "RUNNING", details={"previous_version": "2.0"})
    assert running.status == "RUNNING"
    assert running.details == {"flow_id": "f-1", "previous_version": "2.0"}
    # A second worker that also believed the run was PENDING is refused
    with pytest.raises(RunTransitionError, match="it is RUNNING"):
        runs.transition("run-1", "PENDING", "RUNNING")
    # Illegal transitions never reach DynamoDB
    with pytest.raises(RunTransitionError, match="not an allowed transition"):
        runs.transition("run-1", "RUNNING", "PENDING")
    with pytest.raises(RunTransitionError, match="already exists"):
        runs.create("run-1", "publish", org="dev")
    stored = runs.get("run-1")
    assert stored is not None and stored.status == "RUNNING"
