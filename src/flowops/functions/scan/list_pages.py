"""ListFlowPages: count the pages of flows and pin the previous lock for this scan."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.scan import _wiring
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.scan.models import PlanRequest
from flowops.scan.pages import plan_flow_pages

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@_wiring.step_errors
@parse_event(model=PlanRequest)
def handler(event: PlanRequest, context: LambdaContext) -> dict[str, Any]:
    settings = _wiring.storage_settings()
    plan = plan_flow_pages(
        _wiring.scan_source(),
        _wiring.pointers(settings),
        event.scan,
        org=settings.flowops_org,
        artifacts=_wiring.artifacts(settings),
        index=event.index,
    )
    logger.info(
        "planned flow pages",
        extra={"scan_id": event.scan.scan_id, "pages": plan.page_count, "flows": plan.total_flows},
    )
    metrics.add_metric(name="FlowPagesPlanned", unit=MetricUnit.Count, value=plan.page_count)
    return plan.model_dump(mode="json")
