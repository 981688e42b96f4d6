"""Alarms, the alarm topic and the pipeline dashboard, for whatever workflows the stack has.

`MonitoringConstruct` takes generic inputs (`MonitoredResources`: state machines, functions,
dead-letter queues) so a workflow added later is monitored by being passed in, or simply by
existing: `MonitoredResources.discover(stack)` finds every state machine, Lambda function and
dead-letter queue in the construct tree. Alarms:

- per state machine: ExecutionsFailed ≥ 1 and ExecutionsTimedOut ≥ 1 (5-minute sums);
- RollbackFailed: the powertools metric the publish workflow emits when a rollback fails;
- per dead-letter queue: ApproximateNumberOfMessagesVisible > 0;
- per function: Errors and Throttles;
- the scan did not succeed within twice its schedule (missing data breaches: no scan at all is
  exactly the case to catch);
- the webhook API: any 5XX, p90 latency near the function's timeout, and `WebhookFailed` (the
  handler answers an unexpected error with a 500, so Lambda's Errors metric cannot see it).
  Refusals (4XX, `WebhookRefused`) are expected and never alarm.

Every alarm notifies the alarm topic on ALARM and on OK, so a page also gets its all-clear. The
topic's policy lets CloudWatch publish (with a resource policy, CloudWatch needs an explicit
Allow); `subscribe_people` subscribes the environment's people (e-mail, an HTTPS chat webhook) to
the alarm topic and to the RollbackFailed topic.

Pipeline metrics are graphed with exactly the dimensions their handlers emit them with
(`PIPELINE_METRIC_DIMENSIONS`; tests/infra compares it with the handlers' code).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct, IConstruct

from infra.constants import POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME
from infra.environment import EnvironmentConfig

ALARM_PERIOD = cdk.Duration.minutes(5)
AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
# Step Functions retries transient Genesys errors, and each retried attempt is a Lambda error.
# One burst of retries stays under this; a function failing on every invocation does not.
FUNCTION_ERRORS_THRESHOLD = 3
# CloudWatch evaluates at most 7 days back (and at most 1 day with periods under an hour).
MAX_EVALUATION_RANGE = timedelta(days=7)
ONE_DAY = timedelta(days=1)

# Metrics the handlers emit through powertools (namespace POWERTOOLS_METRICS_NAMESPACE,
# dimension service=POWERTOOLS_SERVICE_NAME). The publish workflow's RecordRollbackFailed step
# emits ROLLBACK_FAILED_METRIC (src/flowops/functions/publish/record_rollback_failed.py).
ROLLBACK_FAILED_METRIC = "PublishRollbackFailed"
SCAN_METRICS = ("FlowsScanned", "DriftedFlows", "Cycles", "Problems", "LockPointerRaces")
PUBLISH_METRICS = ("FlowsPublished", "PublishValidationFailed", "PublishRollbacks", ROLLBACK_FAILED_METRIC)
WEBHOOK_METRICS = ("WebhookAccepted", "WebhookReplayed", "WebhookRefused")
TRACE_METRICS = ("TraceRunsAnalyzed", "TraceFailedDownloads", "TraceJobFailed", "TraceRedriveFailed")
API_CALL_METRICS = ("GenesysApiCalls",)
DURATION_METRICS = ("ScanDuration", "TraceLatency")
WEBHOOK_FAILED_METRIC = "WebhookFailed"
# Dimensions beyond `service` that each graphed or alarmed pipeline metric is emitted with; a
# metric graphed without one of its dimensions shows nothing.
ORG_DIMENSION = "org"
PIPELINE_METRIC_DIMENSIONS: Mapping[str, tuple[str, ...]] = {
    **{name: (ORG_DIMENSION,) for name in ("FlowsScanned", "DriftedFlows", "Cycles", "Problems")},
    "GenesysApiCalls": (ORG_DIMENSION,),
    "ScanDuration": (ORG_DIMENSION,),
    "TraceRunsAnalyzed": (ORG_DIMENSION,),
    "TraceFailedDownloads": (ORG_DIMENSION,),
    "TraceLatency": (ORG_DIMENSION,),
}
# The webhook's p90 latency alarm: well above a normal delivery, below the function's timeout.
WEBHOOK_LATENCY_THRESHOLD_MS = 10_000

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_DAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MONTH_NAMES = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1
    )
}


# -- the scan schedule ---------------------------------------------------------------------------


def schedule_interval(expression: str) -> timedelta:
    """The longest time between two runs of an EventBridge `rate(...)` or `cron(...)` schedule.

    For cron, the firing times over 35 days are enumerated minute by minute (50,400 checks) and
    the largest gap is taken: exact for every expression made of `*`, `?`, lists, ranges and
    steps. Day-of-month `L`/`W` and day-of-week `#`/`L` cannot be enumerated this simply: they
    are taken as monthly (31 days), which is the longest such a schedule can wait.
    """
    rate = _RATE.match(expression)
    if rate:
        amount, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        return {
            "minute": timedelta(minutes=amount),
            "hour": timedelta(hours=amount),
            "day": timedelta(days=amount),
        }[unit]
    cron = _CRON.match(expression)
    if not cron:
        raise ValueError(f"{expression!r} is not an EventBridge rate(...) or cron(...) expression")
    fields = cron.group(1).split()
    if len(fields) != 6:
        raise ValueError(
            f"{expression!r}: cron takes 6 fields (minutes hours day-of-month month day-of-week year)"
        )
    minutes_field, hours_field, dom_field, month_field, dow_field, _year = fields
    if any(marker in dom_field for marker in ("L", "W")) or any(marker in dow_field for marker in ("#", "L")):
        return timedelta(days=31)
    minutes = _cron_values(minutes_field, 0, 59, {})
    hours = _cron_values(hours_field, 0, 23, {})
    days_of_month = _cron_values(dom_field, 1, 31, {})
    months = _cron_values(month_field, 1, 12, _MONTH_NAMES)
    days_of_week = _cron_values(dow_field, 1, 7, _DAY_NAMES)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    firings = [
        moment
        for moment in (start + timedelta(minutes=step) for step in range(35 * 24 * 60))
        if moment.minute in minutes
        and moment.hour in hours
        and moment.month in months
        and moment.day in days_of_month
        and (moment.isoweekday() % 7 + 1) in days_of_week  # AWS: SUN=1 … SAT=7
    ]
    if len(firings) < 2:
        return timedelta(days=31)
    return max(later - earlier for earlier, later in itertools.pairwise(firings))


def _cron_values(field_text: str, low: int, high: int, names: Mapping[str, int]) -> set[int]:
    if field_text in {"*", "?"}:
        return set(range(low, high + 1))
    values: set[int] = set()
    for part in field_text.upper().split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base in {"*", "?"}:
            first, last = low, high
        elif "-" in base:
            first_text, last_text = base.split("-", 1)
            first, last = _cron_number(first_text, names), _cron_number(last_text, names)
        else:
            first = _cron_number(base, names)
            last = high if step_text else first
        values.update(range(first, last + 1, step))
    if not values or min(values) < low or max(values) > high:
        raise ValueError(f"cron field {field_text!r} is outside {low}..{high}")
    return values


def _cron_number(text: str, names: Mapping[str, int]) -> int:
    return names[text] if text in names else int(text)


@dataclass(frozen=True)
class SucceededWithinWindow:
    """How to alarm on "no success within `window`" inside CloudWatch's evaluation limits."""

    window: timedelta
    period: cdk.Duration
    evaluation_periods: int


