"""ReadFlowPage: one page of flows with their dependencies, stored in S3 (key returned)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.scan import _wiring
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.scan.models import PageTask
from flowops.scan.pages import read_flow_page

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@_wiring.step_errors
@parse_event(model=PageTask)
def handler(event: PageTask, context: LambdaContext) -> dict[str, Any]:
    settings = _wiring.storage_settings()
    result = read_flow_page(
        _wiring.scan_source(), _wiring.artifacts(settings), event, org=settings.flowops_org
    )
    logger.info("read flow page", extra={"scan_id": event.scan.scan_id, **result.model_dump()})
    metrics.add_metric(name="FlowsRead", unit=MetricUnit.Count, value=result.read)
    metrics.add_metric(name="FlowsReused", unit=MetricUnit.Count, value=result.reused)
    return result.model_dump(mode="json")
