"""The report opens with what changed: the drift section comes before the graph and tables."""

from __future__ import annotations

from datetime import UTC, datetime

from flowops.graph import analyze
from flowops.lock import diff_locks
from flowops.report.html import render_scan_report

from tests.unit.lock.org_files import load_org_lock


def test_drift_is_the_first_section_of_the_report() -> None:
    # Given two locks of an org, the newer one with a flow republished
    before = load_org_lock("diamond")
    after = before.model_copy(
        update={
            "flows": [
                flow.model_copy(update={"published_version": "9.0"}) if index == 0 else flow
                for index, flow in enumerate(before.flows)
            ]
        }
    )
    # When the report is rendered
    html = render_scan_report(
        after, analyze(after), diff_locks(before, after), title="t", generated_at=datetime.now(UTC)
    )
    # Then the drift section (and its navigation link) come first
    body = html.split("<body", 1)[1]
    assert body.index('id="drift"') < body.index('id="cycles"') < body.index('id="waves"')
    assert body.index('href="#drift"') < body.index('href="#graph-section"')