def scan_success_window(schedule_expression: str) -> SucceededWithinWindow:
    """Twice the schedule's longest gap, capped at 7 days (CloudWatch's longest evaluation range).

    Up to a day the window is one period. Beyond a day periods must be at least an hour, so the
    window is N hourly periods and the alarm needs ALL N to lack a success (M = N).
    """
    window = min(2 * schedule_interval(schedule_expression), MAX_EVALUATION_RANGE)
    if window <= ONE_DAY:
        seconds = max(60, math.ceil(window.total_seconds() / 60) * 60)
        return SucceededWithinWindow(window, cdk.Duration.seconds(seconds), 1)
    hours = math.ceil(window.total_seconds() / 3600)
    return SucceededWithinWindow(window, cdk.Duration.hours(1), hours)


# -- what is monitored ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MonitoredResources:
    """What to alarm on, each keyed by a label that names it in alarm names and the dashboard."""

    state_machines: Mapping[str, sfn.IStateMachine] = field(default_factory=dict)
    functions: Mapping[str, lambda_.IFunction] = field(default_factory=dict)
    dead_letter_queues: Mapping[str, sqs.IQueue] = field(default_factory=dict)

    @classmethod
    def discover(cls, scope: IConstruct) -> MonitoredResources:
        """Every state machine, Lambda function and dead-letter queue under `scope`.

        A state machine is labelled by its workflow construct (`ScanWorkflow/StateMachine` →
        `ScanWorkflow`). A queue is a dead-letter queue when another queue or a function names
        it as one, or when its construct id says so (`...DeadLetterQueue`, `...Dlq`): queues a
        state machine parks messages in are dead letters by role, not by wiring.
        """
        machines: dict[str, sfn.IStateMachine] = {}
        functions: dict[str, lambda_.IFunction] = {}
        queues: list[sqs.Queue] = []
        named_as_dead_letter: set[str] = set()
        for construct in _constructs(scope):
            if isinstance(construct, sfn.StateMachine):
                machines[_label(construct)] = construct
            elif isinstance(construct, lambda_.Function) and not _is_cdk_internal(construct):
                functions[_label(construct)] = construct
                if construct.dead_letter_queue is not None:
                    named_as_dead_letter.add(construct.dead_letter_queue.node.path)
            elif isinstance(construct, sqs.Queue):
                queues.append(construct)
                if construct.dead_letter_queue is not None:
                    named_as_dead_letter.add(construct.dead_letter_queue.queue.node.path)
        dead_letter_queues = {
            _label(queue): queue
            for queue in queues
            if queue.node.path in named_as_dead_letter or re.search(r"dead.?letter|dlq", queue.node.id, re.I)
        }
        return cls(machines, functions, dead_letter_queues)


