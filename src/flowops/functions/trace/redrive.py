"""RedriveTraceDeliveries: post parked traces from the dead-letter queue to the webhook again."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.trace import _wiring
from flowops.functions.trace.events import RedriveEvent
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.trace.delivery import SqsDeadLetterQueue, redrive_dead_letters
from flowops.trace.request import TraceStateError

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@_wiring.step_errors
@parse_event(model=RedriveEvent)
def handler(event: RedriveEvent, context: LambdaContext) -> dict[str, Any]:
    delivery = _wiring.delivery_settings()
    if not delivery.trace_dead_letter_queue_url:
        raise TraceStateError("TRACE_DEAD_LETTER_QUEUE_URL is not set: no dead-letter queue to redrive")
    queue = SqsDeadLetterQueue(delivery.trace_dead_letter_queue_url, _wiring.aws_client("sqs"))
    result = redrive_dead_letters(
        queue,
        _wiring.webhook_endpoint(delivery),
        timestamp=int(_wiring.utc_now().timestamp()),
        max_messages=event.max_messages,
    )
    storage = _wiring.storage_settings()
    if result.received:
        _wiring.audit_log(storage).append(
            storage.flowops_org,
            "trace.delivery.redriven",
            actor="redrive",
            subject="trace-dead-letter-queue",
            details=result.model_dump(mode="json", exclude={"deliveries"}),
        )
    metrics.add_metric(name="TraceRedriveDelivered", unit=MetricUnit.Count, value=result.delivered)
    metrics.add_metric(name="TraceRedriveFailed", unit=MetricUnit.Count, value=result.failed)
    logger.info("trace redrive", extra=result.model_dump(mode="json", exclude={"deliveries"}))
    return result.model_dump(mode="json")
