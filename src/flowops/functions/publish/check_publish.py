"""CheckPublishJob: one poll of the publish job; the poll that sees it end also health-checks the
new version (live version, its content, Genesys' validate job) before RecordRelease."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.publish import _wiring
from flowops.functions.publish.events import CheckPublishEvent
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.publish.steps import check_publish_job

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@parse_event(model=CheckPublishEvent)
@_wiring.named_errors
def handler(event: CheckPublishEvent, context: LambdaContext) -> dict[str, Any]:
    progress = check_publish_job(
        event.progress, event.validation, event.snapshot, _wiring.ports(), now=_wiring.now()
    )
    logger.info(
        "publish job polled",
        extra={
            "run_id": event.run.run_id,
            "status": progress.status,
            "polls": progress.polls,
            "checks": progress.health.checks if progress.health else [],
        },
    )
    return progress.model_dump(mode="json")
