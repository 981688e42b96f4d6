"""LocalCloud runs the SYNTHESIZED probe workflow with the real handlers in-process."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from flowops.local.runtime.cloud import LocalCloud
from flowops.local.runtime.execution import wait_for_execution
from flowops.store import ArtifactStore
from tests.integration.runtime.probe_stack import (
    RETRY_BACKOFF,
    RETRY_INTERVAL,
    RETRY_MAX_ATTEMPTS,
    SLOW_STEP_TIMEOUT_SECONDS,
    WAIT_SECONDS,
)

pytestmark = pytest.mark.slow  # the first run synthesizes the CDK app (cached afterwards)


@pytest.fixture
def probe_cloud(local_cloud_factory: Callable[..., LocalCloud], probe_template: dict[str, Any]) -> LocalCloud:
    return local_cloud_factory(template=probe_template, genesys_base_url="http://127.0.0.1:9/sim")


def test_transient_errors_are_retried_with_the_defined_backoff(probe_cloud: LocalCloud) -> None:
    # Given a step that fails twice with Probe.Transient
    # When the synthesized state machine runs
    result = probe_cloud.start_and_wait(
        "ProbeStateMachine", {"run_id": "run-1", "fail_times": 2}, name="retry-1"
    )
    # Then it succeeds on the third attempt, having run the real handler three times
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["step"]["attempts"] == 3
    flaky_calls = [call for call in probe_cloud.runner.invocations if call.handler.endswith("flaky_step")]
    assert [call.error_type for call in flaky_calls] == ["Probe.Transient", "Probe.Transient", None]
    # And the history has the events AWS records: execution start/end, the Wait's two, the Task's
    # two, three per Lambda attempt (scheduled, started, failed/succeeded), the Succeed state's two
    assert result.history_event_count == 2 + 2 + 2 + 3 * 3 + 2
    assert not result.history_limit_exceeded
    # And the recorded delays equal the definition: the Wait, then interval * backoff^n
    assert result.delays_of("WaitBeforeProbe", "wait") == [WAIT_SECONDS]
    assert result.delays_of("RunFlakyStep", "retry") == [RETRY_INTERVAL, RETRY_INTERVAL * RETRY_BACKOFF]
    # And the handler's S3 write is visible in moto, checksummed
    bucket = probe_cloud.resources.bucket("ArtifactsBucket")
    stored = ArtifactStore(bucket, probe_cloud.s3).get_json(result.output["step"]["key"])
    assert stored["attempt"] == 3


def test_permanent_error_is_caught_by_name(probe_cloud: LocalCloud) -> None:
    result = probe_cloud.start_and_wait(
        "ProbeStateMachine", {"run_id": "run-2", "permanent": True}, name="catch-1"
    )
    assert result.status == "FAILED"
    assert (result.error, result.cause) == ("ProbeFailed", "the probe step failed permanently")
    assert "ProbeFailedPermanently" in result.states_entered()
    assert result.delays_of("RunFlakyStep", "retry") == []  # Probe.Permanent is never retried


def test_retries_exhausted_fail_with_the_handler_error_name(probe_cloud: LocalCloud) -> None:
    result = probe_cloud.start_and_wait(
        "ProbeStateMachine", {"run_id": "run-3", "fail_times": 9}, name="exhaust-1"
    )
    assert result.status == "FAILED"
    assert result.error == "Probe.Transient"
    # MaxAttempts counts retries: one first attempt + RETRY_MAX_ATTEMPTS retries
    last_attempt = 1 + RETRY_MAX_ATTEMPTS
    assert f"attempt {last_attempt} of run run-3 failed" in json.loads(result.cause or "{}")["errorMessage"]
    assert result.delays_of("RunFlakyStep", "retry") == [
        RETRY_INTERVAL * RETRY_BACKOFF**n for n in range(RETRY_MAX_ATTEMPTS)
    ]


def test_concurrent_invocations_each_see_their_own_environment(probe_cloud: LocalCloud) -> None:
    # Given two functions whose PROBE_VALUE differs, run in a Parallel state at the same time
    result = probe_cloud.start_and_wait("EnvProbeStateMachine", {}, name="env-1")
    # Then each read its own value before and after the other ran, plus the runtime override
    assert result.status == "SUCCEEDED", result.cause
    assert [branch["before"] for branch in result.output] == ["a", "b"]
    assert [branch["after"] for branch in result.output] == ["a", "b"]
    assert {branch["base_url"] for branch in result.output} == {"http://127.0.0.1:9/sim"}
    # And nothing leaked into the process environment
    import os

    assert "PROBE_VALUE" not in os.environ


def test_resources_follow_the_template(probe_cloud: LocalCloud) -> None:
    tables = probe_cloud.dynamodb.list_tables()["TableNames"]
    assert probe_cloud.resources.table("StateTable") in tables
    audit = probe_cloud.resources.table("AuditTable")
    ttl = probe_cloud.dynamodb.describe_time_to_live(TableName=audit)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"
    environment = probe_cloud.function_environment("ProbeFlakyStep")
    assert environment["ARTIFACTS_BUCKET"] == probe_cloud.resources.bucket("ArtifactsBucket")
    assert environment["STATE_TABLE"] == probe_cloud.resources.table("StateTable")
    secret = probe_cloud.client("secretsmanager").get_secret_value(SecretId=environment["GENESYS_SECRET_ID"])
    assert set(json.loads(secret["SecretString"])) == {"client_id", "client_secret"}


def test_server_mode_runs_the_same_workflow_over_http(
    local_cloud_factory: Callable[..., LocalCloud], probe_template: dict[str, Any]
) -> None:
    # Given the local cloud served on 127.0.0.1 (what `flowops local up` runs)
    cloud = local_cloud_factory(template=probe_template, mode="server")
    assert cloud.endpoint_url is not None and cloud.endpoint_url.startswith("http://127.0.0.1:")
    # When the probe runs through the HTTP endpoint Then handlers, retries and S3 writes behave the same
    result = cloud.start_and_wait("ProbeStateMachine", {"run_id": "srv-1", "fail_times": 1}, name="srv-1")
    assert result.status == "SUCCEEDED", result.cause
    assert result.delays_of("RunFlakyStep", "retry") == [RETRY_INTERVAL]
    assert cloud.s3.head_object(
        Bucket=cloud.resources.bucket("ArtifactsBucket"), Key=result.output["step"]["key"]
    )


def test_conditional_writes_from_many_threads_are_atomic_as_in_dynamodb(probe_cloud: LocalCloud) -> None:
    # Given the stack's state table, and 16 handlers racing to claim the same item
    table = probe_cloud.resources.table("StateTable")

    def claim(owner: int) -> bool:
        client = boto3.session.Session().client("dynamodb", region_name=probe_cloud.region)
        try:
            client.put_item(
                TableName=table,
                Item={"pk": {"S": "LEASE#race"}, "sk": {"S": "LEASE"}, "owner": {"N": str(owner)}},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    # When they all write at once
    with ThreadPoolExecutor(max_workers=16) as pool:
        won = list(pool.map(claim, range(16)))

    # Then exactly one claim succeeded, and the item is the winner's
    assert won.count(True) == 1
    item = probe_cloud.dynamodb.get_item(
        TableName=table, Key={"pk": {"S": "LEASE#race"}, "sk": {"S": "LEASE"}}
    )
    assert int(item["Item"]["owner"]["N"]) == won.index(True)


@pytest.fixture
def fast_clock_cloud(
    local_cloud_factory: Callable[..., LocalCloud], probe_template: dict[str, Any]
) -> LocalCloud:
    """The probe stack on a clock 20 times faster than real time, no CPU allowance: a 10 s
    function has half a real second."""
    cloud = local_cloud_factory(
        template=probe_template,
        genesys_base_url="http://127.0.0.1:9/sim",
        env_overrides={"FLOWOPS_TIME_SCALE": "20"},
    )
    cloud.runner.cpu_allowance_seconds = 0.0
    return cloud


def test_a_function_is_killed_at_its_timeout_and_step_functions_says_lambda_unknown(
    fast_clock_cloud: LocalCloud,
) -> None:
    # Given a step that never returns, in a 10 s function (on a 20x clock)
    # When the state machine invokes it
    result = fast_clock_cloud.start_and_wait("SlowProbeStateMachine", {}, name="hung-1", timeout=30)
    # Then Lambda killed it at its timeout and Step Functions reports what AWS reports
    assert result.status == "FAILED"
    assert result.error == "Lambda.Unknown"
    assert (result.cause or "").startswith(
        "The cause could not be determined because Lambda did not return an error type."
    )
    assert f"Task timed out after {SLOW_STEP_TIMEOUT_SECONDS:.2f} seconds" in (result.cause or "")
    (call,) = [c for c in fast_clock_cloud.runner.invocations if c.handler.endswith("slow_step")]
    assert call.error_type == "Timeout"


def test_a_step_that_honours_its_remaining_time_returns_before_the_timeout(
    fast_clock_cloud: LocalCloud,
) -> None:
    # Given the same 10 s function, told to stop when less than 2 s remain
    result = fast_clock_cloud.start_and_wait(
        "SlowProbeStateMachine", {"stop_with_ms": 2000}, name="budget-1", timeout=30
    )
    # Then it saw its whole budget at the start, counted down on the function's clock, and returned
    assert result.status == "SUCCEEDED", result.cause
    assert 9000 < result.output["first_remaining_ms"] <= SLOW_STEP_TIMEOUT_SECONDS * 1000
    assert 0 < result.output["stopped_with_ms"] <= 2000


def test_compute_costs_real_time_and_only_accelerated_sleeps_are_scaled(
    fast_clock_cloud: LocalCloud,
) -> None:
    # Given the same 10 s function on a 20x clock, computing for a real second first (twice the
    # half second its whole budget would be if compute were scaled like the sleeps)
    result = fast_clock_cloud.start_and_wait(
        "SlowProbeStateMachine", {"compute_seconds": 1.0, "stop_with_ms": 2000}, name="compute-1", timeout=60
    )
    # Then, as in Lambda, the compute cost a second of its budget (not twenty): it was not killed,
    # and its accelerated sleeps then counted down the rest of the budget to where it stopped
    assert result.status == "SUCCEEDED", result.cause
    spent_computing = result.output["first_remaining_ms"] - result.output["after_compute_ms"]
    assert 1000 <= spent_computing < SLOW_STEP_TIMEOUT_SECONDS * 1000
    assert 0 < result.output["stopped_with_ms"] <= 2000


def test_a_function_over_its_reserved_concurrency_is_throttled_as_lambda_throttles_it(
    probe_cloud: LocalCloud,
) -> None:
    # Given the probe's function with a reserved concurrency of 0 (the stack's way to switch it off)
    function = probe_cloud.resources.function("ProbeFlakyStep").name
    probe_cloud.client("lambda").put_function_concurrency(
        FunctionName=function, ReservedConcurrentExecutions=0
    )
    # When the state machine invokes it
    result = probe_cloud.start_and_wait("ProbeStateMachine", {"run_id": "reserved-1"}, name="reserved-1")
    # Then Lambda throttled it before it ran, and Step Functions says so under Lambda's name
    assert result.status == "FAILED"
    assert result.error == "Lambda.TooManyRequestsException"
    calls = [c for c in probe_cloud.runner.invocations if c.handler.endswith("flaky_step")]
    assert [c.error_type for c in calls] == ["Lambda.TooManyRequestsException"]


def test_lambda_service_errors_reach_retry_and_catch_under_lambda_names(probe_cloud: LocalCloud) -> None:
    # Given Lambda answering the probe's next invoke with a ServiceException (CDK's default Retry
    # covers it), then, in a second run, throttling (CDK's default Retry does not)
    probe_cloud.runner.inject_service_error("ProbeFlakyStep", "ServiceException")
    retried = probe_cloud.start_and_wait("ProbeStateMachine", {"run_id": "svc-1"}, name="svc-1")
    probe_cloud.runner.inject_service_error("ProbeFlakyStep", "TooManyRequestsException")
    throttled = probe_cloud.start_and_wait("ProbeStateMachine", {"run_id": "svc-2"}, name="svc-2")
    # Then the service error was retried under its Lambda name and the run succeeded
    assert retried.status == "SUCCEEDED", retried.cause
    assert len(retried.delays_of("RunFlakyStep", "retry")) == 1
    # And the throttle failed the run as Lambda.TooManyRequestsException, not moto's "Exception"
    assert throttled.status == "FAILED"
    assert throttled.error == "Lambda.TooManyRequestsException"
    assert [c.error_type for c in probe_cloud.runner.invocations if c.handler.endswith("flaky_step")] == [
        "Lambda.ServiceException",
        None,
        "Lambda.TooManyRequestsException",
    ]


def test_a_state_input_over_256_kb_fails_with_the_aws_error(probe_cloud: LocalCloud) -> None:
    # Given an execution input just over Step Functions' 256 KB state limit
    oversized = {"run_id": "big-1", "blob": "x" * (256 * 1024)}
    # When the probe runs
    result = probe_cloud.start_and_wait("ProbeStateMachine", oversized, name="big-1")
    # Then the first state fails as AWS fails it, and no handler ran
    assert result.status == "FAILED"
    assert result.error == "States.DataLimitExceeded"
    assert "'WaitBeforeProbe' has an input with a size exceeding" in (result.cause or "")
    assert not [c for c in probe_cloud.runner.invocations if c.handler.endswith("flaky_step")]


# -- execution timeout, StopExecution and status-change events through EventBridge -------------


def _sink_events(cloud: LocalCloud, execution_arn: str) -> list[dict[str, Any]]:
    from tests.integration.runtime import handlers

    cloud.events.drain(timeout=30)
    return [event for event in handlers.received_events if event["execution_arn"] == execution_arn]


def test_an_execution_times_out_on_the_accelerated_clock_and_its_rule_delivers_the_event(
    probe_cloud: LocalCloud,
) -> None:
    # Given a machine with a 600 s execution timeout whose first state waits 900 s (recorded)
    result = probe_cloud.start_and_wait(
        "TimedProbeStateMachine", {"wait_seconds": 900, "stop_with_ms": 9990}, name="timed-1"
    )
    # Then it timed out inside the wait, as in AWS: the step after it never ran
    assert result.status == "TIMED_OUT"
    assert "RunTimedSlowStep" not in result.states_entered()
    # And the synthesized rule delivered the status change through its input transformer
    (event,) = _sink_events(probe_cloud, result.execution_arn)
    assert event["status"] == "TIMED_OUT"
    assert json.loads(event["input"]) == {"wait_seconds": 900, "stop_with_ms": 9990}
    assert isinstance(event["stop_date"], int)
    (delivery,) = [d for d in probe_cloud.events.deliveries_to("TimedProbeEnded") if result.name in d.payload]
    assert delivery.error is None


def test_an_execution_within_its_timeout_succeeds_and_running_is_not_delivered(
    probe_cloud: LocalCloud,
) -> None:
    # Given the same machine, waiting 300 s of its 600
    result = probe_cloud.start_and_wait(
        "TimedProbeStateMachine", {"wait_seconds": 300, "stop_with_ms": 9990}, name="timed-2"
    )
    # Then it succeeds, and only its end reached the sink (the rule leaves RUNNING out)
    assert result.status == "SUCCEEDED", result.cause
    assert [event["status"] for event in _sink_events(probe_cloud, result.execution_arn)] == ["SUCCEEDED"]


def test_stop_execution_aborts_at_once_and_the_rule_delivers_the_event(probe_cloud: LocalCloud) -> None:
    # Given an execution whose step is running (a step that works for a few seconds)
    arn = probe_cloud.state_machine_arn("TimedProbeStateMachine")
    started = probe_cloud.sfn.start_execution(
        stateMachineArn=arn, name="abort-1", input=json.dumps({"wait_seconds": 0, "stop_with_ms": 5000})
    )
    execution_arn = started["executionArn"]
    for _ in range(500):
        history = probe_cloud.sfn.get_execution_history(executionArn=execution_arn)["events"]
        if any(event["type"] == "LambdaFunctionStarted" for event in history):
            break
        time.sleep(0.01)
    # When it is stopped
    probe_cloud.sfn.stop_execution(executionArn=execution_arn)
    # Then it is ABORTED without waiting for the step, and the rule delivered that
    result = wait_for_execution(probe_cloud, execution_arn, timeout=3)
    assert result.status == "ABORTED"
    assert [event["status"] for event in _sink_events(probe_cloud, execution_arn)] == ["ABORTED"]
