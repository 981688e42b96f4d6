"""SnapshotCurrentVersion: keep the published version's YAML in S3 (the rollback source)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.publish import _wiring
from flowops.functions.publish.events import ValidatedEvent
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.publish.steps import snapshot_current_version

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@parse_event(model=ValidatedEvent)
@_wiring.named_errors
def handler(event: ValidatedEvent, context: LambdaContext) -> dict[str, Any]:
    snapshot = snapshot_current_version(event.run, event.validation, _wiring.ports())
    logger.info("snapshot taken", extra={"run_id": event.run.run_id, **snapshot.model_dump()})
    return snapshot.model_dump(mode="json")
