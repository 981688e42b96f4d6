"""The scan command's progress: pages read and planned, from every page of the execution history."""

from __future__ import annotations

import json
from typing import Any

from flowops.cli.scan import PLAN_STATE, _ScanProgress


class _PagedHistory:
    """Step Functions' history API: newest first with reverseOrder, at most maxResults a page."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, event: dict[str, Any]) -> None:
        self.events.append({"id": len(self.events) + 1, **event})

    def get_execution_history(
        self, *, executionArn: str, maxResults: int, reverseOrder: bool = False, nextToken: str | None = None
    ) -> dict[str, Any]:
        ordered = list(reversed(self.events)) if reverseOrder else self.events
        start = int(nextToken or 0)
        page: dict[str, Any] = {"events": ordered[start : start + maxResults]}
        if start + maxResults < len(ordered):
            page["nextToken"] = str(start + maxResults)
        return page


def _plan(history: _PagedHistory, pages: int) -> None:
    history.add({"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": PLAN_STATE}})
    output = json.dumps({"plan": {"page_count": pages}})
    history.add(
        {"type": "TaskStateExited", "stateExitedEventDetails": {"name": PLAN_STATE, "output": output}}
    )


def _read_pages(history: _PagedHistory, count: int) -> None:
    for _ in range(count):
        history.add({"type": "MapIterationStarted"})
        history.add({"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "ReadPage"}})
        for kind in ("TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited"):
            history.add({"type": kind})
        history.add({"type": "MapIterationSucceeded"})


def test_progress_counts_every_page_past_the_first_thousand_history_events() -> None:
    # Given a scan of 300 pages whose history has grown past 2,000 events
    history = _PagedHistory()
    _plan(history, 300)
    _read_pages(history, 180)
    progress = _ScanProgress(history, "arn:exec")
    assert progress.read() == (180, 300, "ReadPage")

    # When more pages are read and the progress is read again
    _read_pages(history, 120)

    # Then every page read is counted once, against the planned total
    assert len(history.events) > 2000
    assert progress.read() == (300, 300, "ReadPage")
