"""RecordRelease: new lock entry, artifacts, run item, audit event, metrics; lease freed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.publish import _wiring
from flowops.functions.publish.events import RecordReleaseEvent
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.publish.steps import record_release

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@parse_event(model=RecordReleaseEvent)
@_wiring.named_errors
def handler(event: RecordReleaseEvent, context: LambdaContext) -> dict[str, Any]:
    outcome = record_release(
        event.run, event.validation, event.snapshot, event.publish, event.health, _wiring.ports()
    )
    metrics.add_metric(name="FlowsPublished", unit=MetricUnit.Count, value=1)
    logger.info("released", extra=outcome.model_dump())
    return outcome.model_dump(mode="json")
