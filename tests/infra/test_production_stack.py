"""The production concerns of the synthesized stacks: alarms, dashboard, logging, outputs.

Every environment of cdk.json (dev, test, prod) is synthesized ONCE per test session, in one
CDK app with cdk-nag, by `synthesized_environments()`; the security tests reuse it.
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from infra.constructs.operations import (
    OUTPUT_ALARM_TOPIC,
    OUTPUT_API_URL,
    OUTPUT_DASHBOARD,
    OUTPUT_SCAN_STATE_MACHINE,
    OUTPUT_TRACE_STATE_MACHINE,
    STATE_MACHINE_LOG_PREFIX,
)

pytestmark = pytest.mark.slow  # one synthesis of three stacks per session (~10-40 s)

ENVIRONMENTS = ("dev", "test", "prod")


class SynthesizedEnvironment(BaseModel):
    name: str
    template: dict[str, Any]
    unacknowledged_findings: list[str]
    acknowledged_findings: list[str]

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            key: value for key, value in self.template["Resources"].items() if value["Type"] == resource_type
        }


@cache
def synthesized_environments() -> dict[str, SynthesizedEnvironment]:
    """Every cdk.json environment, synthesized in ONE app with the AwsSolutions pack (source-only layer)."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault("JSII_DEPRECATED", "quiet")
    import aws_cdk as cdk

    from flowops.local.runtime.synth import local_context
    from infra.app import build_stack, selected_environments
    from infra.constants import CONTEXT_ONLY_ENVIRONMENT
    from infra.nag import apply_aws_solutions_checks

    context = local_context()
    context.pop(CONTEXT_ONLY_ENVIRONMENT)
    with tempfile.TemporaryDirectory(prefix="flowops-production-test-") as outdir:
        app = cdk.App(context=context, outdir=outdir)
        apply_aws_solutions_checks(app)
        stacks = {config.name: build_stack(app, config) for config in selected_environments(app)}
        try:
            app.synth()
        except RuntimeError as error:
            if "ValidationFailed" not in str(error):  # cdk-nag v3 fails synthesis on open findings
                raise
        report_path = Path(outdir) / "validation-report.json"
        report = json.loads(report_path.read_text()) if report_path.exists() else {}
        synthesized = {}
        for name, stack in stacks.items():
            template = json.loads((Path(outdir) / f"{stack.stack_name}.template.json").read_text())
            open_findings, acknowledged = _findings(report, f"{stack.stack_name}/")
            synthesized[name] = SynthesizedEnvironment(
                name=name,
                template=template,
                unacknowledged_findings=open_findings,
                acknowledged_findings=acknowledged,
            )
    return synthesized


def _findings(report: dict[str, Any], path_prefix: str) -> tuple[list[str], list[str]]:
    open_findings: list[str] = []
    acknowledged: list[str] = []
    for plugin in report.get("pluginReports", []):
        if plugin.get("pluginName") != "AwsSolutions":
            continue
        for violation in plugin.get("violations", []):
            open_findings += [
                f"{violation['ruleName']} at {construct['constructPath']}"
                for construct in violation["violatingConstructs"]
                if construct["constructPath"].startswith(path_prefix)
            ]
        for violation in plugin.get("suppressedViolations", []):
            acknowledged.append(f"{violation['ruleName']}: {violation.get('reason', '')}")
    return open_findings, acknowledged


@pytest.fixture(scope="session")
def environments() -> dict[str, SynthesizedEnvironment]:
    return synthesized_environments()


@pytest.fixture(scope="session")
def dev(environments: dict[str, SynthesizedEnvironment]) -> SynthesizedEnvironment:
    return environments["dev"]


def _alarms_by_name(environment: SynthesizedEnvironment) -> dict[str, dict[str, Any]]:
    prefix = f"Flowops-{environment.name}-"
    return {
        alarm["Properties"]["AlarmName"].removeprefix(prefix): alarm["Properties"]
        for alarm in environment.resources("AWS::CloudWatch::Alarm").values()
    }


