"""Test helper: scan reports built from the org fixtures and from generated orgs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from flowops.graph import analyze
from flowops.lock import LockDiff, Lockfile
from flowops.report import render_scan_report
from flowops.trace import TraceReport

GENERATED_AT = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
_DATA_BLOCK = re.compile(r'<script type="application/json" id="report-data">(.*?)</script>', re.DOTALL)


def report_for(
    lock: Lockfile,
    diff: LockDiff | None = None,
    trace: TraceReport | None = None,
    *,
    draw_limit: int | None = None,
    title: str = "Scan report",
) -> str:
    options: dict[str, Any] = {} if draw_limit is None else {"draw_limit": draw_limit}
    return render_scan_report(
        lock, analyze(lock), diff, trace, title=title, generated_at=GENERATED_AT, **options
    )


def embedded_payload(document: str) -> dict[str, Any]:
    """The graph payload as the report's script reads it (JSON.parse of the block's text)."""
    match = _DATA_BLOCK.search(document)
    assert match is not None, "report has no #report-data block"
    payload: dict[str, Any] = json.loads(match.group(1))
    return payload
