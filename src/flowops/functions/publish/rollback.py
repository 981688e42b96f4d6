"""RollbackToPreviousVersion: decide what undoing the failed publish takes (wait for a publish job
still running, nothing when the published version never moved, else redeploy the last
known-good release), or hand on a release that was already recorded."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.publish import _wiring
from flowops.functions.publish.events import RollbackEvent
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.publish.steps import start_rollback

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@parse_event(model=RollbackEvent)
@_wiring.named_errors
def handler(event: RollbackEvent, context: LambdaContext) -> dict[str, Any]:
    progress = start_rollback(
        event.run, event.validation, event.snapshot, event.failure, _wiring.ports(), now=_wiring.now()
    )
    if progress.release_recorded:
        # The error came after the release was committed: nothing is rolled back.
        logger.warning(
            "release already recorded, not rolling back",
            extra={"run_id": event.run.run_id, "error": event.failure.error},
        )
    elif progress.action != "rollback":
        logger.warning(" ".join(progress.messages), extra={"run_id": event.run.run_id})
    else:
        metrics.add_metric(name="PublishRollbacks", unit=MetricUnit.Count, value=1)
        logger.warning("rolling back", extra={"run_id": event.run.run_id, "error": event.failure.error})
    return progress.model_dump(mode="json")