def _topic_id(environment: SynthesizedEnvironment) -> str:
    (topic_id,) = [key for key in environment.resources("AWS::SNS::Topic") if key.startswith("Monitoring")]
    return topic_id


def _dimension(alarm: dict[str, Any], name: str) -> Any:
    return next(dimension["Value"] for dimension in alarm["Dimensions"] if dimension["Name"] == name)


# -- alarms ---------------------------------------------------------------------------------------


def test_every_alarm_notifies_the_alarm_topic_on_alarm_and_on_recovery(dev: SynthesizedEnvironment) -> None:
    # Given the dev stack, When its alarms are read
    alarms = _alarms_by_name(dev)
    topic = {"Ref": _topic_id(dev)}
    # Then there are alarms, and each one pages the topic and sends the all-clear
    assert len(alarms) >= 10
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [topic], name
        assert alarm["OKActions"] == [topic], name
        assert len(alarm["AlarmDescription"]) > 20, name


def test_each_state_machine_alarms_on_failed_and_timed_out_executions(dev: SynthesizedEnvironment) -> None:
    # Given every state machine of the stack
    machines = set(dev.resources("AWS::StepFunctions::StateMachine"))
    alarms = _alarms_by_name(dev).values()
    # When the Step Functions alarms are grouped by metric
    watched: dict[str, set[str]] = {"ExecutionsFailed": set(), "ExecutionsTimedOut": set()}
    for alarm in alarms:
        if alarm["Namespace"] == "AWS/States" and alarm["MetricName"] in watched:
            assert alarm["Threshold"] == 1
            assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
            assert alarm["TreatMissingData"] == "notBreaching"
            watched[alarm["MetricName"]].add(_dimension(alarm, "StateMachineArn")["Ref"])
    # Then both failure modes are watched for every machine (scan and trace at least)
    assert len(machines) >= 2
    assert watched == {"ExecutionsFailed": machines, "ExecutionsTimedOut": machines}


def test_each_function_alarms_on_errors_and_throttles(dev: SynthesizedEnvironment) -> None:
    functions = set(dev.resources("AWS::Lambda::Function"))
    by_metric: dict[str, set[str]] = {"Errors": set(), "Throttles": set()}
    for alarm in _alarms_by_name(dev).values():
        if alarm["Namespace"] == "AWS/Lambda":
            by_metric[alarm["MetricName"]].add(_dimension(alarm, "FunctionName")["Ref"])
    assert by_metric == {"Errors": functions, "Throttles": functions}


def test_rollback_failed_alarm_watches_the_powertools_metric(dev: SynthesizedEnvironment) -> None:
    alarm = _alarms_by_name(dev)["RollbackFailed"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("Flowops", "PublishRollbackFailed")
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "flowops"}]  # what powertools Metrics adds
    assert alarm["Threshold"] == 1 and alarm["Statistic"] == "Sum"


def test_dead_letter_queues_alarm_as_soon_as_one_message_waits(dev: SynthesizedEnvironment) -> None:
    queues = set(dev.resources("AWS::SQS::Queue"))
    watched = {
        _dimension(alarm, "QueueName")["Fn::GetAtt"][0]
        for alarm in _alarms_by_name(dev).values()
        if alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and alarm["ComparisonOperator"] == "GreaterThanThreshold"
        and alarm["Threshold"] == 0
    }
    assert queues, "the trace workflow's delivery dead-letter queue is expected in the stack"
    assert watched == queues