def _constructs(scope: IConstruct) -> Iterator[IConstruct]:
    yield from scope.node.find_all()


def _label(construct: IConstruct) -> str:
    """A construct's id, prefixed by its workflow's when the id alone says little.

    `ScanWorkflow/StateMachine` → `ScanWorkflow`; `TraceWorkflow/DeliveryDeadLetterQueue` →
    `TraceDeliveryDeadLetterQueue`; resources placed directly on the stack keep their own id.
    """
    own = construct.node.id
    parent = construct.node.scope
    if parent is None or isinstance(parent, cdk.Stack):
        return own
    parent_id = parent.node.id
    if own in {"StateMachine", "Queue", "Function"}:
        return parent_id
    stem = parent_id.removesuffix("Workflow")
    if isinstance(construct, sqs.Queue) and not own.startswith(stem):
        return f"{stem}{own}"
    return own


def _is_cdk_internal(function: lambda_.Function) -> bool:
    """Singleton helper functions CDK adds (log retention, custom resources) are not flowops'."""
    return (
        function.node.id.startswith(("SingletonLambda", "LogRetention", "AWS"))
        or "Provider" in function.node.path
    )


# -- the construct -------------------------------------------------------------------------------


class MonitoringConstruct(Construct):
    """The alarm topic, one alarm per failure mode and resource, and the pipeline dashboard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        resources: MonitoredResources,
        scan_state_machine: sfn.IStateMachine | None = None,
        rollback_failed_metric: cloudwatch.IMetric | None = None,
        webhook_api: apigw.RestApi | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._prefix = cdk.Stack.of(self).stack_name
        self._org = config.org_key
        self.topic = self._alarm_topic(config)
        self._action = cloudwatch_actions.SnsAction(self.topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        for label, machine in sorted(resources.state_machines.items()):
            self._alarm(
                f"{label}ExecutionsFailed",
                machine.metric_failed(period=ALARM_PERIOD, statistic="Sum"),
                f"A {label} execution failed. Open the execution in the Step Functions console: the failed "
                "state's name says what happened.",
            )
            self._alarm(
                f"{label}ExecutionsTimedOut",
                machine.metric_timed_out(period=ALARM_PERIOD, statistic="Sum"),
                f"A {label} execution hit its overall timeout.",
            )

        self.rollback_failed_metric = rollback_failed_metric or pipeline_metric(ROLLBACK_FAILED_METRIC)
        self._alarm(
            "RollbackFailed",
            self.rollback_failed_metric,
            "A publish failed AND its rollback failed: the flow may be left on the broken version. Restore "
            "the previous version by hand (flows/<org>/<flowId>/<version>.yaml in the artifacts bucket).",
        )

        for label, queue in sorted(resources.dead_letter_queues.items()):
            self._alarm(
                f"{label}NotEmpty",
                queue.metric_approximate_number_of_messages_visible(period=ALARM_PERIOD, statistic="Maximum"),
                f"Messages wait in the dead-letter queue {label}; redrive them once the cause is fixed.",
                threshold=0,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            )

        for label, function in sorted(resources.functions.items()):
            self._alarm(
                f"{label}Errors",
                function.metric_errors(period=ALARM_PERIOD, statistic="Sum"),
                f"The {label} function failed {FUNCTION_ERRORS_THRESHOLD} or more times in 5 minutes.",
                threshold=FUNCTION_ERRORS_THRESHOLD,
            )
            self._alarm(
                f"{label}Throttles",
                function.metric_throttles(period=ALARM_PERIOD, statistic="Sum"),
                f"The {label} function was throttled (account concurrency exhausted).",
            )

        if webhook_api is not None:
            self._webhook_alarms(webhook_api)

        self.scan_window: SucceededWithinWindow | None = None
        if scan_state_machine is not None:
            self.scan_window = scan_success_window(config.scan_schedule)
            window_hours = self.scan_window.window.total_seconds() / 3600
            succeeded = scan_state_machine.metric_succeeded(period=self.scan_window.period, statistic="Sum")
            self._alarm(
                "ScanNotSucceeded",
                succeeded,
                f"No scan succeeded in the last {window_hours:g} hours (twice the schedule "
                f"{config.scan_schedule}): the lockfile and drift report are going stale.",
                threshold=1,
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                missing=cloudwatch.TreatMissingData.BREACHING,
                evaluation_periods=self.scan_window.evaluation_periods,
            )

        self.dashboard = self._dashboard(resources)

    # -- pieces --------------------------------------------------------------------------------

    def _webhook_alarms(self, api: apigw.RestApi) -> None:
        self._alarm(
            "WebhookServerErrors",
            api.metric_server_error(period=ALARM_PERIOD, statistic="Sum"),
            "The publish webhook answered 5XX: CI deliveries are failing. Check the PublishWebhook "
            "function's log (and WebhookFailed) for the error.",
        )
        self._alarm(
            "WebhookLatency",
            api.metric_latency(period=ALARM_PERIOD, statistic="p90"),
            f"The publish webhook's p90 latency was above {WEBHOOK_LATENCY_THRESHOLD_MS / 1000:g} s for "
            "15 minutes: deliveries are close to timing out.",
            threshold=WEBHOOK_LATENCY_THRESHOLD_MS,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=3,
        )
        self._alarm(
            WEBHOOK_FAILED_METRIC,
            self.pipeline_metric(WEBHOOK_FAILED_METRIC),
            "The publish webhook failed unexpectedly (answered 500): its log has the traceback.",
        )

    def pipeline_metric(
        self, name: str, *, statistic: str = "Sum", period: cdk.Duration = ALARM_PERIOD
    ) -> cloudwatch.Metric:
        """`pipeline_metric` with this environment's org, for the metrics emitted per org."""
        return pipeline_metric(name, statistic=statistic, period=period, org=self._org)

    def _pipeline_graph(
        self, title: str, names: tuple[str, ...], *, statistic: str = "Sum"
    ) -> cloudwatch.GraphWidget:
        return cloudwatch.GraphWidget(
            title=title,
            left=[
                self.pipeline_metric(name, statistic=statistic, period=cdk.Duration.hours(1))
                for name in names
            ],
            width=8,
        )

    def _alarm_topic(self, config: EnvironmentConfig) -> sns.ITopic:
        if config.alarm_topic_arn:
            return sns.Topic.from_topic_arn(self, "AlarmTopic", config.alarm_topic_arn)
        # CloudWatch cannot publish to a topic encrypted with the AWS-managed aws/sns key (its
        # policy cannot be changed), so the topic gets its own key that allows CloudWatch.
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description=f"Encrypts the alarm topic of {self._prefix}",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy "*" means this key
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account}},
            )
        )
        topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"flowops alarms ({config.name})",
            master_key=key,
            enforce_ssl=True,
        )
        # The topic has a resource policy (enforce_ssl): CloudWatch may publish only if allowed.
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account},
                    "ArnLike": {
                        "aws:SourceArn": cdk.Stack.of(self).format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name=f"{self._prefix}-*",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                },
            )
        )
        subscribe_people(topic, config)
        return topic

    def _alarm(
        self,
        alarm_id: str,
        metric: cloudwatch.IMetric,
        description: str,
        *,
        threshold: float = 1,
        comparison: cloudwatch.ComparisonOperator = AT_LEAST,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
        evaluation_periods: int = 1,
    ) -> cloudwatch.Alarm:
        if alarm_id in self.alarms:
            raise ValueError(f"alarm {alarm_id!r} is defined twice: two monitored resources share a label")
        alarm = cloudwatch.Alarm(
            self,
            alarm_id,
            alarm_name=f"{self._prefix}-{alarm_id}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=evaluation_periods,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms[alarm_id] = alarm
        return alarm

    def _dashboard(self, resources: MonitoredResources) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{self._prefix}-pipeline",
            default_interval=cdk.Duration.days(7),
        )
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="Alarms", alarms=list(self.alarms.values()), width=24, height=4
            )
        )
        machine_widgets: list[cloudwatch.IWidget] = []
        for label, machine in sorted(resources.state_machines.items()):
            machine_widgets.append(
                cloudwatch.GraphWidget(
                    title=f"{label} executions",
                    left=[
                        machine.metric_started(statistic="Sum", label="started"),
                        machine.metric_succeeded(statistic="Sum", label="succeeded"),
                        machine.metric_failed(statistic="Sum", label="failed"),
                        machine.metric_timed_out(statistic="Sum", label="timed out"),
                    ],
                    width=12,
                )
            )
            machine_widgets.append(
                cloudwatch.GraphWidget(
                    title=f"{label} duration",
                    left=[
                        machine.metric_time(statistic="p50", label="p50"),
                        machine.metric_time(statistic="p90", label="p90"),
                        machine.metric_time(statistic="Maximum", label="max"),
                    ],
                    width=12,
                )
            )
        dashboard.add_widgets(*machine_widgets)
        dashboard.add_widgets(
            self._pipeline_graph("Scans", SCAN_METRICS),
            self._pipeline_graph("Publishes and rollbacks", PUBLISH_METRICS),
            self._pipeline_graph("Genesys API calls", API_CALL_METRICS),
        )
        dashboard.add_widgets(
            self._pipeline_graph("Webhook deliveries", (*WEBHOOK_METRICS, WEBHOOK_FAILED_METRIC)),
            self._pipeline_graph("Traces", TRACE_METRICS),
            self._pipeline_graph("Scan and trace durations (s)", DURATION_METRICS, statistic="Average"),
        )
        functions = sorted(resources.functions.items())
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Lambda errors",
                left=[function.metric_errors(statistic="Sum", label=label) for label, function in functions],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Lambda throttles",
                left=[
                    function.metric_throttles(statistic="Sum", label=label) for label, function in functions
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Lambda duration p90 (ms)",
                left=[
                    function.metric_duration(statistic="p90", label=label) for label, function in functions
                ],
                width=8,
            ),
        )
        if resources.dead_letter_queues:
            dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title="Dead-letter queues (messages waiting)",
                    left=[
                        queue.metric_approximate_number_of_messages_visible(statistic="Maximum", label=label)
                        for label, queue in sorted(resources.dead_letter_queues.items())
                    ],
                    width=24,
                )
            )
        return dashboard


def pipeline_metric(
    name: str, *, statistic: str = "Sum", period: cdk.Duration = ALARM_PERIOD, org: str | None = None
) -> cloudwatch.Metric:
    """A metric a handler emits with powertools (`metrics.add_metric(name=...)`), with the
    dimensions it is emitted with (`service`, plus `org` where PIPELINE_METRIC_DIMENSIONS says)."""
    dimensions = {"service": POWERTOOLS_SERVICE_NAME}
    if ORG_DIMENSION in PIPELINE_METRIC_DIMENSIONS.get(name, ()):
        if org is None:
            raise ValueError(f"metric {name} is emitted per org: give the org")
        dimensions[ORG_DIMENSION] = org
    return cloudwatch.Metric(
        namespace=POWERTOOLS_METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map=dimensions,
        statistic=statistic,
        period=period,
    )


def subscribe_people(topic: sns.ITopic, config: EnvironmentConfig) -> None:
    """The environment's people on `topic`: its alarm e-mail and its HTTPS chat webhook."""
    if config.alarm_email:
        topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
    if config.alarm_webhook_url:
        topic.add_subscription(subscriptions.UrlSubscription(config.alarm_webhook_url))
