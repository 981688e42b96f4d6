"""Pure parts of the publish steps: the poll schedule, job polling and deadlines, the health check's
jobs, lock updates, error naming."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from flowops.genesys.models import ArchitectJob, FlowVersion
from flowops.lock import lock_sha256
from flowops.publish.errors import (
    PublishDeadlineExceededError,
    PublishJobFailedError,
    RollbackFailedError,
    as_step_functions_error,
)
from flowops.publish.lockupdate import ConsumedResource, FlowNotInLockError, with_flow_version
from flowops.publish.models import (
    MAX_JOB_POLLS,
    JobProgress,
    PublishTiming,
    SnapshotOutcome,
    StepFailure,
    TargetFlow,
    ValidationOutcome,
)
from flowops.publish.steps import PublishPorts, check_job, check_publish_job, failure_message, health_check
from tests.unit.publish.fakes import FakeGenesys, flow, main_yaml, org_lock


def validation(timing: PublishTiming | None = None) -> ValidationOutcome:
    return ValidationOutcome(
        ok=True,
        summary="valid",
        report_key="publish/dev/run-1/validation.json",
        target=TargetFlow(id="f-main", name="Main IVR", type="INBOUNDCALL"),
        source_kind="inline",
        yaml_key="publish/dev/run-1/flow.yaml",
        environment="test",
        requester="ci",
        reason="r",
        timing=timing or PublishTiming(),
    )


def ports(genesys: FakeGenesys, time_scale: float = 1.0) -> PublishPorts:
    # Only the Genesys port is used by check_job; the stores are never touched here.
    return PublishPorts(
        org="dev",
        genesys=genesys,
        artifacts=None,
        runs=None,
        audit=None,
        pointers=None,  # type: ignore[arg-type]
        leases=None,
        time_scale=time_scale,
    )  # type: ignore[arg-type]


def schedule(timing: PublishTiming, until_seconds: float) -> list[tuple[float, int]]:
    """(instant of each poll, the wait before it) for a job polled by `timing` (instant polls)."""
    polls, at, wait = [], 0.0, timing.first_poll_seconds
    while at + wait <= until_seconds:
        at += wait
        polls.append((at, wait))
        wait = timing.wait_after(wait, at)
    return polls


def test_a_job_is_polled_every_few_seconds_for_two_minutes_then_backs_off_to_the_cap() -> None:
    timing = PublishTiming()
    polls = schedule(timing, 400)
    waits_in_window = [wait for at, wait in polls if at <= timing.fast_window_seconds]
    # Given the default timing, the first poll comes 2 s in, then one every 3 s during the window
    assert waits_in_window == [2] + [3] * (len(waits_in_window) - 1)
    # Then past the window each wait doubles up to the 30 s cap
    after = [wait for at, wait in polls if at > timing.fast_window_seconds + 3]
    assert after[:4] == [6, 12, 24, 30] and set(after[4:]) == {30}


@pytest.mark.parametrize("job_seconds", [1, 5, 15, 45, 100, 119])
def test_a_job_of_up_to_two_minutes_is_seen_within_one_short_interval(job_seconds: float) -> None:
    # Given a job that ends `job_seconds` after it started, polled instantly on the default schedule
    timing = PublishTiming()
    seen = next(at for at, _ in schedule(timing, 960) if at >= job_seconds)
    # Then the poll that sees its end comes at most one short interval (3 s) after it
    assert seen - job_seconds <= timing.fast_poll_seconds


def test_the_default_schedule_fits_one_execution_history() -> None:
    timing = PublishTiming()
    # Given the publish job, its fence and the rollback job, each polled to its deadline
    polls = timing.polls_within(timing.publish_deadline_seconds) + 2 * timing.polls_within(
        timing.rollback_deadline_seconds
    )
    # Then the polls stay under what the history budget allows (tests/infra/test_history_budget.py)
    assert polls == 213 and polls <= MAX_JOB_POLLS


def test_a_schedule_too_dense_for_one_execution_is_refused_with_the_fix() -> None:
    # Given a timing that would poll every second for the whole 16-minute deadlines
    with pytest.raises(ValidationError) as refused:
        PublishTiming(fast_poll_seconds=1, fast_window_seconds=960)
    # Then it is refused, naming the knobs that fix it
    assert "fast_poll_seconds" in str(refused.value) and str(MAX_JOB_POLLS) in str(refused.value)


def test_running_job_is_polled_again_after_the_short_interval() -> None:
    genesys = FakeGenesys(flows=[flow("f-main", "Main IVR")])
    genesys.jobs["job-1"] = ArchitectJob(id="job-1", status="Started")
    progress = JobProgress(purpose="publish", mode="job", job_id="job-1", started_at=1000.0, wait_seconds=2)
    polled = check_job(progress, validation(), ports(genesys), now=1003.0)
    assert (polled.finished, polled.status, polled.polls, polled.wait_seconds) == (False, "Started", 1, 3)


def test_a_job_past_the_window_is_polled_with_a_growing_wait() -> None:
    genesys = FakeGenesys(flows=[flow("f-main", "Main IVR")])
    genesys.jobs["job-1"] = ArchitectJob(id="job-1", status="Started")
    progress = JobProgress(purpose="publish", mode="job", job_id="job-1", started_at=1000.0, wait_seconds=12)
    # Given a job 130 s old whose last wait was 12 s
    polled = check_job(progress, validation(), ports(genesys), now=1130.0)
    # Then the next wait doubles
    assert polled.wait_seconds == 24


class OneArtifact:
    """The artifact store as the health check reads it: the deployed YAML, whatever the key."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def get_bytes(self, key: str) -> bytes:
        return self.body