@pytest.mark.parametrize(
    ("environment", "period", "evaluation_periods"),
    [
        ("dev", 12 * 3600, 1),  # rate(6 hours) → 12 h in one period
        ("test", 24 * 3600, 1),  # rate(12 hours) → 24 h in one period
        ("prod", 3600, 48),  # rate(1 day) → 48 h as 48 hourly periods, all without a success
    ],
)
def test_scan_not_succeeded_within_twice_its_schedule_alarms_and_missing_data_breaches(
    environments: dict[str, SynthesizedEnvironment], environment: str, period: int, evaluation_periods: int
) -> None:
    # Given an environment's scan schedule from cdk.json, When its scan alarm is read
    synthesized = environments[environment]
    alarm = _alarms_by_name(synthesized)["ScanNotSucceeded"]
    scan_machine = next(
        key
        for key in synthesized.resources("AWS::StepFunctions::StateMachine")
        if key.startswith("ScanWorkflow")
    )
    # Then it counts the SCAN machine's successes over twice the schedule, and silence breaches
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/States", "ExecutionsSucceeded")
    assert _dimension(alarm, "StateMachineArn") == {"Ref": scan_machine}
    assert alarm["ComparisonOperator"] == "LessThanThreshold" and alarm["Threshold"] == 1
    assert alarm["TreatMissingData"] == "breaching"
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (
        period,
        evaluation_periods,
        evaluation_periods,
    )


