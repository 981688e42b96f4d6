"""QueryInstances: the runs in the window, time-sliced past the 200-row cap; ids go to S3."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.trace import _wiring
from flowops.functions.trace.events import QueryEvent
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.trace.pipeline import query_instances

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@_wiring.step_errors
@parse_event(model=QueryEvent)
def handler(event: QueryEvent, context: LambdaContext) -> dict[str, Any]:
    settings = _wiring.storage_settings()
    result = query_instances(
        _wiring.trace_source(), _wiring.artifacts(settings), event.trace, event.plan, org=settings.flowops_org
    )
    metrics.add_metric(name="TraceInstancesFound", unit=MetricUnit.Count, value=result.found)
    if result.saturated_slices:
        metrics.add_metric(name="TraceSaturatedSlices", unit=MetricUnit.Count, value=result.saturated_slices)
    logger.info(result.message, extra={"trace_id": event.trace.trace_id, "queries": result.queries})
    return result.model_dump(mode="json")