def test_the_health_check_validates_while_it_exports_the_live_version() -> None:
    deployed = main_yaml()
    genesys = FakeGenesys(flows=[flow("f-main", "Main IVR", version="3.0")])
    genesys.exports[("f-main", "3.0")] = deployed
    health_ports = ports(genesys)
    health_ports.artifacts = OneArtifact(deployed.encode())  # type: ignore[assignment]
    done = JobProgress(
        purpose="publish", mode="job", job_id="job-1", started_at=1000.0, wait_seconds=3, finished=True,
        status="Success", published_version="3.0",
    )  # fmt: skip
    # Given a publish job that produced version 3.0 running the deployed YAML
    outcome = health_check(
        validation(), SnapshotOutcome(version="2.0", yaml_key=None), done, health_ports, now=1010.0
    )
    # Then the validate job is started before the export and read after it: the two jobs overlap
    jobs = [call.split()[0] for call in genesys.calls if "_job" in call]
    assert jobs == ["start_validate_job", "start_export_job", "get_export_job", "get_validate_job"]
    # And the health check asserts what it did before: the version, its content, Genesys' validation
    assert outcome.published_version == "3.0" and outcome.fingerprint is not None
    assert outcome.checks[-1] == "Genesys validate job passed"
    assert any("runs the deployed content" in check for check in outcome.checks)


def health_ports(genesys: FakeGenesys, deployed: str) -> PublishPorts:
    checked = ports(genesys)
    checked.artifacts = OneArtifact(deployed.encode())  # type: ignore[assignment]
    return checked


def test_the_poll_that_sees_the_publish_job_end_health_checks_the_new_version() -> None:
    deployed = main_yaml()
    genesys = FakeGenesys(flows=[flow("f-main", "Main IVR", version="3.0")])
    genesys.exports[("f-main", "3.0")] = deployed
    genesys.jobs["job-1"] = ArchitectJob(id="job-1", status="Started")
    progress = JobProgress(purpose="publish", mode="job", job_id="job-1", started_at=1000.0, wait_seconds=2)
    snapshot = SnapshotOutcome(version="2.0", yaml_key=None)
    # Given a poll that finds the job still running: no health check yet
    running = check_publish_job(progress, validation(), snapshot, health_ports(genesys, deployed), now=1002.0)
    assert not running.finished and running.health is None
    assert not [call for call in genesys.calls if "validate_job" in call or "export_job" in call]
    # When the next poll finds it ended
    genesys.jobs["job-1"] = ArchitectJob(id="job-1", status="Success")
    done = check_publish_job(running, validation(), snapshot, health_ports(genesys, deployed), now=1005.0)
    # Then the same invocation health-checked version 3.0: its content and Genesys' validation
    assert done.finished and done.health is not None and done.health.published_version == "3.0"
    assert done.health.checks[-1] == "Genesys validate job passed"


