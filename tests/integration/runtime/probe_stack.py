"""Test-only workflows added to the real FlowopsStack.

Wait → flaky Task (Retry/Catch), a Parallel state probing per-function environments, and a slow
step with a short timeout (CDK's default Retry only) to see Lambda kill it, and a machine with an
execution timeout whose status changes an EventBridge rule delivers to a sink function.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from infra.stack import FlowopsStack

PROBE_SOURCES = (Path(__file__), Path(__file__).with_name("handlers.py"))
WAIT_SECONDS = 7
RETRY_INTERVAL = 2
RETRY_BACKOFF = 3.0
RETRY_MAX_ATTEMPTS = 3
SLOW_STEP_TIMEOUT_SECONDS = 10
TIMED_MACHINE_TIMEOUT_SECONDS = 600


def add_probe_workflow(stack: FlowopsStack) -> None:
    storage, functions = stack.storage, stack.functions
    flaky = functions.add_function(
        "ProbeFlakyStep",
        handler="tests.integration.runtime.handlers.flaky_step",
        grants=[storage.artifacts_bucket.grant_read_write],
    )
    probe_a = functions.add_function(
        "ProbeValueA",
        handler="tests.integration.runtime.handlers.report_probe_value",
        environment={"PROBE_VALUE": "a"},
    )
    probe_b = functions.add_function(
        "ProbeValueB",
        handler="tests.integration.runtime.handlers.report_probe_value",
        environment={"PROBE_VALUE": "b"},
    )
    flaky_task = tasks.LambdaInvoke(
        stack, "RunFlakyStep", lambda_function=flaky, payload_response_only=True, result_path="$.step"
    )
    flaky_task.add_retry(
        errors=["Probe.Transient"],
        interval=cdk.Duration.seconds(RETRY_INTERVAL),
        backoff_rate=RETRY_BACKOFF,
        max_attempts=RETRY_MAX_ATTEMPTS,
    )
    flaky_task.add_catch(
        sfn.Fail(
            stack, "ProbeFailedPermanently", error="ProbeFailed", cause="the probe step failed permanently"
        ),
        errors=["Probe.Permanent"],
    )
    definition = (
        sfn.Wait(stack, "WaitBeforeProbe", time=sfn.WaitTime.duration(cdk.Duration.seconds(WAIT_SECONDS)))
        .next(flaky_task)
        .next(sfn.Succeed(stack, "ProbeSucceeded"))
    )
    sfn.StateMachine(
        stack, "ProbeStateMachine", definition_body=sfn.DefinitionBody.from_chainable(definition)
    )

    parallel = sfn.Parallel(stack, "ReadBothProbeValues")
    parallel.branch(
        tasks.LambdaInvoke(stack, "ReadProbeA", lambda_function=probe_a, payload_response_only=True)
    )
    parallel.branch(
        tasks.LambdaInvoke(stack, "ReadProbeB", lambda_function=probe_b, payload_response_only=True)
    )
    sfn.StateMachine(
        stack, "EnvProbeStateMachine", definition_body=sfn.DefinitionBody.from_chainable(parallel)
    )

    slow = functions.add_function(
        "ProbeSlowStep",
        handler="tests.integration.runtime.handlers.slow_step",
        timeout=cdk.Duration.seconds(SLOW_STEP_TIMEOUT_SECONDS),
    )
    sfn.StateMachine(
        stack,
        "SlowProbeStateMachine",
        definition_body=sfn.DefinitionBody.from_chainable(
            tasks.LambdaInvoke(stack, "RunSlowStep", lambda_function=slow, payload_response_only=True)
        ),
    )

    # A Wait of `$.wait_seconds` then the slow step, inside a 10-minute execution timeout; its
    # status changes (not RUNNING) go to a sink through an input transformer.
    timed = sfn.StateMachine(
        stack,
        "TimedProbeStateMachine",
        definition_body=sfn.DefinitionBody.from_chainable(
            sfn.Wait(stack, "WaitAsAsked", time=sfn.WaitTime.seconds_path("$.wait_seconds")).next(
                tasks.LambdaInvoke(
                    stack, "RunTimedSlowStep", lambda_function=slow, payload_response_only=True
                )
            )
        ),
        timeout=cdk.Duration.seconds(TIMED_MACHINE_TIMEOUT_SECONDS),
    )
    sink = functions.add_function("ProbeEventSink", handler="tests.integration.runtime.handlers.event_sink")
    events.Rule(
        stack,
        "TimedProbeEnded",
        event_pattern=events.EventPattern(
            source=["aws.states"],
            detail_type=["Step Functions Execution Status Change"],
            detail={
                "stateMachineArn": [timed.state_machine_arn],
                "status": [{"anything-but": ["RUNNING"]}],
            },
        ),
        targets=[
            events_targets.LambdaFunction(
                sink,
                event=events.RuleTargetInput.from_object(
                    {
                        "status": events.EventField.from_path("$.detail.status"),
                        "execution_arn": events.EventField.from_path("$.detail.executionArn"),
                        "input": events.EventField.from_path("$.detail.input"),
                        "stop_date": events.EventField.from_path("$.detail.stopDate"),
                    }
                ),
            )
        ],
    )
