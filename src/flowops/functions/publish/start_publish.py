"""StartPublish: deploy the YAML through the Architect jobs API (or publish a version)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.publish import _wiring
from flowops.functions.publish.events import ValidatedEvent
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.publish.steps import start_publish

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@parse_event(model=ValidatedEvent)
@_wiring.named_errors
def handler(event: ValidatedEvent, context: LambdaContext) -> dict[str, Any]:
    progress = start_publish(event.validation, _wiring.ports(), now=_wiring.now(), run=event.run)
    logger.info("publish started", extra={"run_id": event.run.run_id, "job_id": progress.job_id})
    return progress.model_dump(mode="json")
