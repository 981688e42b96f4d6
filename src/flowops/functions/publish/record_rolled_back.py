"""After WaitForRollback: record the restored version; the run ends in RolledBack."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.publish import _wiring
from flowops.functions.publish.events import RolledBackEvent
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.publish.steps import record_rolled_back

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@parse_event(model=RolledBackEvent)
@_wiring.named_errors
def handler(event: RolledBackEvent, context: LambdaContext) -> dict[str, Any]:
    outcome = record_rolled_back(
        event.run, event.validation, event.snapshot, event.failure, event.rollback, _wiring.ports()
    )
    logger.warning(outcome.cause, extra={"run_id": event.run.run_id})
    return outcome.model_dump(mode="json")
