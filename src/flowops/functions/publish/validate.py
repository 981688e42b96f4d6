"""Validate: check the request against its YAML, the lock and the live org; take the lease."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.publish import _wiring
from flowops.functions.publish.events import ValidateEvent
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.publish.steps import validate_run

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@parse_event(model=ValidateEvent)
@_wiring.named_errors
def handler(event: ValidateEvent, context: LambdaContext) -> dict[str, Any]:
    outcome = validate_run(event.run, event.request, _wiring.ports(), now=_wiring.now())
    logger.info(
        outcome.summary, extra={"run_id": event.run.run_id, "ok": outcome.ok, "codes": outcome.error_codes}
    )
    if not outcome.ok:
        metrics.add_metric(name="PublishValidationFailed", unit=MetricUnit.Count, value=1)
    return outcome.model_dump(mode="json")
