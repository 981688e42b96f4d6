"""Trace request windows: validation against Genesys retention, and time slicing.

`POST /api/v2/flows/instances/query` returns at most 200 rows per page with no guarantee that
they are the newest, and execution data is kept 10 days. A trace asks for a window inside the
retention and, when a window comes back full, bisects it until every slice holds fewer rows
than the cap, so no run is silently left out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

EXECUTION_DATA_RETENTION = timedelta(days=10)
QUERY_ROW_CAP = 200


class TraceRequestError(ValueError):
    """A trace window the API cannot serve; the message says why (no secrets involved)."""

    asl_error_name = "Trace.InvalidRequest"


def validate_trace_window(
    since: datetime, until: datetime, now: datetime, *, resolved_at: datetime | None = None
) -> None:
    """Raise TraceRequestError unless since < until <= now and since is inside the retention.

    `resolved_at` is the moment a relative window ("10d") was counted back from (the request's
    submission). The retention is checked against it, not against `now`: by the time a step
    runs, `now` has moved on (seconds in AWS, far more under an accelerated local clock), and
    the documented maximum `--since 10d` would otherwise always be refused."""
    for name, moment in (("since", since), ("until", until), ("now", now)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise TraceRequestError(f"{name} must be timezone-aware (got {moment.isoformat()})")
    if since >= until:
        raise TraceRequestError(f"since ({since.isoformat()}) must be before until ({until.isoformat()})")
    if until > now:
        raise TraceRequestError(f"until ({until.isoformat()}) is in the future (now {now.isoformat()})")
    oldest = min(now, resolved_at or now) - EXECUTION_DATA_RETENTION
    if since < oldest:
        raise TraceRequestError(
            f"since ({since.isoformat()}) is older than the 10-day execution data retention "
            f"(oldest available {oldest.isoformat()})"
        )


class TimeSlice(BaseModel):
    start: datetime
    end: datetime
    rows: int


class SlicedRows(BaseModel):
    rows: list[dict[str, Any]] = Field(description="deduplicated by id, in slice (time) order")
    queries: int
    slices: list[TimeSlice] = Field(description="the windows whose rows were kept")
    saturated: list[TimeSlice] = Field(
        default_factory=list,
        description="slices still at the cap when no further split was allowed: rows may be missing",
    )

    @property
    def complete(self) -> bool:
        return not self.saturated


RowQuery = Callable[[datetime, datetime], list[dict[str, Any]]]


def slice_window(
    start: datetime,
    end: datetime,
    query: RowQuery,
    *,
    cap: int = QUERY_ROW_CAP,
    max_depth: int = 16,
    min_width: timedelta = timedelta(milliseconds=2),
    row_id: Callable[[dict[str, Any]], str] = lambda row: str(row["id"]),
) -> SlicedRows:
    """All rows of [start, end), querying `query(slice_start, slice_end)` per slice.

    `query` must return the rows whose start time is >= slice_start and < slice_end (half-open, so
    a row on a split point is returned by exactly one half; duplicates are removed anyway). A
    slice returning `cap` rows or more is split in two, down to `max_depth` splits or `min_width`;
    a slice still full at that point is reported in `saturated` instead of silently truncated.
    Depth is bounded, so the number of queries is at most 2 ** (max_depth + 1) - 1.
    """
    if end <= start:
        raise TraceRequestError("slice window must have start < end")
    if cap < 1 or max_depth < 0:
        raise ValueError("cap must be positive and max_depth non-negative")
    seen: set[str] = set()
    result = SlicedRows(rows=[], queries=0, slices=[])
    # Explicit stack (earliest slice on top) instead of recursion: order stays chronological.
    pending: list[tuple[datetime, datetime, int]] = [(start, end, 0)]
    while pending:
        slice_start, slice_end, depth = pending.pop()
        rows = query(slice_start, slice_end)
        result.queries += 1
        full = len(rows) >= cap
        splittable = depth < max_depth and (slice_end - slice_start) >= 2 * min_width
        if full and splittable:
            middle = slice_start + (slice_end - slice_start) / 2
            pending.append((middle, slice_end, depth + 1))
            pending.append((slice_start, middle, depth + 1))
            continue
        window = TimeSlice(start=slice_start, end=slice_end, rows=len(rows))
        result.slices.append(window)
        if full:
            result.saturated.append(window)
        for row in rows:
            key = row_id(row)
            if key not in seen:
                seen.add(key)
                result.rows.append(row)
    return result
