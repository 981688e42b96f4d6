"""Pure parts of the publish steps: backoff, job polling and deadlines, lock updates, error naming."""

from __future__ import annotations

import json

import pytest

from flowops.genesys.models import ArchitectJob, FlowVersion
from flowops.lock import lock_sha256
from flowops.publish.errors import (
    PublishDeadlineExceededError,
    PublishJobFailedError,
    RollbackFailedError,
    as_step_functions_error,
)
from flowops.publish.lockupdate import ConsumedResource, FlowNotInLockError, with_flow_version
from flowops.publish.models import JobProgress, PublishTiming, StepFailure, TargetFlow, ValidationOutcome
from flowops.publish.steps import PublishPorts, check_job, failure_message, next_wait_seconds
from tests.unit.publish.fakes import FakeGenesys, flow, org_lock


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


def test_poll_waits_grow_exponentially_up_to_the_cap() -> None:
    timing = PublishTiming(first_poll_seconds=2, max_poll_seconds=30, backoff_rate=2.0)
    assert [next_wait_seconds(timing, n) for n in range(6)] == [2, 4, 8, 16, 30, 30]


def test_running_job_is_polled_again_with_a_longer_wait() -> None:
    genesys = FakeGenesys(flows=[flow("f-main", "Main IVR")])
    genesys.jobs["job-1"] = ArchitectJob(id="job-1", status="Started")
    progress = JobProgress(purpose="publish", mode="job", job_id="job-1", started_at=1000.0, wait_seconds=2)
    polled = check_job(progress, validation(), ports(genesys), now=1003.0)
    assert (polled.finished, polled.status, polled.polls, polled.wait_seconds) == (False, "Started", 1, 4)


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
