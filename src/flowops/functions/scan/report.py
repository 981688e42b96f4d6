"""ReportScan: drift against the compared lock, the full report in S3, metrics and audit."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.scan import _wiring
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.scan.models import ReportRequest
from flowops.scan.report import report_scan

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@_wiring.step_errors
@parse_event(model=ReportRequest)
def handler(event: ReportRequest, context: LambdaContext) -> dict[str, Any]:
    settings = _wiring.storage_settings()
    artifacts = _wiring.artifacts(settings)
    outcome = report_scan(
        artifacts,
        _wiring.audit_log(settings),
        event,
        org=settings.flowops_org,
        now=_wiring.utc_now(),
        releases=artifacts,
    )
    metrics.add_dimension(name="org", value=settings.flowops_org)
    metrics.add_metric(name="FlowsScanned", unit=MetricUnit.Count, value=outcome.flows)
    metrics.add_metric(name="Cycles", unit=MetricUnit.Count, value=outcome.cycles)
    metrics.add_metric(name="Problems", unit=MetricUnit.Count, value=outcome.problems)
    metrics.add_metric(name="GenesysApiCalls", unit=MetricUnit.Count, value=outcome.api_calls)
    metrics.add_metric(name="ScanDuration", unit=MetricUnit.Seconds, value=outcome.duration_seconds)
    metrics.add_metric(name="DriftedFlows", unit=MetricUnit.Count, value=len(outcome.drift.changed_flow_ids))
    logger.info("scan reported", extra={"scan_id": outcome.scan_id, "report_key": outcome.report_key})
    return outcome.model_dump(mode="json")
