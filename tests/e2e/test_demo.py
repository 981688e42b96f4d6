"""`make demo` end to end: the embedded default runs the main job and says what it found."""

from __future__ import annotations

import shutil

import pytest

from flowops.local.demo import run_demo

pytestmark = pytest.mark.slow


def test_demo_scans_detects_out_of_band_republish_and_reads_incrementally() -> None:
    # Given a generated org on the embedded default
    lines: list[str] = []

    # When the demo runs
    result = run_demo(flows=80, seed=11, echo=lines.append)

    # Then the client saw the org and the index
    assert result.org_summary["flows"] == 80
    assert result.org_summary["dependency_index"] == "OPERATIONAL"
    assert sum(result.org_summary["by_type"].values()) == 80
    # And the first scan built a lock, the second found exactly the republished flow as drift
    first, second = result.scans
    assert first["flows"] == second["flows"] == 80
    assert first["lock_sha256"] != second["lock_sha256"]
    assert second["drift"]["changed_flow_ids"] == [result.republished_flow_id]
    assert second["drift"]["flows_reversioned"] == 1
    # And the incremental scan re-read only that flow, for a small fraction of the API calls
    assert second["read_flows"] == 1
    assert second["api_calls"] * 10 < first["api_calls"]
    # And the printed summary names both scans and the drift
    text = "\n".join(lines)
    assert "what the Genesys client sees" in text
    assert f"drift names ['{result.republished_flow_id}']" in text
    # And the release part: a three-flow release, a release failing in wave 2 rolled back whole
    # (the first release's plan shows no changes afterwards), and a promotion to prod (approved)
    releases = result.steps["releases"]
    assert releases["first"]["status"] == "SUCCEEDED"
    assert (releases["failed"]["status"], releases["failed"]["error"]) == ("FAILED", "Release.RolledBack")
    assert releases["after_rollback_plan"] == "no-changes"
    assert releases["promoted"]["status"] == "SUCCEEDED"
    assert "releases: many flows at once" in text and "WAITING_FOR_APPROVAL" in text
    # And a `git push` to the local Git server released the pushed flow (when git is installed)
    if shutil.which("git") is not None:
        pushed = result.steps["git_push"]
        assert "-> webhook: started" in pushed[0], pushed
        assert pushed[1].startswith("release git-test-") and pushed[1].endswith(": SUCCEEDED"), pushed
