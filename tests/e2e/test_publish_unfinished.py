"""A publish execution its state machine cannot finish — timed out, stopped, or failed where
recording the failure failed too — ends recorded, unleased and notified all the same: the
synthesized EventBridge rule delivers its status change to RecordUnfinishedRun
(flowops.unfinished). A failure the machine recorded itself is not recorded twice."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from flowops.cli import exit_codes
from flowops.cli.publish import follow_execution, outcome_exit_code, outcome_line
from flowops.local.runtime.execution import wait_for_execution
from tests.e2e.publish_helpers import (
    MAIN_FLOW,
    PUBLISH_STATE_MACHINE,
    PublishWorld,
    start_world,
    with_execution_timeout,
)

pytestmark = pytest.mark.slow

SHORT_PUBLISH_TIMEOUT_SECONDS = 600
UNFINISHED_RULE = "UnfinishedRunsPublishEnded"


@pytest.fixture
def world_factory(
    start_simulator: Callable[..., Any],
    local_cloud_factory: Callable[..., Any],
    synthesized_template: dict[str, Any],
) -> Callable[..., PublishWorld]:
    def build(*, publish_timeout: int | None = None, **options: Any) -> PublishWorld:
        template = (
            with_execution_timeout(synthesized_template, "PublishWorkflow", publish_timeout)
            if publish_timeout
            else synthesized_template
        )
        return start_world(
            start_simulator, lambda **kwargs: local_cloud_factory(template=template, **kwargs), **options
        )

    return build


def backstop_outcome(world: PublishWorld, run_id: str) -> dict[str, Any]:
    """What RecordUnfinishedRun answered for `run_id` (after every delivery so far)."""
    world.cloud.events.drain(timeout=60)
    deliveries = [d for d in world.cloud.events.deliveries_to(UNFINISHED_RULE) if run_id in d.payload]
    assert len(deliveries) == 1, deliveries
    assert deliveries[0].error is None, deliveries[0].error
    (call,) = [
        c
        for c in world.cloud.runner.invocations
        if c.handler.endswith("record_unfinished_run.handler") and run_id in json.dumps(c.event)
    ]
    assert call.error_type is None
    return {"delivery": deliveries[0], "payload": json.loads(deliveries[0].payload)}


def messages_about(world: PublishWorld, run_id: str) -> list[dict[str, Any]]:
    found = []
    for sent in world.sns_messages():
        text = json.dumps(sent["message"])
        if run_id in text:
            found.append(sent)
    return found


def test_a_publish_that_reaches_its_execution_timeout_is_recorded_unleased_and_paged(
    world_factory: Callable[..., PublishWorld],
) -> None:
    # Given Architect jobs that never finish (`job=stuck`) and a publish machine whose execution
    # timeout (600 s) comes before the job's 960 s deadline
    world = world_factory(faults="job=stuck", publish_timeout=SHORT_PUBLISH_TIMEOUT_SECONDS)
    # When version 3 is published
    result = world.publish("publish-timeout")
    # Then the execution timed out while polling the job, uncaught, as in AWS
    assert result.status == "TIMED_OUT", (result.error, result.cause)
    assert "CheckPublishJob" in result.states_entered()
    assert "RollbackToPreviousVersion" not in result.states_entered()
    # And the backstop recorded it: the run item says interrupted by the timeout, with what to check
    backstop_outcome(world, "publish-timeout")
    run = world.run_item("publish-timeout")
    assert run.status == "INTERRUPTED"
    assert run.details["interrupted_by"] == "TIMED_OUT"
    assert "may have published a new version" in run.details["manual_check"]
    assert run.details["snapshot_version"] == "2.0"
    # And the lease is free, the audit says so, and people were paged (the job may still publish)
    assert world.lease_holder() is None
    assert world.audit_kinds("publish-timeout") == ["publish.interrupted"]
    (page,) = messages_about(world, "publish-timeout")
    assert "RollbackFailedTopic" in page["topic"]
    assert "TIMED_OUT" in json.dumps(page["message"])
    # And `flowops publish` following the run says what the record says: check by hand, exit 7
    summary = follow_execution(world.connection(), result.execution_arn, timeout=30, record_grace=30)
    assert outcome_exit_code(summary) == exit_codes.ROLLBACK_FAILED
    assert "check by hand: flow" in outcome_line(summary) and "flowops scan" in outcome_line(summary)


def test_a_stopped_publish_is_recorded_unleased_and_paged(world_factory: Callable[..., PublishWorld]) -> None:
    # Given a publish polling a job that does not finish
    world = world_factory(faults="job=stuck")
    arn = world.cloud.state_machine_arn(PUBLISH_STATE_MACHINE)
    started = world.cloud.sfn.start_execution(
        stateMachineArn=arn, name="publish-stopped", input=json.dumps(world.request("publish-stopped"))
    )
    execution_arn = started["executionArn"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        history = world.cloud.sfn.get_execution_history(executionArn=execution_arn)["events"]
        if any(e.get("stateEnteredEventDetails", {}).get("name") == "CheckPublishJob" for e in history):
            break
        time.sleep(0.05)
    # When an operator stops it (StopExecution)
    world.cloud.sfn.stop_execution(executionArn=execution_arn, error="Operator.Stop", cause="wrong flow")
    result = wait_for_execution(world.cloud, execution_arn, timeout=10)
    # Then it is ABORTED, and the backstop recorded it, freed the lease and paged people: the
    # publish job it started may still change the flow
    assert result.status == "ABORTED"
    backstop_outcome(world, "publish-stopped")
    run = world.run_item("publish-stopped")
    assert (run.status, run.details["interrupted_by"]) == ("INTERRUPTED", "ABORTED")
    assert world.lease_holder() is None
    assert world.audit_kinds("publish-stopped") == ["publish.interrupted"]
    (page,) = messages_about(world, "publish-stopped")
    assert "RollbackFailedTopic" in page["topic"]
    # And `flowops publish` says it was stopped and what to check: exit 7
    summary = follow_execution(world.connection(), execution_arn, timeout=30, record_grace=30)
    assert outcome_exit_code(summary) == exit_codes.ROLLBACK_FAILED
    assert outcome_line(summary).startswith("run publish-stopped aborted: INTERRUPTED, 1 lease(s) freed")


def test_a_failure_whose_recording_failed_too_is_recorded_by_the_backstop(
    world_factory: Callable[..., PublishWorld],
) -> None:
    # Given Lambda throttling every attempt of the snapshot step AND of the step recording that
    # failure (all retries spent: the run ends PublishFailedUnrecorded, lease still held)
    world = world_factory()
    world.cloud.runner.inject_service_error("SnapshotFlowVersion", "TooManyRequestsException", times=20)
    world.cloud.runner.inject_service_error("RecordPublishFailure", "TooManyRequestsException", times=20)
    # When version 3 is published
    result = world.publish("publish-unrecorded")
    # Then the machine could not record it ...
    assert result.status == "FAILED"
    assert result.states_entered()[-1] == "PublishFailedUnrecorded", result.states_entered()
    # ... and the backstop did: nothing changed in Genesys, so operations are told, not people
    backstop_outcome(world, "publish-unrecorded")
    run = world.run_item("publish-unrecorded")
    assert (run.status, run.details["interrupted_by"]) == ("INTERRUPTED", "FAILED")
    assert "Nothing was changed in Genesys" in run.details["cause"]
    assert world.sim_flow()["publishedVersion"] == "2.0"
    assert world.lease_holder() is None
    assert world.audit_kinds("publish-unrecorded") == ["publish.interrupted"]
    (alarm,) = messages_about(world, "publish-unrecorded")
    assert "AlarmTopic" in alarm["topic"]
    # And `flowops publish` says the run failed without changing anything: exit 6
    summary = follow_execution(world.connection(), result.execution_arn, timeout=30, record_grace=30)
    assert outcome_exit_code(summary) == exit_codes.FAILED
    assert "nothing was changed in Genesys" in outcome_line(summary)


def test_a_failure_the_machine_recorded_is_not_recorded_twice(
    world_factory: Callable[..., PublishWorld],
) -> None:
    # Given a publish that validation refuses (the machine records it FAILED itself)
    world = world_factory(scan=True)
    result = world.publish("publish-refused", yaml="not: [a flow")
    assert result.status == "FAILED" and result.error == "Publish.ValidationFailed"
    # When the backstop receives its FAILED status change
    answer = backstop_outcome(world, "publish-refused")
    # Then it recorded nothing more: the run item, its audit and the pages are the machine's own
    assert answer["payload"]["status"] == "FAILED"
    run = world.run_item("publish-refused")
    assert run.status == "FAILED" and "interrupted_by" not in run.details
    assert world.audit_kinds("publish-refused") == ["publish.validation_failed"]
    assert messages_about(world, "publish-refused") == []
    assert world.lease_holder(MAIN_FLOW) is None
