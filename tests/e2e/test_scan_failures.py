"""The synthesized scan state machine when things go wrong: a rebuilding or stuck dependency
index, Genesys 5xx and 429 storms, concurrent scans, and S3/DynamoDB write failures — the
previous lock always stays current and intact."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import botocore.client
import pytest
import requests
from botocore.exceptions import ClientError

from flowops.local.runtime.execution import wait_for_execution
from flowops.local.runtime.lambdas import invocation_slot_released
from flowops.lock import lock_sha256, parse_lock
from tests.e2e.scan_helpers import SCAN_STATE_MACHINE, ScanWorld, start_world

pytestmark = pytest.mark.slow

BUILD_STATUS = "GET /api/v2/architect/dependencytracking/build"
BUILD_START = "POST /api/v2/architect/dependencytracking/build"
WAIT_STATE = "Wait for the dependency index to rebuild"
CHECK_STATE = "Check the dependency index"
FAILED_STATE = "Scan failed, the previous lock is still current"


@pytest.fixture
def world_factory(
    start_simulator: Callable[..., Any], local_cloud_factory: Callable[..., Any]
) -> Callable[..., ScanWorld]:
    return lambda **sim: start_world(start_simulator, local_cloud_factory, **sim)


def set_index(world: ScanWorld, status: str) -> None:
    requests.post(f"{world.sim.url}/__sim/index", json={"status": status}, timeout=10).raise_for_status()


def test_rebuilding_index_is_polled_with_backoff_until_operational(
    world_factory: Callable[..., ScanWorld],
) -> None:
    # Given an org whose dependency index was never built (a rebuild takes 30 simulated seconds)
    world = world_factory(flows=30, seed=3, time_scale=600.0)
    set_index(world, "NOTBUILT")
    # When a scan runs
    result = world.scan("scan-rebuild", index_deadline_seconds=3600)
    # Then it asked for one rebuild, waited with capped exponential backoff, and then scanned
    assert result.status == "SUCCEEDED", result.cause
    assert world.sim.counters()[BUILD_START] == 1
    waits = result.delays_of(WAIT_STATE, "wait")
    assert waits, "the scan never waited for the rebuild"
    assert waits == [min(120, 5 * 2**attempt) for attempt in range(len(waits))]
    assert result.output["flows"] == 30


def test_stuck_index_fails_at_the_deadline_with_a_clear_cause_and_no_lock(
    world_factory: Callable[..., ScanWorld],
) -> None:
    # Given an index whose rebuild never finishes
    world = world_factory(flows=20, seed=3, faults="index=stuck")
    set_index(world, "NOTBUILT")
    # When a scan runs with a 300-second index deadline
    result = world.scan("scan-stuck", index_deadline_seconds=300)
    # Then it fails in the named state with a cause naming the status, and never wrote a lock
    assert result.status == "FAILED"
    assert result.error == "DependencyIndexNotOperational"
    assert "still BUILDINPROGRESS" in (result.cause or "") and "partial index" in (result.cause or "")
    assert sum(result.delays_of(WAIT_STATE, "wait")) == 300
    assert "List the pages of flows" not in result.states_entered()
    assert world.current_pointer() is None


def test_server_error_storm_is_retried_by_the_state_machine_with_jittered_backoff(
    world_factory: Callable[..., ScanWorld],
) -> None:
    # Given a Genesys that answers every call with 503 until two whole index checks have failed
    world = world_factory(flows=20, seed=4, faults="5xx=1.0")
    retries_per_check = 6  # the client's own attempts before it gives up with Genesys.ServerError
    stop = threading.Event()

    def heal_after_two_failed_checks() -> None:
        while not stop.is_set():
            if world.sim.counters().get(BUILD_STATUS, 0) >= 2 * retries_per_check:
                world.sim.set_faults("")
                return
            time.sleep(0.005)

    healer = threading.Thread(target=heal_after_two_failed_checks, daemon=True)
    healer.start()
    try:
        # When a scan runs
        result = world.scan("scan-5xx-storm")
    finally:
        stop.set()
        healer.join(timeout=5)
    # Then the state machine retried the check (full jitter within the doubling ceiling) and succeeded
    assert result.status == "SUCCEEDED", result.cause
    retries = result.delays_of(CHECK_STATE, "retry")
    assert len(retries) >= 2
    assert all(0 <= delay <= 5 * 2**attempt for attempt, delay in enumerate(retries))


def test_rate_limit_storm_is_absorbed_and_gives_the_same_lock(
    world_factory: Callable[..., ScanWorld],
) -> None:
    # Given a Genesys whose rate limit dropped to 20 requests per minute (the scan needs ~40)
    world = world_factory(flows=30, seed=6, faults="storm=20")
    # When a scan runs, then the storm ends and the org is scanned again
    stormy = world.scan("scan-429-storm")
    world.sim.set_faults("")
    calm = world.scan("scan-calm")
    # Then the stormy scan succeeded by honouring Retry-After, and recorded the same org state
    assert stormy.status == "SUCCEEDED", stormy.cause
    assert calm.output["lock_sha256"] == stormy.output["lock_sha256"]
    assert calm.output["pointer"]["unchanged"] is True


@pytest.fixture
def hold_scans_at_pointer_step(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """Once armed, holds scans at the pointer step until two have arrived, so they race for real."""
    import flowops.functions.scan.advance_pointer as step

    barrier = threading.Barrier(2, timeout=90)
    original = step.advance_lock_pointer

    def advance_when_both_arrived(*args: Any, **kwargs: Any) -> Any:
        # The local runtime runs one invocation at a time; waiting here must let the other in.
        with invocation_slot_released():
            barrier.wait()
        return original(*args, **kwargs)

    yield lambda: monkeypatch.setattr(step, "advance_lock_pointer", advance_when_both_arrived)
    barrier.abort()


def test_concurrent_scans_never_lose_an_update(
    world_factory: Callable[..., ScanWorld], hold_scans_at_pointer_step: Callable[[], None]
) -> None:
    # Given an org with a current lock
    world = world_factory(flows=30, seed=8)
    base = world.scan("scan-base")
    assert base.status == "SUCCEEDED", base.cause
    hold_scans_at_pointer_step()
    arn = world.cloud.state_machine_arn(SCAN_STATE_MACHINE)
    # When the org changes, scan A reads it, the org changes again, scan B reads it,
    # and both then try to advance the pointer from the same base lock
    candidates = [f for f in world.sim.org.flows.values() if f.published_version_id and f.locked_by is None]
    first_change, second_change = candidates[0], candidates[1]
    world.republish(first_change.id)
    first = world.cloud.sfn.start_execution(stateMachineArn=arn, name="scan-a", input='{"page_size": 25}')
    _wait_for_state(world, first["executionArn"], "Make the new lock current unless another scan won")
    world.republish(second_change.id)
    second = world.cloud.sfn.start_execution(stateMachineArn=arn, name="scan-b", input='{"page_size": 25}')
    a = wait_for_execution(world.cloud, first["executionArn"], timeout=120)
    b = wait_for_execution(world.cloud, second["executionArn"], timeout=120)
    # Then exactly one advanced; the other reports the race and diffs against the winner
    assert a.status == b.status == "SUCCEEDED", (a.cause, b.cause)
    outcomes = {a.output["lock_sha256"]: a.output, b.output["lock_sha256"]: b.output}
    assert len(outcomes) == 2, "the two scans saw different org states"
    winner = next(output for output in outcomes.values() if output["pointer"]["advanced"])
    loser = next(output for output in outcomes.values() if not output["pointer"]["advanced"])
    assert loser["pointer"]["race"] is True
    assert loser["pointer"]["compared_with_sha"] == winner["lock_sha256"]
    assert loser["drift"]["changed_flow_ids"] == [second_change.id]
    pointer = world.current_pointer()
    assert pointer is not None
    assert pointer["sha"] == winner["lock_sha256"] and pointer["previous_sha"] == base.output["lock_sha256"]
    assert pointer["revision"] == 2


def _wait_for_state(world: ScanWorld, execution_arn: str, state: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = world.cloud.sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
        if any(event.get("stateEnteredEventDetails", {}).get("name") == state for event in events):
            return
        time.sleep(0.02)
    raise AssertionError(f"{execution_arn} never entered {state!r}")


@pytest.fixture
def failing_aws_writes(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, str], str]:
    """Make chosen AWS writes fail the way AWS does (a ClientError from botocore):
    {(operation, key or table prefix): error code}."""
    failures: dict[tuple[str, str], str] = {}
    original = botocore.client.BaseClient._make_api_call

    def make_api_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        target = params.get("Key") if operation == "PutObject" else params.get("TableName")
        for (failing_operation, prefix), code in list(failures.items()):
            if operation == failing_operation and isinstance(target, str) and target.startswith(prefix):
                raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)
        return original(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", make_api_call)
    return failures


@pytest.mark.parametrize(
    ("operation", "target", "code", "error"),
    [
        ("PutObject", "locks/", "AccessDenied", "Store.AccessDenied"),
        ("PutItem", "STATE", "ProvisionedThroughputExceededException", "Store.Throttled"),
    ],
)
def test_failed_lock_or_pointer_write_leaves_the_previous_lock_current_and_intact(
    world_factory: Callable[..., ScanWorld],
    failing_aws_writes: dict[tuple[str, str], str],
    operation: str,
    target: str,
    code: str,
    error: str,
) -> None:
    # Given an org with a current lock, which then changes
    world = world_factory(flows=20, seed=9)
    base = world.scan("scan-base")
    assert base.status == "SUCCEEDED", base.cause
    stored = world.artifact(base.output["lock_key"])
    flow = next(f for f in world.sim.org.flows.values() if f.published_version_id and f.locked_by is None)
    world.republish(flow.id)
    # When writing the new lock (S3) or moving the pointer (DynamoDB) fails
    prefix = world.environment["STATE_TABLE"] if target == "STATE" else target
    failing_aws_writes[(operation, prefix)] = code
    result = world.scan("scan-failing-write")
    failing_aws_writes.clear()
    # Then the scan fails in the named state with the store's error, after retrying what is retryable
    assert result.status == "FAILED"
    assert result.error == error, result.cause
    assert FAILED_STATE in result.states_entered()
    # and the previous lock is still current and byte-for-byte intact
    pointer = world.current_pointer()
    assert pointer is not None and pointer["sha"] == base.output["lock_sha256"]
    assert world.artifact(base.output["lock_key"]) == stored
    assert lock_sha256(parse_lock(stored)) == base.output["lock_sha256"]


def test_failed_report_after_the_pointer_moved_says_the_new_lock_is_current(
    world_factory: Callable[..., ScanWorld], failing_aws_writes: dict[tuple[str, str], str]
) -> None:
    # Given an org with a current lock, which then changes
    world = world_factory(flows=20, seed=9)
    base = world.scan("scan-base")
    assert base.status == "SUCCEEDED", base.cause
    flow = next(f for f in world.sim.org.flows.values() if f.published_version_id and f.locked_by is None)
    world.republish(flow.id)
    # When the report cannot be written, after the pointer has moved to the new lock
    org = world.environment["FLOWOPS_ORG"]
    failing_aws_writes[("PutObject", f"scans/{org}/scan-failing-report/report.json")] = "AccessDenied"
    result = world.scan("scan-failing-report")
    failing_aws_writes.clear()
    # Then the scan fails in a state that names the lock now current, not the previous one
    assert result.status == "FAILED"
    assert result.error == "Store.AccessDenied", result.cause
    assert "Scan report failed, this scan's lock is current" in result.states_entered()
    assert FAILED_STATE not in result.states_entered()
    pointer = world.current_pointer()
    assert pointer is not None and pointer["sha"] != base.output["lock_sha256"]
