"""What every workflow (scan, publish, trace) builds the same way: its step functions, its tasks,
their retries, and its state machine.

- `add_step_functions` defines a workflow's Lambdas from a table of `StepFunction`s (handler
  `flowops.functions.<area>.<module>.handler`, its own timeout, its own least-privilege grants).
  `step` is the compact table row of the publish and release workflows (seconds, grants, Genesys
  access by default); `append_audit` is the audit table's append-only grant.
- `invoke_step` is the one `LambdaInvoke` shape: payload in, `Payload` only out, into `result_path`.
- `retry_lambda_errors` is added to EVERY Lambda task by `invoke_step`: AWS's guidance for Lambda's
  own transient errors (`Lambda.ServiceException`, `Lambda.AWSLambdaException`,
  `Lambda.SdkClientException`, `Lambda.ClientExecutionTimeoutException`) plus throttling
  (`Lambda.TooManyRequestsException`, which CDK's `retryOnServiceExceptions` leaves out), and a
  shorter retry of `Lambda.Unknown` (the function was killed: timeout or out of memory; every step
  is idempotent, and one that ran out of time stops with time to spare on the next attempt).
- `retry_genesys_calls` / `retry_store_calls` are the ONE retry policy for tasks that call Genesys
  (its client surfaces 429/5xx/unreachable as `Genesys.*` after its own retries) and for tasks that
  only touch the stores (`Store.Throttled`/`Store.Unavailable`). Backoff with full jitter, so that
  parallel Map items do not retry in lock-step against a shared rate limit.
- `execution_timeout` derives a state machine's timeout from its step budgets: the longest single
  attempt (each step's Lambda timeout once, plus the deadlines its poll loops run to) times
  `TIMEOUT_MARGIN`. Inside that, every way to run out of time is a deadline the machine checks
  itself (a job deadline → a caught `Publish.*`/`Trace.*` error; a Lambda timeout →
  `Lambda.Unknown`, retried then caught), so the run ends in a recorded, notified state; only
  retry storms beyond the margin can reach the uncatchable execution timeout.
- `describe_outcome` is the `$.outcome.cause` a failed recording or rollback is described by.
- `rollback_failed_topic` / `notify_rollback_failed` are the page a failed rollback sends (publish
  and release alike): an SSL-only topic under the AWS-managed SNS key, and a publish to it that is
  retried briefly and, delivered or not, ends in the workflow's RollbackFailed state.
- `workflow_state_machine` creates the state machine with the settings every workflow shares:
  X-Ray tracing, `state_machine_logs` (vended log group, level ALL, no execution data, the
  environment's retention), a timeout, and the cdk-nag acknowledgements its role always needs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from aws_cdk import ArnFormat, Duration, Fn, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.constructs.functions import FunctionsConstruct, Grant
from infra.constructs.operations import state_machine_logs
from infra.environment import EnvironmentConfig
from infra.nag import acknowledge, logical_id


@dataclass(frozen=True)
class RetryBudget:
    """One Retry rule's timing; kept as data so worst-case durations can be computed from it."""

    interval_seconds: int
    backoff_rate: float
    max_attempts: int
    max_delay_seconds: int

    def worst_case_seconds(self) -> float:
        """Total wait of all retries at the jitter ceiling (full jitter never waits longer)."""
        return sum(
            min(self.max_delay_seconds, self.interval_seconds * self.backoff_rate**retry)
            for retry in range(self.max_attempts)
        )


