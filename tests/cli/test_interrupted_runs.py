"""A publish or release its state machine could not finish (timed out, stopped, an unrecorded
failure): the CLI reads the backstop's INTERRUPTED record and says what it says, with exit 7
when the org may not run what the records say, 6 when nothing changed in Genesys."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from typer.testing import CliRunner

from flowops.cli import app, exit_codes
from flowops.cli.interrupted import Interruption, read_interruption
from flowops.cli.publish import outcome_exit_code, outcome_line
from flowops.cli.release import release_exit_code, render_release
from flowops.store import RunStore
from tests.cli.conftest import run_probe_machine

MANUAL_CHECK = (
    "flow f-1: this run may have published a new version that was never verified nor rolled back. "
    "Compare the live published version with 2.0"
)


@dataclass
class Record:
    status: str
    details: dict[str, Any] = field(default_factory=dict)


class Records:
    """Run items as RunStore.get answers; `appear_after` gets return None first (not recorded yet)."""

    def __init__(self, record: Record | None, appear_after: int = 0) -> None:
        self.record, self.appear_after, self.gets = record, appear_after, 0

    def get(self, run_id: str) -> Record | None:
        self.gets += 1
        return self.record if self.gets > self.appear_after else None


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def interrupted(manual_check: str | None, by: str = "TIMED_OUT", leases: list[str] | None = None) -> Record:
    return Record(
        "INTERRUPTED",
        {
            "interrupted_by": by,
            "cause": f"publish run r-1 {by}",
            "manual_check": manual_check,
            "leases_released": ["f-1"] if leases is None else leases,
        },
    )


def read(records: Records, status: str, *, grace: float = 0.0, run: bool = True) -> Interruption | None:
    clock = Clock()
    return read_interruption(
        records, "r-1", status, is_run_workflow=run, grace_seconds=grace, sleep=clock.sleep, clock=clock
    )


# ---- reading the record ----------------------------------------------------------------------


def test_a_timed_out_run_whose_record_says_genesys_may_have_changed_exits_7() -> None:
    found = read(Records(interrupted(MANUAL_CHECK)), "TIMED_OUT")
    assert found is not None and found.recorded
    assert found.exit_code == exit_codes.ROLLBACK_FAILED
    first, check, scan = found.lines()
    assert "timed out: INTERRUPTED, 1 lease(s) freed (f-1)" in first
    assert "Genesys may have changed" in first
    assert check == f"check by hand: {MANUAL_CHECK}"
    assert "`flowops scan`" in scan


def test_a_timed_out_run_that_changed_nothing_exits_6_and_says_its_leases_were_freed() -> None:
    found = read(Records(interrupted(None, leases=["f-1", "new:flows/a.yaml"])), "TIMED_OUT")
    assert found is not None and found.exit_code == exit_codes.FAILED
    (line,) = found.lines()
    assert "2 lease(s) freed (f-1, new:flows/a.yaml)" in line
    assert "nothing was changed in Genesys" in line


def test_an_aborted_run_says_it_was_stopped_with_what_its_record_says() -> None:
    changed = read(Records(interrupted(MANUAL_CHECK, by="ABORTED")), "ABORTED")
    assert changed is not None and changed.exit_code == exit_codes.ROLLBACK_FAILED
    assert "aborted: INTERRUPTED" in changed.lines()[0]
    unchanged = read(Records(interrupted(None, by="ABORTED", leases=[])), "ABORTED")
    assert unchanged is not None and unchanged.exit_code == exit_codes.FAILED
    assert "no lease was held" in unchanged.lines()[0]


def test_a_record_the_backstop_has_not_written_yet_is_waited_for_then_assumed_unknown() -> None:
    # Given a run that timed out and whose record comes on the third read
    late = Records(interrupted(None), appear_after=2)
    # When the command waits long enough for it, it reads it
    found = read(late, "TIMED_OUT", grace=10)
    assert found is not None and found.recorded and found.exit_code == exit_codes.FAILED
    # But when the record is still missing at the end of the wait
    missing = read(Records(None), "ABORTED", grace=3)
    # Then nobody knows yet what the run left: exit 7, and how to look again
    assert missing is not None and not missing.recorded
    assert missing.exit_code == exit_codes.ROLLBACK_FAILED
    first, again = missing.lines()
    assert "aborted and is not recorded yet" in first and "leases may still be held" in first
    assert "flowops runs show r-1" in again and "flowops scan" in again


def test_runs_that_need_no_backstop_read_nothing() -> None:
    assert read(Records(interrupted(None)), "SUCCEEDED") is None
    # A failure the machine recorded itself (FAILED, ROLLED_BACK, ...) is its own record
    assert read(Records(Record("ROLLED_BACK")), "FAILED") is None
    # A failure the machine could not record is the backstop's, like a timeout
    unrecorded = read(Records(interrupted(None, by="FAILED")), "FAILED")
    assert unrecorded is not None and unrecorded.interrupted_by == "FAILED"
    # Scans and traces have no run items
    assert read(Records(None), "TIMED_OUT", run=False) is None


def test_a_record_without_the_leases_it_freed_still_reads() -> None:
    older = Record("INTERRUPTED", {"interrupted_by": "TIMED_OUT", "manual_check": None})
    found = read(Records(older), "TIMED_OUT")
    assert found is not None and "its leases freed" in found.lines()[0]


# ---- what publish, rollback and release print and exit with ----------------------------------


def _summary(status: str, found: Interruption | None, error: str | None = None) -> dict[str, Any]:
    return {
        "status": status,
        "error": error,
        "cause": "the execution timed out",
        "states": ["CheckPublishJob"],
        "interruption": found.document() if found is not None else None,
    }


def test_publish_and_rollback_say_the_record_and_exit_with_its_code() -> None:
    changed = _summary("TIMED_OUT", read(Records(interrupted(MANUAL_CHECK)), "TIMED_OUT"))
    assert outcome_exit_code(changed) == exit_codes.ROLLBACK_FAILED
    assert outcome_line(changed).splitlines()[1] == f"check by hand: {MANUAL_CHECK}"
    unchanged = _summary("ABORTED", read(Records(interrupted(None, by="ABORTED")), "ABORTED"))
    assert outcome_exit_code(unchanged) == exit_codes.FAILED
    assert "nothing was changed in Genesys" in outcome_line(unchanged)
    # Without an interruption the execution's own error decides, as before
    assert outcome_exit_code(_summary("FAILED", None, "Publish.RolledBack")) == exit_codes.FAILED


def test_release_says_the_record_and_exits_with_its_code() -> None:
    found = read(Records(None), "TIMED_OUT")
    summary = {**_summary("TIMED_OUT", found), "name": "rel-1"}
    assert release_exit_code(summary, {}) == exit_codes.ROLLBACK_FAILED
    lines = render_release(summary, {"status": "RUNNING", "details": {"environment": "dev"}})
    assert any("is not recorded yet" in line for line in lines)


def test_records_that_cannot_be_read_leave_an_uncaught_end_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    from flowops.cli import publish

    class Denied:
        def get(self, run_id: str) -> None:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetItem")

    class StepFunctions:
        def __init__(self, status: str) -> None:
            self.status = status

        def describe_execution(self, executionArn: str) -> dict[str, Any]:
            return {"name": "r-1", "status": self.status, "error": "States.Timeout", "cause": "timed out"}

    class Connection:
        def __init__(self, status: str) -> None:
            self.sfn = StepFunctions(status)

        def client(self, name: str) -> Any:
            return self.sfn

    def followed(sfn: Any, arn: str, **_: Any) -> tuple[dict[str, Any], Any]:
        snapshot = type("Snapshot", (), {"states": [], "polls": 0, "retries": 0, "elapsed_seconds": 0.0})
        return sfn.describe_execution(executionArn=arn), snapshot

    monkeypatch.setattr(publish, "progress_follow", followed)
    monkeypatch.setattr(publish, "run_records", lambda connection: Denied())
    # Given credentials that may not read the state table, a timed-out run is as unknown as an
    # unrecorded one (exit 7), and a FAILED run keeps its own error
    timed_out = publish.follow_execution(Connection("TIMED_OUT"), "arn:x:r-1", record_grace=0)  # type: ignore[arg-type]
    assert timed_out["interruption"]["recorded"] is False
    assert outcome_exit_code(timed_out) == exit_codes.ROLLBACK_FAILED
    failed = publish.follow_execution(Connection("FAILED"), "arn:x:r-1", record_grace=0)  # type: ignore[arg-type]
    assert failed["interruption"] is None


# ---- runs show, against executions of the local cloud ----------------------------------------

WAIT_PAST_ITS_TIMEOUT = {
    "TimeoutSeconds": 60,
    "StartAt": "Wait for a job that never ends",
    "States": {"Wait for a job that never ends": {"Type": "Wait", "Seconds": 900, "End": True}},
}


def _record(cloud: Any, run_id: str, kind: str, details: dict[str, Any]) -> None:
    runs = RunStore(os.environ["STATE_TABLE"], cloud.client("dynamodb"))
    runs.create(run_id, kind, org="dev")
    runs.move(run_id, "INTERRUPTED", details=details)


@pytest.mark.parametrize(
    ("machine", "manual_check", "code"),
    [
        ("PublishWorkflowTimedProbe", MANUAL_CHECK, exit_codes.ROLLBACK_FAILED),
        ("ReleaseWorkflowTimedProbe", None, exit_codes.FAILED),
    ],
)
def test_runs_show_reads_the_record_of_a_timed_out_run(
    cli_cloud: Any, machine: str, manual_check: str | None, code: int
) -> None:
    # Given a publish (release) execution that ran into its execution timeout, and the record
    # the backstop wrote for it
    run_id = f"{machine.lower()}-1"
    arn = run_probe_machine(cli_cloud, machine, WAIT_PAST_ITS_TIMEOUT, run_id)
    assert cli_cloud.sfn.describe_execution(executionArn=arn)["status"] == "TIMED_OUT"
    _record(
        cli_cloud,
        run_id,
        "release" if machine.startswith("Release") else "publish",
        {"interrupted_by": "TIMED_OUT", "manual_check": manual_check, "leases_released": ["f-1"]},
    )
    # When it is shown
    result = CliRunner().invoke(app, ["runs", "show", run_id])
    # Then the record is said after the states, with its exit code
    assert result.exit_code == code, result.output
    assert "INTERRUPTED, 1 lease(s) freed (f-1)" in result.stdout
    assert ("check by hand" in result.stdout) is (manual_check is not None)
    document = json.loads(CliRunner().invoke(app, ["runs", "show", run_id, "--json"]).stdout)
    assert document["interruption"]["exit_code"] == code


def test_runs_show_of_an_unrecorded_timeout_exits_7_and_of_a_timed_out_scan_6(cli_cloud: Any) -> None:
    # Given a publish execution that timed out, which the backstop has not recorded (yet)
    run_probe_machine(cli_cloud, "PublishWorkflowUnrecordedProbe", WAIT_PAST_ITS_TIMEOUT, "unrecorded-1")
    # When it is shown
    result = CliRunner().invoke(app, ["runs", "show", "unrecorded-1"])
    # Then nobody can yet say what it left in the org: exit 7, and how to look again
    assert result.exit_code == exit_codes.ROLLBACK_FAILED, result.output
    assert "timed out and is not recorded yet" in result.stdout
    assert "flowops runs show unrecorded-1" in result.stdout
    # And a scan that timed out has no run record to read: failed, as before
    run_probe_machine(cli_cloud, "ScanWorkflowTimedProbe", WAIT_PAST_ITS_TIMEOUT, "scan-timed-1")
    scan = CliRunner().invoke(app, ["runs", "show", "scan-timed-1"])
    assert scan.exit_code == exit_codes.FAILED, scan.output
    assert "INTERRUPTED" not in scan.stdout and "not recorded" not in scan.stdout


def test_runs_watch_ends_with_the_record_of_a_timed_out_run(
    cli_cloud: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a release execution that timed out and the backstop's record of it (nothing changed)
    run_probe_machine(cli_cloud, "ReleaseWorkflowWatchedProbe", WAIT_PAST_ITS_TIMEOUT, "watched-1")
    _record(cli_cloud, "watched-1", "release", {"interrupted_by": "TIMED_OUT", "leases_released": []})
    # When it is watched
    result = CliRunner().invoke(app, ["runs", "watch", "watched-1", "--interval", "0.05"])
    # Then the watch ends with the record's line and its exit code
    assert result.exit_code == exit_codes.FAILED, result.output
    assert result.stdout.strip().splitlines()[-1].startswith("run watched-1 timed out: INTERRUPTED")
    # And with no record yet, after a short wait, the watch says so: exit 7
    monkeypatch.setattr("flowops.cli.interrupted.RECORD_GRACE_SECONDS", 0.2)
    run_probe_machine(cli_cloud, "PublishWorkflowWatchedProbe", WAIT_PAST_ITS_TIMEOUT, "watched-2")
    unrecorded = CliRunner().invoke(app, ["runs", "watch", "watched-2", "--interval", "0.05"])
    assert unrecorded.exit_code == exit_codes.ROLLBACK_FAILED, unrecorded.output
    assert "is not recorded yet" in unrecorded.stdout
