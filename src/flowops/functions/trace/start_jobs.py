"""StartExecutionDataJob: one execution-data job per 100 instance ids."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.trace import _wiring
from flowops.functions.trace.events import StartJobsEvent
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.trace.pipeline import start_execution_data_jobs

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@_wiring.step_errors
@parse_event(model=StartJobsEvent)
def handler(event: StartJobsEvent, context: LambdaContext) -> dict[str, Any]:
    settings = _wiring.storage_settings()
    progress = start_execution_data_jobs(
        _wiring.trace_source(), _wiring.artifacts(settings), event.instances, now=_wiring.utc_now()
    )
    logger.info(progress.message, extra={"trace_id": event.trace.trace_id, "jobs": progress.job_ids})
    return progress.model_dump(mode="json")
