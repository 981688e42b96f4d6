"""ParkUnrecordedRelease: RecordRelease kept failing after the release went live and passed its
checks. The release stands (never rolled back); the run is parked for repair and says so."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.publish import _wiring
from flowops.functions.publish.events import UnrecordedReleaseEvent
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.publish.steps import park_unrecorded_release

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@parse_event(model=UnrecordedReleaseEvent)
@_wiring.named_errors
def handler(event: UnrecordedReleaseEvent, context: LambdaContext) -> dict[str, Any]:
    outcome = park_unrecorded_release(
        event.run, event.validation, event.snapshot, event.health, event.record_failure, _wiring.ports()
    )
    if outcome.status != "SUCCEEDED":
        metrics.add_metric(name="PublishReleaseUnrecorded", unit=MetricUnit.Count, value=1)
        logger.error(outcome.cause, extra={"run_id": event.run.run_id})
    return outcome.model_dump(mode="json")
