"""HealthCheck: the new version is live, nothing failed, errors did not rise."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.publish import _wiring
from flowops.functions.publish.events import HealthCheckEvent
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.publish.steps import health_check

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@parse_event(model=HealthCheckEvent)
@_wiring.named_errors
def handler(event: HealthCheckEvent, context: LambdaContext) -> dict[str, Any]:
    health = health_check(event.validation, event.snapshot, event.publish, _wiring.ports(), now=_wiring.now())
    logger.info("healthy", extra={"run_id": event.run.run_id, "checks": health.checks})
    return health.model_dump(mode="json")
