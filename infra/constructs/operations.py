"""Operational settings every workflow shares: log groups, retention, removal, stack outputs.

One place decides how a state machine logs (level ALL, execution data OFF so that no secret or
flow payload reaches CloudWatch Logs, into `/aws/vendedlogs/states/…` where Step Functions may
deliver without a resource policy per group), how long logs are kept (the environment's
`logRetentionDays`) and which stack outputs the CLI reads from a deployed stack. Workflow
constructs call these helpers instead of repeating the settings.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.environment import EnvironmentConfig
from infra.nag import acknowledge

STATE_MACHINE_LOG_PREFIX = "/aws/vendedlogs/states/"

# Logical ids of stack outputs. They are part of the CLI's contract with a deployed stack:
# renaming one breaks `flowops` against every stack deployed before the rename.
OUTPUT_API_URL = "PublishWebhookUrl"  # the webhook API's `POST /publish` URL
OUTPUT_ALARM_TOPIC = "AlarmTopicArn"
OUTPUT_DASHBOARD = "DashboardName"
OUTPUT_STATE_MACHINE_SUFFIX = "StateMachineArn"
OUTPUT_SCAN_STATE_MACHINE = "ScanStateMachineArn"
OUTPUT_PUBLISH_STATE_MACHINE = "PublishStateMachineArn"
OUTPUT_TRACE_STATE_MACHINE = "TraceStateMachineArn"

_RETENTION_BY_DAYS = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def api_gateway_account(scope: Construct) -> apigw.CfnAccount:
    """API Gateway's CloudWatch role, which is ONE setting per account and region.

    Every REST API stage with execution logging needs it. Created here but RETAINED on destroy:
    deleting it (CDK's default for `cloudWatchRole: true`) would break logging for every API in
    the account and region, other stacks' included. Deploying a second environment to the same
    account just points the setting at an equivalent role.
    """
    role = iam.Role(
        scope,
        "ApiGatewayCloudWatchRole",
        assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
        managed_policies=[
            iam.ManagedPolicy.from_aws_managed_policy_name(
                "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
            )
        ],
        description="API Gateway account-level CloudWatch Logs role (retained: shared by every API here)",
    )
    role.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    acknowledge(
        role,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AmazonAPIGatewayPushToCloudWatchLogs]",
        "API Gateway's account-level CloudWatch role needs exactly this AWS-managed policy to write "
        "execution logs.",
    )
    account = apigw.CfnAccount(scope, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn)
    account.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    return account


def log_retention(config: EnvironmentConfig) -> logs.RetentionDays:
    """The environment's CloudWatch Logs retention (cdk.json `logRetentionDays`)."""
    return _RETENTION_BY_DAYS[config.log_retention_days]


def data_removal_policy(config: EnvironmentConfig) -> cdk.RemovalPolicy:
    """RETAIN data (buckets, tables, logs) when the stack is deleted in environments that keep data."""
    return cdk.RemovalPolicy.RETAIN if config.retain_data else cdk.RemovalPolicy.DESTROY


def workflow_output_id(workflow_id: str) -> str:
    """`ScanWorkflow` → `ScanStateMachineArn`: the output naming a workflow's state machine."""
    stem = workflow_id.removesuffix("Workflow") or workflow_id
    return f"{stem}{OUTPUT_STATE_MACHINE_SUFFIX}"


def state_machine_log_group_name(config: EnvironmentConfig, workflow: str) -> str:
    """`/aws/vendedlogs/states/Flowops-dev-Scan`: stack and workflow in the name, one group each."""
    return f"{STATE_MACHINE_LOG_PREFIX}{config.stack_name}-{workflow}"


def state_machine_logs(scope: Construct, *, config: EnvironmentConfig, workflow: str) -> sfn.LogOptions:
    """A dedicated log group for one workflow and the log options to pass to `sfn.StateMachine(logs=…)`.

    Level ALL records every state transition (what an operator needs to follow a run), while
    `include_execution_data=False` keeps inputs, outputs and error causes (which may quote
    Genesys responses) out of CloudWatch Logs; the execution history still has them.
    """
    log_group = logs.LogGroup(
        scope,
        "ExecutionLogs",
        log_group_name=state_machine_log_group_name(config, workflow),
        retention=log_retention(config),
        removal_policy=data_removal_policy(config),
    )
    return sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False)


def add_stack_outputs(
    stack: cdk.Stack,
    *,
    state_machines: Mapping[str, sfn.IStateMachine],
    api_url: str | None = None,
) -> dict[str, cdk.CfnOutput]:
    """Outputs the CLI reads: each workflow's state machine ARN (keyed by workflow construct id)
    and the API URL when the stack has an API. Outputs are created on the stack itself, so the
    construct id IS the logical id (no path hash) and stays stable."""
    outputs: dict[str, cdk.CfnOutput] = {}
    for workflow_id, machine in sorted(state_machines.items()):
        output_id = workflow_output_id(workflow_id)
        outputs[output_id] = cdk.CfnOutput(
            stack,
            output_id,
            value=machine.state_machine_arn,
            description=f"ARN of the {workflow_id} state machine",
        )
    if api_url is not None:
        outputs[OUTPUT_API_URL] = cdk.CfnOutput(
            stack, OUTPUT_API_URL, value=api_url, description="Base URL of the webhook API"
        )
    return outputs
