"""WaitForExecutionData (check): are the jobs done, failed, past the deadline, or wait how long?"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.trace import _wiring
from flowops.functions.trace.events import CheckJobsEvent
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.trace.pipeline import check_execution_data_jobs

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@_wiring.step_errors
@parse_event(model=CheckJobsEvent)
def handler(event: CheckJobsEvent, context: LambdaContext) -> dict[str, Any]:
    progress = check_execution_data_jobs(
        _wiring.trace_source(), event.jobs, event.plan, now=_wiring.utc_now()
    )
    if progress.failed:
        metrics.add_metric(name="TraceJobFailed", unit=MetricUnit.Count, value=1)
    if progress.deadline_exceeded:
        metrics.add_metric(name="TraceJobDeadlineExceeded", unit=MetricUnit.Count, value=1)
    logger.info(progress.message, extra={"trace_id": event.trace.trace_id, "attempt": progress.attempt})
    return progress.model_dump(mode="json")