def test_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use(dev: SynthesizedEnvironment) -> None:
    topic = dev.resources("AWS::SNS::Topic")[_topic_id(dev)]
    ((key_id, key),) = [
        item for item in dev.resources("AWS::KMS::Key").items() if item[0].startswith("Monitoring")
    ]
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert cloudwatch and set(cloudwatch[0]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    (topic_policy,) = [
        policy
        for policy in dev.resources("AWS::SNS::TopicPolicy").values()
        if {"Ref": _topic_id(dev)} in policy["Properties"]["Topics"]
    ]
    denies = [s for s in topic_policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert any(s["Condition"]["Bool"]["aws:SecureTransport"] == "false" for s in denies)


def test_dashboard_shows_executions_pipeline_metrics_and_functions(dev: SynthesizedEnvironment) -> None:
    (dashboard,) = dev.resources("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == "Flowops-dev-pipeline"
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for expected in (
        "ExecutionsStarted",
        "ExecutionTime",
        "FlowsScanned",
        "GenesysApiCalls",
        "ScanDuration",
        "FlowsPublished",
        "PublishRollbacks",
        "PublishRollbackFailed",
        "WebhookAccepted",
        "TraceRunsAnalyzed",
        "AWS/Lambda",
        "ApproximateNumberOfMessagesVisible",
        '\\"Flowops\\"',  # the powertools namespace
    ):
        assert expected in body, expected


# -- operations: tracing, logging ----------------------------------------------------------------


def test_state_machines_are_traced_and_log_every_event_without_execution_data(
    environments: dict[str, SynthesizedEnvironment],
) -> None:
    for environment in environments.values():
        groups = environment.resources("AWS::Logs::LogGroup")
        for key, machine in environment.resources("AWS::StepFunctions::StateMachine").items():
            properties = machine["Properties"]
            assert properties["TracingConfiguration"] == {"Enabled": True}, key
            logging = properties["LoggingConfiguration"]
            assert (logging["Level"], logging["IncludeExecutionData"]) == ("ALL", False), key
            (destination,) = logging["Destinations"]
            group_id = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
            assert "RetentionInDays" in groups[group_id]["Properties"], key


def test_state_machines_log_to_vended_log_groups_with_the_environment_retention(
    environments: dict[str, SynthesizedEnvironment],
) -> None:
    retention = {"dev": 14, "test": 30, "prod": 365}
    for environment in environments.values():
        groups = environment.resources("AWS::Logs::LogGroup")
        for machine in environment.resources("AWS::StepFunctions::StateMachine").values():
            (destination,) = machine["Properties"]["LoggingConfiguration"]["Destinations"]
            group = groups[destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]][
                "Properties"
            ]
            assert group["LogGroupName"].startswith(f"{STATE_MACHINE_LOG_PREFIX}Flowops-{environment.name}-")
            assert group["RetentionInDays"] == retention[environment.name]


def test_functions_are_traced_and_keep_logs_for_the_environment_retention(
    environments: dict[str, SynthesizedEnvironment],
) -> None:
    retention = {"dev": 14, "test": 30, "prod": 365}
    for environment in environments.values():
        groups = environment.resources("AWS::Logs::LogGroup")
        for key, function in environment.resources("AWS::Lambda::Function").items():
            properties = function["Properties"]
            assert properties["TracingConfig"] == {"Mode": "Active"}, key
            group = groups[properties["LoggingConfig"]["LogGroup"]["Ref"]]
            assert group["Properties"]["RetentionInDays"] == retention[environment.name], key


# -- outputs --------------------------------------------------------------------------------------


def test_outputs_have_stable_logical_ids_the_cli_can_read(dev: SynthesizedEnvironment) -> None:
    outputs = dev.template["Outputs"]
    machines = dev.resources("AWS::StepFunctions::StateMachine")
    scan_machine = next(key for key in machines if key.startswith("ScanWorkflow"))
    trace_machine = next(key for key in machines if key.startswith("TraceWorkflow"))
    assert outputs[OUTPUT_SCAN_STATE_MACHINE]["Value"] == {"Ref": scan_machine}
    assert outputs[OUTPUT_TRACE_STATE_MACHINE]["Value"] == {"Ref": trace_machine}
    assert outputs[OUTPUT_ALARM_TOPIC]["Value"] == {"Ref": _topic_id(dev)}
    assert outputs[OUTPUT_DASHBOARD]["Value"]
    for name in ("ArtifactsBucketName", "StateTableName", "AuditTableName", "GenesysSecretName"):
        assert name in outputs
    if dev.resources("AWS::ApiGateway::RestApi"):
        assert OUTPUT_API_URL in outputs
    # one output per state machine, whatever workflows exist
    assert sum(1 for key in outputs if key.endswith("StateMachineArn")) == len(machines)


# -- alarms reach people --------------------------------------------------------------------------


def _subscriptions(environment: SynthesizedEnvironment, topic_id: str) -> set[tuple[str, str]]:
    return {
        (s["Properties"]["Protocol"], s["Properties"]["Endpoint"])
        for s in environment.resources("AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": topic_id}
    }


def test_cloudwatch_may_publish_to_the_alarm_topic(dev: SynthesizedEnvironment) -> None:
    # Given the alarm topic's resource policy
    (policy,) = [
        p
        for p in dev.resources("AWS::SNS::TopicPolicy").values()
        if {"Ref": _topic_id(dev)} in p["Properties"]["Topics"]
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    # Then CloudWatch alarms of this account are explicitly allowed to publish (besides the TLS deny)
    allows = [
        s
        for s in statements
        if s["Effect"] == "Allow" and s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert len(allows) == 1 and allows[0]["Action"] == "sns:Publish"
    assert "aws:SourceAccount" in allows[0]["Condition"]["StringEquals"]


def test_alarms_and_failed_rollbacks_reach_the_environments_people(
    environments: dict[str, SynthesizedEnvironment],
) -> None:
    # Given prod configured with an on-call e-mail and a chat webhook in cdk.json
    prod = environments["prod"]
    people = {
        ("email", "genesys-oncall@example.com"),
        ("https", "https://chat.example.com/hooks/flowops-alarms"),
    }
    rollback_topics = [key for key in prod.resources("AWS::SNS::Topic") if "RollbackFailed" in key]
    assert len(rollback_topics) >= 1
    # Then the alarm topic and every RollbackFailed topic deliver to both
    assert _subscriptions(prod, _topic_id(prod)) == people
    for topic in rollback_topics:
        assert _subscriptions(prod, topic) == people, topic
    # And every environment but dev (a warning at synth) has someone to page
    assert _subscriptions(environments["test"], _topic_id(environments["test"]))


def test_the_webhook_api_alarms_on_5xx_latency_and_its_own_failures_not_on_refusals(
    dev: SynthesizedEnvironment,
) -> None:
    # Given the alarms of the stack
    alarms = _alarms_by_name(dev)
    # Then the API's 5XX and latency are alarmed, and the handler's unexpected failures (a 500 the
    # Lambda Errors metric never sees) through their own metric
    assert alarms["WebhookServerErrors"]["MetricName"] == "5XXError"
    assert alarms["WebhookServerErrors"]["Namespace"] == "AWS/ApiGateway"
    assert alarms["WebhookLatency"]["MetricName"] == "Latency"
    assert alarms["WebhookFailed"]["MetricName"] == "WebhookFailed"
    # And expected refusals never page anyone
    watched = {alarm.get("MetricName") for alarm in alarms.values()}
    assert not watched & {"4XXError", "WebhookRefused"}


# -- destroy leaves the account alone; growing prefixes expire -------------------------------------


def test_the_account_level_api_gateway_role_survives_a_destroy(dev: SynthesizedEnvironment) -> None:
    # Given the account-level API Gateway setting and the role it points at
    (account,) = dev.resources("AWS::ApiGateway::Account").values()
    role_id = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    role = dev.template["Resources"][role_id]
    # Then destroying this environment deletes neither (other APIs in the account log through them)
    assert account["DeletionPolicy"] == "Retain" and account.get("UpdateReplacePolicy") == "Retain"
    assert role["DeletionPolicy"] == "Retain"
    # And no other account-level setting is created by the REST API itself
    assert len(dev.resources("AWS::ApiGateway::Account")) == 1


def test_every_per_run_prefix_of_the_artifacts_bucket_expires(dev: SynthesizedEnvironment) -> None:
    # Given the artifacts bucket's lifecycle rules
    (bucket,) = [
        b for key, b in dev.resources("AWS::S3::Bucket").items() if key.startswith("StorageArtifactsBucket")
    ]
    rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    expiring = {
        rule.get("Prefix") for rule in rules if rule.get("ExpirationInDays") and rule["Status"] == "Enabled"
    }
    # Then what every scan, publish, trace and offloaded state payload writes expires; history does not
    assert {"scans/", "publish/", "traces/", "state/"} <= expiring
    assert not expiring & {"locks/", "flows/", "config/"}


def test_one_client_cannot_starve_the_webhook(environments: dict[str, SynthesizedEnvironment]) -> None:
    for environment in environments.values():
        # Given the webhook's web ACL and what it is attached to
        (acl,) = environment.resources("AWS::WAFv2::WebACL").values()
        (association,) = environment.resources("AWS::WAFv2::WebACLAssociation").values()
        # Then one rate rule per source IP blocks a noisy client (limit from cdk.json, default 300/5 min)
        (rule,) = acl["Properties"]["Rules"]
        statement = rule["Statement"]["RateBasedStatement"]
        assert statement["AggregateKeyType"] == "IP" and statement["Limit"] == 300
        assert rule["Action"] == {"Block": {}}
        # And it guards the webhook's stage
        assert "Ref" in json.dumps(association["Properties"]["ResourceArn"])
        assert association["Properties"]["WebACLArn"]["Fn::GetAtt"][1] == "Arn"


def test_environments_with_placeholder_destinations_synthesize_but_refuse_to_deploy(
    environments: dict[str, SynthesizedEnvironment],
) -> None:
    # Given cdk.json's test and prod, which ship with example.com subscribers, and dev without any
    for name in ("test", "prod"):
        rule = environments[name].template.get("Rules", {}).get("RefusePlaceholderDestinations")
        # Then their templates carry a rule CloudFormation fails before any change, saying what to fix
        assert rule is not None, name
        (assertion,) = rule["Assertions"]
        assert "example.com" in assertion["AssertDescription"]
        assert "cdk.json" in assertion["AssertDescription"]
    assert "RefusePlaceholderDestinations" not in environments["dev"].template.get("Rules", {})
