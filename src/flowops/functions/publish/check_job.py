"""The Check half of WaitForRollback: one poll of the rollback job, or of the publish job a
rollback fences (the publish loop polls through check_publish)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.publish import _wiring
from flowops.functions.publish.events import CheckJobEvent
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.publish.steps import check_job

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@parse_event(model=CheckJobEvent)
@_wiring.named_errors
def handler(event: CheckJobEvent, context: LambdaContext) -> dict[str, Any]:
    progress = check_job(event.progress, event.validation, _wiring.ports(), now=_wiring.now())
    logger.info(
        "job polled",
        extra={
            "run_id": event.run.run_id,
            "purpose": progress.purpose,
            "status": progress.status,
            "polls": progress.polls,
        },
    )
    return progress.model_dump(mode="json")