# Errors the Genesys client raises after its own retries are spent; worth a slower retry here.
GENESYS_RETRYABLE_ERRORS = ["Genesys.RateLimited", "Genesys.ServerError", "Genesys.Unavailable"]
STORE_RETRYABLE_ERRORS = ["Store.Throttled", "Store.Unavailable"]
# Lambda's own invoke errors, as Step Functions names them (AWS best practice: retry them on every
# Lambda task). TooManyRequests is throttling (account or reserved concurrency).
LAMBDA_SERVICE_ERRORS = [
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
# The function was killed (timeout, out of memory): no error type, so Step Functions says Unknown.
LAMBDA_KILLED_ERRORS = ["Lambda.Unknown"]
LAMBDA_SERVICE_RETRY = RetryBudget(interval_seconds=2, backoff_rate=2.0, max_attempts=6, max_delay_seconds=30)
LAMBDA_KILLED_RETRY = RetryBudget(interval_seconds=5, backoff_rate=2.0, max_attempts=2, max_delay_seconds=30)
GENESYS_RETRY = RetryBudget(interval_seconds=5, backoff_rate=2.0, max_attempts=5, max_delay_seconds=120)
STORE_RETRY = RetryBudget(interval_seconds=1, backoff_rate=2.0, max_attempts=4, max_delay_seconds=30)
STATE_MACHINE_ID = "StateMachine"  # the local runtime finds a workflow's machine by this id
TIMEOUT_MARGIN = 1.25


def execution_timeout(
    *, steps: Iterable[lambda_.Function], waits_seconds: float = 0.0, margin: float = TIMEOUT_MARGIN
) -> Duration:
    """The longest single attempt (each of `steps` runs to its Lambda timeout once, plus
    `waits_seconds` of deadlines and waits) with `margin`, rounded up to a whole minute."""
    step_seconds = 0.0
    for function in steps:
        if function.timeout is None:
            raise ValueError(f"{function.node.path} has no timeout to budget")
        step_seconds += function.timeout.to_seconds()
    seconds = (step_seconds + waits_seconds) * margin
    return Duration.minutes(math.ceil(seconds / 60))


def _add_retry(task: sfn.TaskStateBase, errors: list[str], budget: RetryBudget) -> sfn.TaskStateBase:
    task.add_retry(
        errors=errors,
        interval=Duration.seconds(budget.interval_seconds),
        backoff_rate=budget.backoff_rate,
        max_attempts=budget.max_attempts,
        max_delay=Duration.seconds(budget.max_delay_seconds),
        jitter_strategy=sfn.JitterType.FULL,
    )
    return task


def retry_lambda_errors(task: sfn.TaskStateBase) -> sfn.TaskStateBase:
    """Lambda's own transient errors and throttling, then a killed function (timeout / memory)."""
    _add_retry(task, LAMBDA_SERVICE_ERRORS, LAMBDA_SERVICE_RETRY)
    return _add_retry(task, LAMBDA_KILLED_ERRORS, LAMBDA_KILLED_RETRY)


def retry_genesys_calls(task: sfn.TaskStateBase) -> sfn.TaskStateBase:
    """The one retry policy for every Genesys-calling task (which also touches the stores)."""
    _add_retry(task, GENESYS_RETRYABLE_ERRORS, GENESYS_RETRY)
    return retry_store_calls(task)


def retry_store_calls(task: sfn.TaskStateBase) -> sfn.TaskStateBase:
    """The one retry policy for a throttled or briefly unavailable S3/DynamoDB."""
    return _add_retry(task, STORE_RETRYABLE_ERRORS, STORE_RETRY)


def grant_describe_executions(
    function: lambda_.IFunction, machine: sfn.IStateMachine, name_prefix: str
) -> str:
    """Let `function` describe the executions of `machine` whose names start with `name_prefix`
    (the ones it starts: is a taken name its own?). Named through the machine's `Name` attribute
    so the one wildcard is reviewable; returns that cdk-nag IAM5 finding for the caller to
    acknowledge with its reason."""
    machine_id = logical_id(machine)
    machine_name = Fn.get_att(machine_id, "Name").to_string()
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["states:DescribeExecution"],
            resources=[
                Stack.of(function).format_arn(
                    service="states",
                    resource="execution",
                    resource_name=f"{machine_name}:{name_prefix}*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
        )
    )
    return (
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:"
        f"execution:<{machine_id}.Name>:{name_prefix}*]"
    )


def start_run(scope: Construct, state_name: str) -> sfn.Pass:
    """The first state of a publish or release run: `$.run` (the execution's name is the run id)
    and `$.request` (the execution input)."""
    return sfn.Pass(
        scope,
        state_name,
        parameters={
            "run": {
                "run_id": sfn.JsonPath.string_at("$$.Execution.Name"),
                "started_at": sfn.JsonPath.string_at("$$.Execution.StartTime"),
            },
            "request": sfn.JsonPath.entire_payload,
        },
    )


def describe_outcome(scope: Construct, state_name: str, template: str, *paths: str) -> sfn.Pass:
    """A Pass that writes `$.outcome.cause` from `template`, its `{}` filled from `paths` (what a
    failed recording or rollback left in the state), for the notification or the Fail state."""
    return sfn.Pass(
        scope,
        state_name,
        parameters={"cause": sfn.JsonPath.format(template, *(sfn.JsonPath.string_at(p) for p in paths))},
        result_path="$.outcome",
    )


def rollback_failed_topic(scope: Construct, construct_id: str, display_name: str) -> sns.Topic:
    """The topic a failed rollback pages through: SSL only, encrypted with the AWS-managed key."""
    return sns.Topic(
        scope,
        construct_id,
        display_name=display_name,
        enforce_ssl=True,
        master_key=kms.Alias.from_alias_name(scope, "SnsManagedKey", "alias/aws/sns"),
    )


def notify_rollback_failed(
    scope: Construct,
    topic: sns.ITopic,
    subject: str,
    message: Mapping[str, object],
    rollback_failed: sfn.Fail,
) -> tasks.SnsPublish:
    """`NotifyRollbackFailed`: pages `message`, then ends in `rollback_failed` even when the page
    could not be sent (the run's own failure, not the notification's, is what the run reports)."""
    notify = tasks.SnsPublish(
        scope,
        "NotifyRollbackFailed",
        topic=topic,
        subject=subject,
        message=sfn.TaskInput.from_object(dict(message)),
        result_path=sfn.JsonPath.DISCARD,
    )
    notify.add_retry(errors=["States.ALL"], interval=Duration.seconds(2), max_attempts=3, backoff_rate=2.0)
    notify.add_catch(rollback_failed, errors=["States.ALL"], result_path="$.notify_failure")
    notify.next(rollback_failed)
    return notify


@dataclass(frozen=True)
class StepFunction:
    """One Lambda of a workflow: `flowops.functions.<area>.<module>.handler`, exactly these permissions."""

    function_id: str
    module: str
    timeout: Duration
    grants: Sequence[Grant] = ()
    calls_genesys: bool = False
    """Genesys access (the secret, the environment's rate model, the shared schedule's grant:
    `FunctionsConstruct.add_function`): only steps that really call Genesys get it."""
    memory_size: int = 512
    environment: Mapping[str, str] = field(default_factory=dict)


def step(
    function_id: str, module: str, seconds: int, *grants: Grant, genesys: bool = True, **environment: str
) -> StepFunction:
    """The compact `StepFunction` of the publish and release tables: a timeout in seconds, its
    grants, and Genesys access unless `genesys=False` (most of their steps call Genesys)."""
    return StepFunction(
        function_id,
        module,
        Duration.seconds(seconds),
        grants=grants,
        calls_genesys=genesys,
        environment=environment,
    )


def append_audit(audit: dynamodb.ITable) -> Grant:
    """Appends to the audit table: idempotent by event id, a put that finds its item reads it back
    to compare (flowops.store), so `PutItem` and `GetItem` and nothing else."""
    return lambda grantee: audit.grant(grantee, "dynamodb:PutItem", "dynamodb:GetItem")


def add_step_functions(
    functions: FunctionsConstruct, area: str, steps: Iterable[StepFunction]
) -> dict[str, lambda_.Function]:
    """Define each step's Lambda in the shared code asset; keyed by function id."""
    return {
        step.function_id: functions.add_function(
            step.function_id,
            handler=f"flowops.functions.{area}.{step.module}.handler",
            grants=step.grants,
            calls_genesys=step.calls_genesys,
            timeout=step.timeout,
            memory_size=step.memory_size,
            environment=dict(step.environment) or None,
        )
        for step in steps
    }


def invoke_step(
    scope: Construct,
    state_name: str,
    function: lambda_.IFunction,
    payload: Mapping[str, object] | None,
    result_path: str,
) -> tasks.LambdaInvoke:
    """A task that calls `function` with `payload` (None: the whole state) and keeps only its answer.

    Every such task retries Lambda's own errors (`retry_lambda_errors`); CDK's narrower default
    (`retry_on_service_exceptions`) is replaced by it.
    """
    task = tasks.LambdaInvoke(
        scope,
        state_name,
        lambda_function=function,
        payload=sfn.TaskInput.from_object(dict(payload)) if payload is not None else None,
        payload_response_only=True,
        retry_on_service_exceptions=False,
        result_path=result_path,
    )
    retry_lambda_errors(task)
    return task


def workflow_state_machine(
    scope: Construct,
    *,
    config: EnvironmentConfig,
    workflow: str,
    definition: sfn.IChainable,
    timeout: Duration,
    comment: str,
    invoked_functions: Iterable[lambda_.IFunction],
) -> sfn.StateMachine:
    """The workflow's state machine (construct id `StateMachine`), traced and logged like every other.

    `workflow` names the log group (`/aws/vendedlogs/states/Flowops-<env>-<workflow>`) and the
    acknowledgements; `invoked_functions` are the Lambdas its tasks invoke.
    """
    state_machine = sfn.StateMachine(
        scope,
        STATE_MACHINE_ID,
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        timeout=timeout,
        tracing_enabled=config.tracing,
        logs=state_machine_logs(scope, config=config, workflow=workflow),
        comment=comment,
    )
    for function in invoked_functions:
        acknowledge(
            state_machine,
            f"AwsSolutions-IAM5[Resource::<{logical_id(function)}.Arn>:*]",
            f"LambdaInvoke grants invoke on this one {workflow.lower()} function's versions and aliases "
            "(':*'); the function ARN itself bounds it.",
        )
    acknowledge(
        state_machine,
        "AwsSolutions-IAM5[Resource::*]",
        "X-Ray tracing and CloudWatch Logs log delivery for Step Functions do not support "
        "resource-level permissions.",
    )
    return state_machine
