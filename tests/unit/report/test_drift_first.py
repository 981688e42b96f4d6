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


def test_drift_names_who_published_a_changed_flow_and_when() -> None:
    # Given a flow republished by a user whose name is hostile markup
    before = load_org_lock("diamond")
    when = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
    changed = before.flows[0].model_copy(
        update={"published_version": "9.0", "published_by": "Ana <b>x</b> (u-1)", "date_published": when}
    )
    after = before.model_copy(update={"flows": [changed, *before.flows[1:]]})
    # When the report is rendered
    html = render_scan_report(
        after, analyze(after), diff_locks(before, after), title="t", generated_at=datetime.now(UTC)
    )
    # Then the drift row and the summary above the table say who and when, escaped
    drift = html.split('id="drift"', 1)[1].split("</section>", 1)[0]
    assert "Ana &lt;b&gt;x&lt;/b&gt; (u-1) · 2026-11-30 09:15 UTC" in drift
    assert "published by Ana &lt;b&gt;x&lt;/b&gt; (u-1) at 2026-11-30 09:15 UTC" in drift
    assert "<b>x</b>" not in drift
