"""Nothing changed in Genesys (a step before StartPublish failed, or the rollback step found the
published version never moved): record it, free the lease; the run ends PublishFailed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.publish import _wiring
from flowops.functions.publish.events import FailedBeforePublishEvent
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.publish.steps import record_failure_before_publish

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@parse_event(model=FailedBeforePublishEvent)
@_wiring.named_errors
def handler(event: FailedBeforePublishEvent, context: LambdaContext) -> dict[str, Any]:
    unchanged = event.rollback if event.rollback is not None and event.rollback.action == "none" else None
    outcome = record_failure_before_publish(
        event.run, event.validation, event.failure, _wiring.ports(), unchanged=unchanged
    )
    logger.error(outcome.cause, extra={"run_id": event.run.run_id})
    return outcome.model_dump(mode="json")
