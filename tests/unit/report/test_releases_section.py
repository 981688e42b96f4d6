"""The scan report's Releases section: recent releases, newest first, each linked to the flows
it changed (their graph nodes), read from the outcomes releases leave in the artifacts bucket."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flowops.graph import analyze
from flowops.lock.models import LockedFlow, Lockfile
from flowops.report import render_scan_report
from flowops.report.releases import recent_releases


class Outcomes:
    def __init__(self, documents: dict[str, Any]) -> None:
        self.documents = documents

    def list_keys(self, prefix: str) -> list[str]:
        return sorted(key for key in self.documents if key.startswith(prefix))

    def get_json(self, key: str) -> Any:
        return json.loads(json.dumps(self.documents[key]))


def outcome(run_id: str, started_at: str, status: str, flows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "status": status,
        "environment": "test",
        "summary": "s",
        "started_at": started_at,
        "flows": flows,
    }


STORE = Outcomes(
    {
        "releases/dev/runs/rel-a/release.json": outcome(
            "rel-a",
            "2026-12-01T10:00:00Z",
            "RELEASED",
            [
                {
                    "key": "INBOUNDCALL/Main IVR",
                    "ok": True,
                    "flow_id": "f-main",
                    "version_before": "2.0",
                    "version_after": "3.0",
                }
            ],
        ),
        "releases/dev/runs/rel-b/release.json": outcome(
            "rel-b",
            "2026-12-02T10:00:00Z",
            "ROLLED_BACK",
            [{"key": "INBOUNDCALL/New <Line>", "ok": True, "flow_id": "f-new", "version_before": "1.0"}],
        ),
        "releases/dev/runs/rel-b/plan.json": {"not": "an outcome"},
        "releases/dev/runs/rel-c/release.json": {"garbage": True},
        "releases/other/runs/rel-x/release.json": outcome("rel-x", "2026-12-03T00:00:00Z", "RELEASED", []),
    }
)


def test_recent_releases_are_this_orgs_outcomes_newest_first() -> None:
    releases = recent_releases(STORE, "dev")
    assert [release.run_id for release in releases] == ["rel-b", "rel-a"]
    assert recent_releases(STORE, "dev", limit=1)[0].run_id == "rel-b"


def test_the_report_links_each_release_to_the_flows_it_changed() -> None:
    # Given a lock with Main IVR, and two releases: one updated Main IVR, one created and (rolled
    # back) deleted a flow the graph does not have
    lock = Lockfile(
        org="dev",
        flows=[LockedFlow(id="f-main", name="Main IVR", type="INBOUNDCALL", published_version="3.0")],
    )
    html = render_scan_report(
        lock,
        analyze(lock),
        None,
        title="t",
        generated_at=datetime(2026, 12, 2, tzinfo=UTC),
        releases=recent_releases(STORE, "dev"),
    )
    # Then the section and its nav link are there, Main IVR links to its node with its versions
    assert '<section id="releases">' in html and 'href="#releases"' in html
    assert 'data-select="f-main"' in html and "2.0 → 3.0" in html
    # and the deleted flow is named (escaped), not linked
    assert "New &lt;Line&gt;" in html and 'data-select="f-new"' not in html and "1.0 → deleted" in html
    assert html.index("rel-b") < html.index("rel-a")


def test_without_releases_the_report_has_no_releases_section() -> None:
    lock = Lockfile(org="dev", flows=[])
    html = render_scan_report(
        lock, analyze(lock), None, title="t", generated_at=datetime(2026, 12, 2, tzinfo=UTC)
    )
    assert 'id="releases"' not in html
