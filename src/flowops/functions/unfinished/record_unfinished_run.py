"""RecordUnfinishedRun: an execution ended TIMED_OUT, ABORTED or FAILED (EventBridge) — free its
leases, record it, audit and notify what its state machine could not (flowops.unfinished).

The input (and the state) may be too large for the event, so the execution is read back with
DescribeExecution; a status other than TIMED_OUT/ABORTED/FAILED (a redriven execution running
again) is left alone. An error raises: Lambda's asynchronous retries run it again (idempotent).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions._shared import artifacts, audit_log, aws_client, runs, step_errors, storage_settings
from flowops.functions.unfinished.events import ExecutionEndedEvent
from flowops.functions.unfinished.settings import UnfinishedSettings
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.publish.lease import PublishLeaseStore
from flowops.unfinished import Audience, EndedExecution, UnfinishedPorts, record_unfinished_run

tracer = get_tracer()
_ENDED = ("TIMED_OUT", "ABORTED", "FAILED")


def describe(execution_arn: str) -> dict[str, Any]:
    return dict(aws_client("stepfunctions").describe_execution(executionArn=execution_arn))


def notifier(settings: UnfinishedSettings, workflow: str) -> Any:
    def notify(audience: Audience, subject: str, message: dict[str, Any]) -> None:
        topic = settings.topic_for(audience, workflow)
        if topic:
            aws_client("sns").publish(TopicArn=topic, Subject=subject, Message=json.dumps(message, indent=2))
        else:
            logger.warning("no topic for this notification", extra={"audience": audience, "subject": subject})

    return notify


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@parse_event(model=ExecutionEndedEvent)
@step_errors
def handler(event: ExecutionEndedEvent, context: LambdaContext) -> dict[str, Any]:
    described = describe(event.execution_arn)
    status = str(described["status"])
    if status not in _ENDED:
        return {"recorded": False, "summary": f"execution is {status} now: nothing to do"}
    storage = storage_settings()
    execution = EndedExecution(
        execution_arn=event.execution_arn,
        name=str(described["name"]),
        status=status,  # type: ignore[arg-type]
        input=json.loads(described.get("input") or "{}"),
        error=described.get("error"),
        cause=described.get("cause"),
        start_date=str(described.get("startDate", "")),
        stop_date=str(described.get("stopDate", "")),
    )
    ports = UnfinishedPorts(
        org=storage.flowops_org,
        runs=runs(storage),
        audit=audit_log(storage),
        leases=PublishLeaseStore(storage.state_table, aws_client("dynamodb")),
        artifacts=artifacts(storage),
        notify=notifier(UnfinishedSettings(), event.workflow),
    )
    outcome = record_unfinished_run(event.workflow, execution, ports)
    metrics.add_dimension(name="org", value=storage.flowops_org)
    if outcome.recorded:
        metrics.add_metric(name="UnfinishedRuns", unit=MetricUnit.Count, value=1)
    logger.warning(outcome.summary, extra=outcome.model_dump(mode="json", exclude={"summary"}))
    return outcome.model_dump(mode="json")