def test_a_fence_poll_never_health_checks() -> None:
    genesys = FakeGenesys(flows=[flow("f-main", "Main IVR", version="3.0")])
    genesys.jobs["job-1"] = ArchitectJob(id="job-1", status="Success")
    fence = JobProgress(purpose="fence", mode="job", job_id="job-1", started_at=1000.0, wait_seconds=2)
    # Given the publish job a rollback waits for ends
    ended = check_publish_job(
        fence, validation(), SnapshotOutcome(version="2.0", yaml_key=None), ports(genesys), now=1005.0
    )
    # Then the rollback decides next: nothing is health-checked
    assert ended.finished and ended.health is None


def test_successful_job_reports_the_published_version() -> None:
    genesys = FakeGenesys(flows=[flow("f-main", "Main IVR", version="3.0")])
    genesys.jobs["job-1"] = ArchitectJob(id="job-1", status="Success")
    progress = JobProgress(purpose="publish", mode="job", job_id="job-1", started_at=1000.0, wait_seconds=2)
    done = check_job(progress, validation(), ports(genesys), now=1001.0)
    assert done.finished and done.published_version == "3.0"


def test_failed_job_raises_with_architect_messages_verbatim() -> None:
    genesys = FakeGenesys(flows=[flow("f-main", "Main IVR")])
    genesys.jobs["job-1"] = ArchitectJob.model_validate(
        {
            "id": "job-1",
            "status": "Failure",
            "messages": [{"type": "Error", "text": "Unable to find a queue named 'X'."}],
        }
    )
    publish = JobProgress(purpose="publish", mode="job", job_id="job-1", started_at=0.0, wait_seconds=2)
    with pytest.raises(PublishJobFailedError, match=r"Error: Unable to find a queue named 'X'\."):
        check_job(publish, validation(), ports(genesys), now=1.0)
    with pytest.raises(RollbackFailedError):
        check_job(publish.model_copy(update={"purpose": "rollback"}), validation(), ports(genesys), now=1.0)


def test_deadline_counts_accelerated_time() -> None:
    # Given a 60x local clock: 20 real seconds are 1200 simulated seconds, past a 960 s deadline
    genesys = FakeGenesys(flows=[flow("f-main", "Main IVR")])
    genesys.jobs["job-1"] = ArchitectJob(id="job-1", status="Started")
    progress = JobProgress(purpose="publish", mode="job", job_id="job-1", started_at=1000.0, wait_seconds=2)
    with pytest.raises(PublishDeadlineExceededError, match="still Started after 1200 s"):
        check_job(progress, validation(), ports(genesys, time_scale=60.0), now=1020.0)
    assert not check_job(progress, validation(), ports(genesys, time_scale=1.0), now=1020.0).finished


def test_lock_update_replaces_one_flow_and_records_every_consumed_object() -> None:
    lock = org_lock()
    consumed = [
        ConsumedResource(id="q-support", type="QUEUE", name="Support"),
        ConsumedResource(id="q-sales", type="QUEUE", name="Sales"),
    ]
    updated = with_flow_version(lock, "f-main", "3.0", consumed)
    main = updated.flow("f-main")
    assert main is not None and main.published_version == "3.0"
    assert [dep.id for dep in main.consumes] == ["q-sales", "q-support"]
    assert updated.object("q-sales") is not None and updated.object("f-main").version == "3.0"  # type: ignore[union-attr]
    assert updated.flow("f-caller") == lock.flow("f-caller")
    assert lock_sha256(updated) != lock_sha256(lock)
    with pytest.raises(FlowNotInLockError):
        with_flow_version(lock, "f-unknown", "1.0", [])


def test_failure_message_unwraps_the_lambda_cause() -> None:
    cause = json.dumps(
        {"errorMessage": "job failed: boom", "errorType": "Publish.JobFailed", "stackTrace": []}
    )
    assert failure_message(StepFailure(Error="Publish.JobFailed", Cause=cause)) == "job failed: boom"
    assert failure_message(StepFailure(Error="States.Timeout", Cause="plain text")) == "plain text"


def test_errors_are_renamed_for_step_functions_and_keep_their_type() -> None:
    renamed = as_step_functions_error(PublishJobFailedError("boom"))
    assert type(renamed).__name__ == "Publish.JobFailed"
    assert isinstance(renamed, PublishJobFailedError) and str(renamed) == "boom"
    plain = ValueError("x")
    assert as_step_functions_error(plain) is plain
    assert FlowVersion(id="1.0").id == "1.0"
