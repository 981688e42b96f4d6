"""The publish benchmark's timeline: waits recorded instead of slept are put back in order."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from bench.publish import (
    SCHEDULES,
    TERRAFORM,
    PublishSample,
    WaitAdvancedClock,
    format_summary,
    format_table,
    lateness,
    simulated_events,
)
from flowops.local.runtime.delays import RecordedDelay
from flowops.local.runtime.execution import ExecutionResult

T0 = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)


def _event(kind: str, milliseconds: int, state: str | None = None) -> dict[str, object]:
    at = T0 + timedelta(milliseconds=milliseconds)
    event: dict[str, object] = {"type": kind, "timestamp": at.isoformat()}
    if state is not None:
        detail = "stateEnteredEventDetails" if kind.endswith("Entered") else "stateExitedEventDetails"
        event[detail] = {"name": state}
    return event


def test_each_history_event_is_shifted_by_the_waits_recorded_before_it() -> None:
    # Given an execution whose two waits (2 s, 4 s) were recorded, not slept: the history shows
    # each WaitStateExited in the same millisecond as its WaitStateEntered
    result = ExecutionResult(
        execution_arn="arn:aws:states:eu-west-1:123456789012:execution:Publish:run-1",
        name="run-1",
        status="SUCCEEDED",
        events=[
            _event("ExecutionStarted", 0),
            _event("WaitStateEntered", 100, "WaitForPublishJob"),
            _event("WaitStateExited", 100, "WaitForPublishJob"),
            _event("TaskStateEntered", 100, "CheckPublishJob"),
            _event("TaskStateExited", 300, "CheckPublishJob"),
            _event("WaitStateEntered", 300, "WaitForPublishJob"),
            _event("WaitStateExited", 301, "WaitForPublishJob"),
            _event("TaskStateExited", 500, "RecordRelease"),
        ],
        delays=[
            RecordedDelay(state="WaitForPublishJob", seconds=2, kind="wait"),
            RecordedDelay(state="WaitForPublishJob", seconds=4, kind="wait"),
        ],
    )
    clock = WaitAdvancedClock(start_at=0.0)  # the timeline starts at the epoch: offsets are easy to read

    # When the history is mapped onto the simulated timeline
    timeline = simulated_events(result, clock)

    # Then events after the k-th WaitStateExited carry the first k waits, and nothing else moves
    start = T0.timestamp() + clock.initial_offset()
    offsets = [round(at - start, 3) for _, at in timeline]
    assert offsets == [0.0, 0.1, 2.1, 2.1, 2.3, 2.3, 6.301, 6.5]


def test_the_clock_advances_by_every_recorded_delay() -> None:
    # Given a clock on real time
    clock = WaitAdvancedClock(start_at=1_000.0)
    before = clock.now()

    # When the runtime records a 30 s wait and a 4 s retry
    clock.advance(30, "wait")
    clock.advance(4, "retry")

    # Then simulated time jumped by both, and the retry is found by kind
    assert clock.now() - before >= 34
    # (advanced_before takes a REAL instant, like a history timestamp)
    assert clock.advanced_before(time.time() + 1, "retry") == 4
    assert clock.advanced_before(time.time() + 1) == 34
    assert clock.advanced_before(time.time() - 3600) == 0


def test_the_ideal_poller_notices_at_the_job_end_and_closes_as_the_run_did() -> None:
    # Given a 5 s job seen 1 s after Success and released 3 s after Success (2 s of closing steps)
    sample = PublishSample("run-1", "f-main", 5.0, 2, 1, [2, 3], 1.0, 1.5, 0.5, 3.0)
    # Then the ideal poller takes the job plus the same closing steps, and the ratio is against it
    assert (sample.total_seconds, sample.closing_seconds, sample.ideal_seconds) == (8.0, 2.0, 7.0)
    assert sample.ratio_to_ideal == pytest.approx(8 / 7)
    assert sample.ratio_to_job == pytest.approx(8 / 5)


def test_summary_gives_medians_per_job_and_poller_and_the_verdict() -> None:
    # Given flowops and Terraform publishes of a 5 s job, flowops within 1.25x of the ideal
    samples = [
        PublishSample("run-1", "f-main", 5.0, 2, 1, [2, 3], 0.5, 3.5, 0.2, 4.5),
        PublishSample("run-2", "f-sales", 5.0, 2, 1, [2, 3], 0.7, 3.5, 0.2, 4.7),
        PublishSample("run-3", "f-main", 5.0, 1, 1, [15], 10.2, 3.5, 0.2, 14.2, poller=TERRAFORM),
    ]
    # When the table and summary are formatted
    table, summary = format_table(samples), format_summary(samples)

    # Then each poller has its line (medians), the waits are listed, and the verdict names the worst run
    lines = summary.splitlines()
    assert any(line.split()[:3] == ["5", "flowops", "2"] for line in lines)
    assert any("terraform 15 s" in line and line.split()[-2] == "2.13" for line in lines)
    assert "2,3" in table
    assert (
        "worst publish 1.08x the ideal poller (run-2, 5 s job): target <= 1.25x for every job met" in summary
    )


def test_a_schedule_on_paper_is_late_by_the_gap_to_its_next_poll() -> None:
    # Given a fixed 15 s poll, a 5 s job is seen at 15 s and a 15 s job at once
    assert lateness(SCHEDULES["Terraform (fixed 15 s)"], 5) == 10
    assert lateness(SCHEDULES["Terraform (fixed 15 s)"], 15) == 0
    # And flowops' schedule sees any job of up to two minutes within 3 s
    flowops = next(schedule for name, schedule in SCHEDULES.items() if name.startswith("flowops ("))
    assert max(lateness(flowops, job / 10) for job in range(10, 1201)) <= 3
