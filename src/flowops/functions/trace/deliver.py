"""DeliverTrace: POST the signed summary to the observability webhook (Retry/DLQ in the machine)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.trace import _wiring
from flowops.functions.trace.events import DeliverEvent
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.trace.delivery import deliver_payload

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@_wiring.step_errors
@parse_event(model=DeliverEvent)
def handler(event: DeliverEvent, context: LambdaContext) -> dict[str, Any]:
    endpoint = _wiring.webhook_endpoint(_wiring.delivery_settings())
    result = deliver_payload(
        event.payload,
        endpoint,
        delivery_id=event.trace.trace_id,
        timestamp=int(_wiring.utc_now().timestamp()),
    )
    logger.info("trace delivery", extra={"trace_id": event.trace.trace_id, "outcome": result.outcome})
    return {"outcome": result.outcome, "status_code": result.status_code}
