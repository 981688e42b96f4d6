"""Trace windows: validation against retention, and slicing around the 200-row cap."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flowops.trace import QUERY_ROW_CAP, TraceRequestError, slice_window, validate_trace_window

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def test_a_window_inside_retention_is_accepted() -> None:
    validate_trace_window(NOW - timedelta(days=9, hours=23), NOW, NOW)
    validate_trace_window(NOW - timedelta(days=10), NOW - timedelta(days=9), NOW)


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        (NOW - timedelta(hours=1), NOW - timedelta(hours=2), "before until"),
        (NOW - timedelta(hours=1), NOW - timedelta(hours=1), "before until"),
        (NOW - timedelta(days=10, seconds=1), NOW, "10-day"),
        (NOW - timedelta(hours=1), NOW + timedelta(minutes=1), "future"),
        (datetime(2025, 3, 10, 11, 0), NOW, "timezone-aware"),
    ],
)
def test_invalid_windows_are_rejected_with_the_reason(since: datetime, until: datetime, message: str) -> None:
    with pytest.raises(TraceRequestError, match=message):
        validate_trace_window(since, until, NOW)


class CappedQuery:
    """A fake instances query: rows with start in [start, end), at most `cap`, in no useful order."""

    def __init__(self, starts: list[datetime], cap: int = QUERY_ROW_CAP, seed: int = 0) -> None:
        self.rows = [{"id": f"run-{i}", "startDateTime": s.isoformat()} for i, s in enumerate(starts)]
        self.starts = starts
        self.cap = cap
        self.calls: list[tuple[datetime, datetime]] = []
        self.rng = random.Random(seed)

    def __call__(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        self.calls.append((start, end))
        matching = [row for row, s in zip(self.rows, self.starts, strict=True) if start <= s < end]
        # Like Genesys: no guarantee WHICH rows come back when more than the cap match.
        self.rng.shuffle(matching)
        return matching[: self.cap]


def test_slicing_returns_every_row_when_the_window_holds_more_than_the_cap() -> None:
    # Given 1,000 runs over six hours, some sharing a start time, behind a 200-row cap
    rng = random.Random(4)
    start = NOW - timedelta(hours=6)
    starts = [start + timedelta(milliseconds=rng.randrange(6 * 3600 * 1000)) for _ in range(990)]
    starts += [start + timedelta(hours=3)] * 10
    query = CappedQuery(starts)

    # When the window is sliced
    result = slice_window(start, NOW, query)

    # Then all rows come back exactly once, and every kept slice was under the cap
    assert sorted(r["id"] for r in result.rows) == sorted(r["id"] for r in query.rows)
    assert len(result.rows) == 1000
    assert result.complete and all(s.rows < QUERY_ROW_CAP for s in result.slices)
    assert result.queries == len(query.calls)
    # And the kept slices tile the window in time order
    assert result.slices[0].start == start and result.slices[-1].end == NOW
    assert all(a.end == b.start for a, b in zip(result.slices, result.slices[1:], strict=False))


def test_a_window_under_the_cap_costs_one_query() -> None:
    query = CappedQuery([NOW - timedelta(minutes=m) for m in range(1, 50)])
    result = slice_window(NOW - timedelta(hours=1), NOW, query)
    assert result.queries == 1 and len(result.rows) == 49


def test_an_unsplittable_full_slice_is_reported_not_silently_truncated() -> None:
    # Given 300 runs starting in the same millisecond (no split can separate them)
    same = NOW - timedelta(minutes=5)
    query = CappedQuery([same] * 300)

    # When sliced with a bounded depth
    result = slice_window(NOW - timedelta(hours=1), NOW, query, max_depth=6)

    # Then the slice holding them is reported as saturated, and the query count stays bounded
    assert not result.complete
    (saturated,) = result.saturated
    assert saturated.start <= same < saturated.end and saturated.rows == QUERY_ROW_CAP
    assert len(result.rows) == QUERY_ROW_CAP
    assert result.queries <= 2 ** (6 + 1) - 1


def test_rows_returned_by_overlapping_slices_are_deduplicated() -> None:
    # Given a query that (wrongly) treats the end bound as inclusive
    boundary = NOW - timedelta(minutes=30)

    def inclusive(start: datetime, end: datetime) -> list[dict[str, Any]]:
        rows = [{"id": f"r{i}"} for i in range(150)] if start <= boundary <= end else []
        return rows + [{"id": f"{start.isoformat()}-{i}"} for i in range(60)]

    result = slice_window(NOW - timedelta(hours=1), NOW, inclusive)

    ids = [r["id"] for r in result.rows]
    assert len(ids) == len(set(ids))
    assert {f"r{i}" for i in range(150)} <= set(ids)


def test_an_empty_window_is_rejected() -> None:
    with pytest.raises(TraceRequestError):
        slice_window(NOW, NOW, CappedQuery([]))


def test_the_documented_maximum_window_holds_when_the_step_runs_after_submission() -> None:
    # Given "10d" resolved at submission, and a step that runs minutes later (or an
    # accelerated local clock that ran ahead)
    submitted = NOW
    since = submitted - timedelta(days=10)
    later = NOW + timedelta(minutes=30)
    # When the window is validated against the moment it was resolved at
    validate_trace_window(since, submitted, later, resolved_at=submitted)
    # Then it is accepted; a window older than that is still refused
    with pytest.raises(TraceRequestError, match="retention"):
        validate_trace_window(since - timedelta(seconds=1), submitted, later, resolved_at=submitted)
