"""`flowops runs` after embedded commands: the executions an embedded cloud ran are kept with its
state (src/flowops/cli/embedded_state.py) and listed, shown and watched when no cloud runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowops.cli import app, embedded_state, exit_codes
from flowops.cli.local_cloud import ENDPOINTS_FILE_VARIABLE

pytestmark = pytest.mark.slow


@pytest.fixture
def nothing_running(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENDPOINTS_FILE_VARIABLE, str(tmp_path / "absent.json"))
    for name in ("ARTIFACTS_BUCKET", "STATE_TABLE", "AUDIT_TABLE", "FLOWOPS_SCAN_STATE_MACHINE_ARN"):
        monkeypatch.delenv(name, raising=False)


def _executions() -> list[dict[str, object]]:
    listed = CliRunner().invoke(app, ["runs", "list", "--json"])
    assert listed.exit_code == exit_codes.OK, listed.output
    assert "the executions the embedded clouds kept" in listed.stderr
    return list(json.loads(listed.stdout)["executions"])


def test_runs_of_embedded_scans_are_kept_across_invocations(nothing_running: None) -> None:
    runner = CliRunner()
    # Given no cloud and no kept state: nothing to list, and it says so
    assert runner.invoke(app, ["runs", "list"]).exit_code == exit_codes.UNREACHABLE

    # When an embedded scan runs, then `runs list` in a later invocation lists its execution
    first = runner.invoke(app, ["scan", "--flows", "12", "--seed", "3"])
    assert first.exit_code == exit_codes.OK, first.output
    after_one = _executions()
    assert [(run["state_machine"], run["status"]) for run in after_one] == [
        (after_one[0]["state_machine"], "SUCCEEDED")
    ]
    assert "Scan" in str(after_one[0]["state_machine"])

    # When a second embedded scan of the same org runs (a new cloud, started from the kept state)
    second = runner.invoke(app, ["scan", "--flows", "12", "--seed", "3"])
    assert second.exit_code == exit_codes.OK, second.output

    # Then both executions are listed, the newest first, the first one unchanged
    after_two = _executions()
    assert len(after_two) == 2
    assert after_two[1] == after_one[0]
    assert after_two[0]["execution_arn"] != after_one[0]["execution_arn"]
    assert str(after_two[0]["started_at"]) >= str(after_two[1]["started_at"])

    # And the first execution is shown and watched (it ended) from its kept history
    name = str(after_one[0]["name"])
    shown = runner.invoke(app, ["runs", "show", name, "--json"])
    assert shown.exit_code == exit_codes.OK, shown.output
    document = json.loads(shown.stdout)
    assert document["status"] == "SUCCEEDED"
    names = [state["name"] for state in document["states"]]
    assert names[0] == "Start the scan" and names[-1] == "Scan complete"
    assert "Read one page of flows and their dependencies" in names
    assert any(key.startswith("locks/") for key in document["artifacts"])
    watched = runner.invoke(app, ["runs", "watch", name])
    assert watched.exit_code == exit_codes.OK, watched.output
    assert "execution SUCCEEDED after" in watched.stdout

    # And an execution it never ran is the usual usage error
    unknown = runner.invoke(app, ["runs", "show", "no-such-execution"])
    assert unknown.exit_code == exit_codes.USAGE_ERROR
    errors = [line for line in unknown.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: no execution named 'no-such-execution' in the flowops state machines "
        "(see `flowops runs list`)"
    ]

    # And the history is bounded
    assert len(embedded_state.load_runs()) <= embedded_state.KEPT_RUNS


def test_a_command_that_fails_still_keeps_its_run(nothing_running: None) -> None:
    from flowops.cli.local_cloud import embedded_cloud
    from flowops.cli.scan import ScanExecutionError, run_scan_execution

    # Given an embedded command that fails: after its scan ran, or (a Lambda timing out on a
    # loaded machine) because its scan failed
    scan_failed = False
    with (
        pytest.raises((RuntimeError, ScanExecutionError)),
        embedded_cloud(flows=12, seed=5, persist=True) as cloud,
    ):
        try:
            run_scan_execution(cloud.connection, {"trigger": "cli"}, timeout=600)
        except ScanExecutionError:
            scan_failed = True
            raise
        raise RuntimeError("the command failed after its run")

    # Then the failure was not hidden (raised above), and its execution is kept as it ended
    executions = _executions()
    assert [run["status"] for run in executions] == ["FAILED" if scan_failed else "SUCCEEDED"]
