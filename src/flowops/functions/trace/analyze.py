"""AnalyzeExecutions: download every document, parse, analyze; report, summary and SVG in S3."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.trace import _wiring
from flowops.functions.trace.events import AnalyzeEvent
from flowops.lambda_event import parse_event
from flowops.observability import get_tracer, logger, metrics
from flowops.trace.pipeline import analyze_executions

tracer = get_tracer()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@_wiring.step_errors
@parse_event(model=AnalyzeEvent)
def handler(event: AnalyzeEvent, context: LambdaContext) -> dict[str, Any]:
    settings = _wiring.storage_settings()
    summary = analyze_executions(
        _wiring.trace_source(),
        _wiring.artifacts(settings),
        event.trace,
        event.plan,
        event.instances,
        event.jobs,
        org=settings.flowops_org,
        now=_wiring.utc_now(),
    )
    metrics.add_dimension(name="org", value=settings.flowops_org)
    metrics.add_metric(name="TraceRunsAnalyzed", unit=MetricUnit.Count, value=summary.runs_analyzed)
    metrics.add_metric(name="TraceParseCoverage", unit=MetricUnit.Percent, value=summary.parse_coverage * 100)
    metrics.add_metric(name="TraceFailedDownloads", unit=MetricUnit.Count, value=summary.failed_downloads)
    logger.info(
        "trace analyzed",
        extra={
            "trace_id": event.trace.trace_id,
            "runs_analyzed": summary.runs_analyzed,
            "failed_downloads": summary.failed_downloads,
            "report_key": summary.report_key,
        },
    )
    return summary.model_dump(mode="json")
