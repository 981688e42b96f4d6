"""The dependency-index check: proceed only on OPERATIONAL, back off while rebuilding, give up
at the deadline with the failed objects named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flowops.scan.index import check_dependency_index
from flowops.scan.models import IndexPollPolicy, IndexProgress, ScanContext, ScanRequest
from tests.unit.scan.fakes import FakeOrg, FakeSource

STARTED = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def scan_context(deadline: int = 600) -> ScanContext:
    return ScanContext(
        scan_id="scan-1", started_at=STARTED, request=ScanRequest(index_deadline_seconds=deadline)
    )


def test_operational_index_lets_the_scan_proceed_without_waiting() -> None:
    # Given an operational index
    source = FakeSource(FakeOrg(), [{"status": "OPERATIONAL"}])
    # When the index is checked
    result = check_dependency_index(source, scan_context(), IndexProgress(), now=STARTED)
    # Then the scan proceeds at once and no rebuild is requested
    assert result.operational and not result.deadline_exceeded
    assert result.wait_seconds == 0
    assert source.rebuilds == 0


def test_index_that_needs_a_rebuild_gets_exactly_one_rebuild_request_and_a_backoff() -> None:
    # Given an index that is NOTBUILT and stays that way for three checks
    source = FakeSource(FakeOrg(), [{"status": "NOTBUILT"}, {"status": "BUILDINPROGRESS"}])
    policy = IndexPollPolicy(base_seconds=5, cap_seconds=30, deadline_seconds=600)
    progress = IndexProgress()
    waits = []
    # When it is checked repeatedly, carrying the progress forward as the state machine does
    for _ in range(5):
        result = check_dependency_index(source, scan_context(), progress, now=STARTED, policy=policy)
        waits.append(result.wait_seconds)
        progress = IndexProgress.model_validate(result.model_dump())
    # Then one rebuild was started and the waits grow exponentially up to the cap
    assert source.rebuilds == 1
    assert waits == [5, 10, 20, 30, 30]
    assert not result.operational and not result.deadline_exceeded
    assert progress.waited_seconds == sum(waits)
    assert "BUILDINPROGRESS" in result.message


def test_stuck_index_hits_the_deadline_from_the_sum_of_waits_and_names_failed_objects() -> None:
    # Given an index stuck rebuilding with failed objects, and waits that are recorded not slept
    failed = [{"id": f"f{i}", "name": f"Flow {i}", "version": "1.0", "errorCode": "BAD"} for i in range(7)]
    source = FakeSource(FakeOrg(), [{"status": "BUILDINPROGRESS", "failedObjects": failed}])
    policy = IndexPollPolicy(base_seconds=10, cap_seconds=60, deadline_seconds=200)
    progress = IndexProgress()
    checks = 0
    # When the loop runs until the check says stop (wall time never advances)
    while True:
        checks += 1
        result = check_dependency_index(source, scan_context(), progress, now=STARTED, policy=policy)
        if result.deadline_exceeded or checks > 50:
            break
        progress = IndexProgress.model_validate(result.model_dump())
    # Then the deadline is reached after a bounded number of checks, waits never overshoot it,
    # and the cause names the status and the failed objects
    assert result.deadline_exceeded and not result.operational
    assert checks < 10
    assert progress.waited_seconds == 200
    assert "still BUILDINPROGRESS" in result.message
    assert "7 objects failed to index" in result.message and "Flow 0 (BAD)" in result.message
    assert result.failed_objects_total == 7


def test_wall_time_counts_towards_the_deadline() -> None:
    # Given a scan that started long ago (in the cloud, waits are real)
    source = FakeSource(FakeOrg(), [{"status": "BUILDQUEUED"}])
    # When the index is checked after the deadline has passed in wall time
    result = check_dependency_index(
        source, scan_context(deadline=60), IndexProgress(attempt=3), now=STARTED + timedelta(seconds=61)
    )
    # Then the check gives up even though little waiting was recorded
    assert result.deadline_exceeded
    assert result.attempt == 4


def test_a_scheduled_scan_uses_an_index_that_needs_a_rebuild_without_rebuilding_it() -> None:
    # Given an index that answers but says it needs a rebuild
    source = FakeSource(FakeOrg(), [{"status": "OPERATIONALNEEDSREBUILD"}])
    # When a scan that did not ask for a rebuild checks it
    result = check_dependency_index(source, scan_context(), IndexProgress(), now=STARTED)
    # Then the scan proceeds with what the index has, says so, and no org-wide rebuild starts
    assert result.operational and result.wait_seconds == 0 and source.rebuilds == 0
    assert result.status == "OPERATIONALNEEDSREBUILD" and "needs a rebuild" in result.message


def test_a_scan_that_asks_for_a_rebuild_gets_one_and_waits() -> None:
    # Given the same index and a scan started with rebuild_index
    source = FakeSource(FakeOrg(), [{"status": "OPERATIONALNEEDSREBUILD"}, {"status": "BUILDINPROGRESS"}])
    scan = ScanContext(scan_id="s", started_at=STARTED, request=ScanRequest(rebuild_index=True))
    # When it is checked
    result = check_dependency_index(source, scan, IndexProgress(), now=STARTED)
    # Then one rebuild is requested and the loop waits for it
    assert not result.operational and result.rebuild_requested and source.rebuilds == 1
