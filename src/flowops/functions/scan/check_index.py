"""CheckDependencyIndex: is the dependency index OPERATIONAL, or how long to wait?"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.scan import _wiring
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.scan.index import check_dependency_index
from flowops.scan.models import IndexCheckRequest

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@_wiring.step_errors
@parse_event(model=IndexCheckRequest)
def handler(event: IndexCheckRequest, context: LambdaContext) -> dict[str, Any]:
    result = check_dependency_index(_wiring.scan_source(), event.scan, event.index, now=_wiring.utc_now())
    logger.info(result.message, extra={"scan_id": event.scan.scan_id, "status": result.status})
    metrics.add_metric(name="DependencyIndexChecks", unit=MetricUnit.Count, value=1)
    if result.deadline_exceeded:
        metrics.add_metric(name="DependencyIndexDeadlineExceeded", unit=MetricUnit.Count, value=1)
    return result.model_dump(mode="json")
