"""AdvanceLockPointer: make the new lock current, conditional on the lock this scan planned against."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.scan import _wiring
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.scan.models import AdvancePointerRequest
from flowops.scan.pointer import advance_lock_pointer

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@_wiring.step_errors
@parse_event(model=AdvancePointerRequest)
def handler(event: AdvancePointerRequest, context: LambdaContext) -> dict[str, Any]:
    settings = _wiring.storage_settings()
    outcome = advance_lock_pointer(_wiring.pointers(settings), event, org=settings.flowops_org)
    logger.info(outcome.message, extra={"scan_id": event.scan.scan_id})
    metrics.add_metric(name="LockPointerAdvances", unit=MetricUnit.Count, value=int(outcome.advanced))
    if outcome.race:
        metrics.add_metric(name="LockPointerRaces", unit=MetricUnit.Count, value=1)
    return outcome.model_dump(mode="json")
