"""MonitoringConstruct on generic inputs, and the scan-window arithmetic behind its scan alarm."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from infra.constructs.monitoring import scan_success_window, schedule_interval
from infra.environment import EnvironmentConfig


@pytest.mark.parametrize(
    ("expression", "interval"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(6 hours)", timedelta(hours=6)),
        ("rate(2 days)", timedelta(days=2)),
        ("cron(0 2 * * ? *)", timedelta(days=1)),  # nightly at 02:00
        ("cron(0/15 * * * ? *)", timedelta(minutes=15)),
        ("cron(0 8,20 * * ? *)", timedelta(hours=12)),
        ("cron(30 6 ? * MON-FRI *)", timedelta(days=3)),  # Friday 06:30 → Monday 06:30
        ("cron(0 3 ? * SUN *)", timedelta(days=7)),
        ("cron(0 0 L * ? *)", timedelta(days=31)),  # last day of the month: taken as monthly
    ],
)
def test_schedule_interval_is_the_longest_gap_between_runs(expression: str, interval: timedelta) -> None:
    assert schedule_interval(expression) == interval


@pytest.mark.parametrize(
    ("expression", "window", "period_seconds", "periods"),
    [
        ("rate(5 minutes)", timedelta(minutes=10), 600, 1),
        ("rate(12 hours)", timedelta(days=1), 86400, 1),
        ("rate(30 hours)", timedelta(hours=60), 3600, 60),
        ("cron(0 3 ? * SUN *)", timedelta(days=7), 3600, 168),  # 14 days capped at CloudWatch's 7
    ],
)
def test_scan_window_is_twice_the_schedule_within_cloudwatch_limits(
    expression: str, window: timedelta, period_seconds: int, periods: int
) -> None:
    planned = scan_success_window(expression)
    assert planned.window == window
    assert (planned.period.to_seconds(), planned.evaluation_periods) == (period_seconds, periods)
    # CloudWatch: periods under an hour may span at most a day, others at most 7 days
    total = period_seconds * periods
    assert total <= (86400 if period_seconds < 3600 else 7 * 86400)


def test_malformed_schedules_are_refused_with_the_expression_in_the_message() -> None:
    with pytest.raises(ValueError, match="hourly"):
        schedule_interval("hourly")
    with pytest.raises(ValueError, match="6 fields"):
        schedule_interval("cron(0 2 * * ?)")


def test_alarm_email_and_existing_topic_are_exclusive() -> None:
    with pytest.raises(ValidationError, match="not both"):
        EnvironmentConfig.model_validate(
            {
                "name": "dev",
                "genesysRegion": "eu_west_1",
                "genesysSecretName": "flowops/dev/genesys",
                "alarmEmail": "ops@example.com",
                "alarmTopicArn": "arn:aws:sns:eu-west-1:123456789012:oncall",
            }
        )


# -- the construct on a small stack (a few seconds of jsii, no full flowops stack) ---------------


def _small_stack(**settings: Any) -> dict[str, Any]:
    """A stack with one state machine, one function with a DLQ and one plain queue, monitored."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sqs as sqs
    from aws_cdk import aws_stepfunctions as sfn
    from aws_cdk.assertions import Template

    from infra.constructs.monitoring import MonitoredResources, MonitoringConstruct

    config = EnvironmentConfig.model_validate(
        {"name": "dev", "genesysRegion": "eu_west_1", "genesysSecretName": "flowops/dev/genesys", **settings}
    )
    app = cdk.App()
    stack = cdk.Stack(app, "Flowops-dev")
    workflow = cdk.Resource(stack, "NightlyWorkflow")
    machine = sfn.StateMachine(
        workflow,
        "StateMachine",
        definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(workflow, "Nothing")),
    )
    failed_events = sqs.Queue(stack, "FailedEvents")
    sqs.Queue(stack, "WorkQueue")
    lambda_.Function(
        stack,
        "Worker",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
        dead_letter_queue=failed_events,
    )
    MonitoringConstruct(
        stack,
        "Monitoring",
        config=config,
        resources=MonitoredResources.discover(stack),
        scan_state_machine=machine,
    )
    template: dict[str, Any] = Template.from_stack(stack).to_json()
    return template


@pytest.fixture(scope="module")
def email_stack() -> dict[str, Any]:
    return _small_stack(alarmEmail="ops@example.com", scanSchedule="cron(0 2 * * ? *)")


def _alarm_names(template: dict[str, Any]) -> set[str]:
    return {
        resource["Properties"]["AlarmName"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }


def test_discovered_resources_get_their_alarms_and_only_real_dead_letter_queues_count(
    email_stack: dict[str, Any],
) -> None:
    # Given a stack with a workflow, a function whose DLQ is FailedEvents, and a plain work queue
    names = _alarm_names(email_stack)
    # Then the workflow, the function and the DLQ are watched, and the work queue is not
    assert {
        "Flowops-dev-NightlyWorkflowExecutionsFailed",
        "Flowops-dev-NightlyWorkflowExecutionsTimedOut",
        "Flowops-dev-WorkerErrors",
        "Flowops-dev-WorkerThrottles",
        "Flowops-dev-FailedEventsNotEmpty",
        "Flowops-dev-RollbackFailed",
        "Flowops-dev-ScanNotSucceeded",
    } == names


def test_alarm_email_subscribes_to_a_new_encrypted_topic(email_stack: dict[str, Any]) -> None:
    subscriptions = [r for r in email_stack["Resources"].values() if r["Type"] == "AWS::SNS::Subscription"]
    assert [s["Properties"]["Endpoint"] for s in subscriptions] == ["ops@example.com"]
    assert [s["Properties"]["Protocol"] for s in subscriptions] == ["email"]
    (topic,) = [r for r in email_stack["Resources"].values() if r["Type"] == "AWS::SNS::Topic"]
    assert "KmsMasterKeyId" in topic["Properties"]


def test_an_existing_topic_is_used_as_is_without_creating_one() -> None:
    # Given the environment names the team's existing on-call topic
    arn = "arn:aws:sns:eu-west-1:123456789012:oncall"
    template = _small_stack(alarmTopicArn=arn)
    # Then no topic or key is created and every alarm notifies that ARN
    types = {resource["Type"] for resource in template["Resources"].values()}
    assert not types & {"AWS::SNS::Topic", "AWS::KMS::Key", "AWS::SNS::Subscription"}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            assert resource["Properties"]["AlarmActions"] == [arn]
