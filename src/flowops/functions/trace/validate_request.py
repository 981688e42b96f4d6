"""ValidateTraceRequest: storage enabled, flows exist, window inside the retention → TracePlan."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.trace import _wiring
from flowops.functions.trace.events import ValidateEvent
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.trace.pipeline import validate_trace_request

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@_wiring.step_errors
@parse_event(model=ValidateEvent)
def handler(event: ValidateEvent, context: LambdaContext) -> dict[str, Any]:
    plan = validate_trace_request(_wiring.trace_source(), event.trace, now=_wiring.utc_now())
    logger.info(
        "trace request valid",
        extra={
            "trace_id": event.trace.trace_id,
            "flows": [f.id for f in plan.flows],
            "trigger": plan.trigger,
        },
    )
    return plan.model_dump(mode="json")
