"""BuildLock: assemble the lockfile, write it immutable, analyse and export the graph."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.scan import _wiring
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.scan.assemble import build_lock
from flowops.scan.models import BuildLockRequest

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@_wiring.step_errors
@parse_event(model=BuildLockRequest)
def handler(event: BuildLockRequest, context: LambdaContext) -> dict[str, Any]:
    settings = _wiring.storage_settings()
    summary = build_lock(_wiring.artifacts(settings), event, org=settings.flowops_org, now=_wiring.utc_now())
    logger.info("lock written", extra={"scan_id": event.scan.scan_id, "lock_sha256": summary.lock_sha256})
    metrics.add_metric(name="LockNodes", unit=MetricUnit.Count, value=summary.nodes)
    # Flows whose dependencies the platform could not give (recorded in the lock, re-read next scan).
    metrics.add_metric(name="UnreadFlows", unit=MetricUnit.Count, value=summary.unread_flows)
    return summary.model_dump(mode="json")
