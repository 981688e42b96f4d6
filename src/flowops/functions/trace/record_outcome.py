"""RecordTraceOutcome: audit event and metrics of a reported trace; the execution output."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.trace import _wiring
from flowops.functions.trace.events import RecordEvent
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.trace.pipeline import record_trace_outcome

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@_wiring.step_errors
@parse_event(model=RecordEvent)
def handler(event: RecordEvent, context: LambdaContext) -> dict[str, Any]:
    settings = _wiring.storage_settings()
    outcome = record_trace_outcome(
        _wiring.audit_log(settings),
        event.trace,
        event.report,
        event.delivery,
        org=settings.flowops_org,
        now=_wiring.utc_now(),
    )
    metrics.add_dimension(name="org", value=settings.flowops_org)
    metrics.add_metric(name="TraceLatency", unit=MetricUnit.Seconds, value=outcome.latency_seconds)
    # Its own EMF document: a `delivery` dimension on the shared set would land on TraceLatency too.
    with single_metric(
        name="TraceDeliveries", unit=MetricUnit.Count, value=1, namespace=metrics.namespace
    ) as delivery_metric:
        delivery_metric.add_dimension(name="service", value=metrics.service or "flowops")
        delivery_metric.add_dimension(name="org", value=settings.flowops_org)
        delivery_metric.add_dimension(name="delivery", value=event.delivery.outcome)
    logger.info(
        "trace reported",
        extra={
            "trace_id": outcome.trace_id,
            "delivery": event.delivery.outcome,
            "latency": outcome.latency_seconds,
        },
    )
    return outcome.model_dump(mode="json")
