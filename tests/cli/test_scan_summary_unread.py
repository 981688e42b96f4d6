"""`flowops scan` says how complete its lock is: the unread flows and why, bounded."""

from __future__ import annotations

from typing import Any

from flowops.cli.scan import UNREAD_LINES_SHOWN, summary_lines


def document(unread: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "flows": 3, "org": "dev", "nodes": 4, "edges": 2, "lock_sha256": "a" * 64,
        "pointer": {"message": "advanced"}, "cycles": [], "waves": [["f"]], "missing": [], "problems": [],
        "drift": {
            "flows_added": 0, "flows_removed": 0, "flows_reversioned": 0,
            "edges_added": 0, "edges_removed": 0,
        },
        "api_calls": 5, "read_flows": 2, "reused_flows": 0, "report_key": "scans/dev/s/report.json",
        "unread": unread,
    }  # fmt: skip


def test_a_complete_lock_prints_no_unread_line() -> None:
    assert not [line for line in summary_lines(document([])) if line.startswith("unread")]


def test_unread_flows_are_counted_and_named_up_to_a_limit() -> None:
    # Given a lock with more unread flows than the summary shows
    unread = [
        {"id": f"f{n}", "message": f"flow f{n}: consumed resources not read (NOT_INDEXED)"} for n in range(12)
    ]
    # When the summary is printed
    lines = summary_lines(document(unread))
    # Then it counts them, names the first ones with their reason, and points at the report
    assert any(line.startswith("unread   12 flows") for line in lines)
    named = [line for line in lines if line.startswith("  - ")]
    assert len(named) == UNREAD_LINES_SHOWN and "NOT_INDEXED" in named[0]
    assert any("2 more" in line for line in lines)
