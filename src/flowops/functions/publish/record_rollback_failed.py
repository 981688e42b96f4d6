"""The rollback failed: leave a manual fix in the run item; the run ends in RollbackFailed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.publish import _wiring
from flowops.functions.publish.events import RollbackFailedEvent
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.publish.steps import record_rollback_failed

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@parse_event(model=RollbackFailedEvent)
@_wiring.named_errors
def handler(event: RollbackFailedEvent, context: LambdaContext) -> dict[str, Any]:
    outcome = record_rollback_failed(
        event.run, event.validation, event.snapshot, event.failure, event.rollback_failure, _wiring.ports()
    )
    if outcome.status == "SUCCEEDED":
        logger.warning(outcome.cause, extra={"run_id": event.run.run_id})
    else:
        metrics.add_metric(name="PublishRollbackFailed", unit=MetricUnit.Count, value=1)
        logger.error(outcome.cause, extra={"run_id": event.run.run_id})
    return outcome.model_dump(mode="json")
