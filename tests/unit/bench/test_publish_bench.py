"""The publish benchmark's timeline: waits recorded instead of slept are put back in order."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from bench.publish import PublishSample, WaitAdvancedClock, format_summary, format_table, simulated_events
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


def test_summary_reports_polls_overhead_and_ratio_to_the_ideal_poller() -> None:
    # Given two publishes of a 5 s job, seen 1 s and 2 s after Success, released 3 s and 5 s after
    samples = [
        PublishSample("run-1", "f-main", 5.0, 2, 1, [2, 4], 1.0, 1.5, 0.5, 3.0),
        PublishSample("run-2", "f-sales", 5.0, 3, 1, [2, 4, 8], 2.0, 2.5, 0.5, 5.0),
    ]
    # When the table and summary are formatted
    table, summary = format_table(samples), format_summary(samples)

    # Then totals are job + overhead and ratios are against the job's own duration
    assert samples[0].total_seconds == pytest.approx(8.0)
    assert samples[1].ratio_to_ideal == pytest.approx(2.0)
    assert "2,4,8" in table
    assert "median   4.00 s" in summary.split("Success -> RecordRelease done")[1]
    assert "polls started after job Success    2 of 5" in summary
