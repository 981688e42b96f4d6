"""The trace steps, one core function per state of the trace state machine.

    validate_trace_request  → TracePlan            (storage enabled? flows exist? window in retention?)
    query_instances         → InstanceSet          (time-sliced query; ids go to S3, not state)
    start_execution_data_jobs / check_execution_data_jobs → JobsProgress   (Wait/check loop)
    analyze_executions      → TraceReportSummary   (download, parse, analyze; report, summary, SVG)

Each step takes the small pydantic models the previous steps returned, so the state stays
small (keys and counts): a 10,000-run trace keeps its instance ids in
`traces/<org>/<trace_id>/instances.json`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flowops.genesys.models import genesys_timestamp
from flowops.trace.analyze import analyze_runs
from flowops.trace.models import ParsedRun, ParseFailure, TraceReport
from flowops.trace.parse import parse_execution_document
from flowops.trace.ports import AuditSink, DownloadFailedError, JobStatus, TraceArtifacts, TraceSource
from flowops.trace.render import render_waterfall_svg, summarize
from flowops.trace.request import (
    ENABLE_STORAGE_HINT,
    PlannedFlow,
    StorageDisabledError,
    TraceContext,
    TracePlan,
    TraceRequest,
    TraceStateError,
    UnknownFlowError,
    resolve_moment,
)
from flowops.trace.window import QUERY_ROW_CAP, TraceRequestError, slice_window, validate_trace_window

JOB_BATCH_SIZE = 100  # instance ids per execution-data job
FIRST_POLL_SECONDS = 2
MAX_POLL_SECONDS = 60
DELIVERY_SUMMARY_LIMIT = 8000  # characters of the text summary sent to the webhook
DELIVERY_LIST_LIMIT = 10


def trace_key(org: str, trace_id: str, name: str) -> str:
    return f"traces/{org}/{trace_id}/{name}"


# --------------------------------------------------------------------------- validate


def validate_trace_request(source: TraceSource, context: TraceContext, *, now: datetime) -> TracePlan:
    """Check a request before anything is queried; raise the error the state machine catches.

    Relative windows ("2h") count back from the SUBMISSION time, so a retried step resolves the
    same window. `now` bounds `until` (no future windows) and the retention.
    """
    try:
        request = TraceRequest.model_validate(context.request)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc']) or 'request'}: {issue['msg']}"
            for issue in error.errors()[:5]
        )
        raise TraceRequestError(f"invalid trace request: {problems}") from None
    since = resolve_moment(request.since, now=context.submitted_at)
    until = resolve_moment(request.until, now=context.submitted_at) if request.until else context.submitted_at
    validate_trace_window(since, until, max(now, context.submitted_at), resolved_at=context.submitted_at)

    if not source.execution_data_enabled():
        raise StorageDisabledError(
            "Flow execution data storage is disabled for this org, so Genesys Cloud recorded no runs "
            f"to trace. {ENABLE_STORAGE_HINT}"
        )
    flows: list[PlannedFlow] = []
    for reference in request.flow_refs:
        matches = source.find_flows(reference)
        if not matches:
            raise UnknownFlowError(f"no flow with id or name {reference!r} exists in this org")
        if len(matches) > 1:
            listed = ", ".join(f"{flow.id} ({flow.type})" for flow in matches)
            raise UnknownFlowError(
                f"the name {reference!r} matches {len(matches)} flows: {listed}; use an id"
            )
        flows.append(matches[0])
    return TracePlan(
        flows=list({flow.id: flow for flow in flows}.values()),
        since=since,
        until=until,
        errors_only=request.errors_only,
        conversation_ids=request.conversation_ids,
        action_ids=request.action_ids,
        max_runs=request.max_runs,
        deadline_seconds=request.deadline_seconds,
        trigger=request.trigger,
    )


# --------------------------------------------------------------------------- query


class InstanceSet(BaseModel):
    """What the query found; the ids themselves are in `instances_key`."""

    model_config = ConfigDict(frozen=True)

    instances_key: str
    runs: int = Field(description="instances kept for analysis")
    found: int = Field(description="instances the query returned in the window")
    skipped_runs: int = Field(description="found beyond max_runs (the oldest are left out)")
    queries: int
    slices: int
    saturated_slices: int = Field(description="slices still at the 200-row cap: rows may be missing")
    complete: bool
    api_calls: int
    message: str


def instance_query(flow_id: str, start: datetime, end: datetime, plan: TracePlan) -> dict[str, Any]:
    """The body of POST /flows/instances/query for one flow and one half-open time slice."""
    conditions: list[dict[str, Any]] = [
        {"key": "FlowId", "operator": "eq", "value": flow_id},
        {"key": "FlowStartDateTime", "operator": "gte", "value": genesys_timestamp(start)},
        {"key": "FlowStartDateTime", "operator": "lt", "value": genesys_timestamp(end)},
    ]
    if plan.errors_only:
        conditions.append({"key": "FlowErrorReason", "operator": "not_null"})
    groups: list[dict[str, Any]] = [{"and": conditions}]
    if plan.conversation_ids:
        groups.append(
            {"or": [{"key": "ConversationId", "operator": "eq", "value": v} for v in plan.conversation_ids]}
        )
    if plan.action_ids:
        groups.append(
            {"or": [{"key": "FlowActionId", "operator": "eq", "value": v} for v in plan.action_ids]}
        )
    return {"query": groups}


def _row_start(row: dict[str, Any]) -> str:
    return str(row.get("startDateTime") or "")


def query_instances(
    source: TraceSource, artifacts: TraceArtifacts, context: TraceContext, plan: TracePlan, *, org: str
) -> InstanceSet:
    """Every instance of the plan's flows in the window, slicing each flow's window until no
    slice is at the 200-row cap; the newest `max_runs` are kept."""
    calls_before = source.total_api_calls
    rows: list[dict[str, Any]] = []
    queries = slices = saturated = 0
    for flow in plan.flows:

        def query(start: datetime, end: datetime, flow_id: str = flow.id) -> list[dict[str, Any]]:
            return source.query_instances(instance_query(flow_id, start, end, plan), QUERY_ROW_CAP)

        sliced = slice_window(plan.since, plan.until, query, cap=QUERY_ROW_CAP)
        rows.extend(sliced.rows)
        queries += sliced.queries
        slices += len(sliced.slices)
        saturated += len(sliced.saturated)
    unique = list({str(row["id"]): row for row in rows}.values())
    unique.sort(key=_row_start, reverse=True)
    kept = unique[: plan.max_runs]
    key = trace_key(org, context.trace_id, "instances.json")
    artifacts.put_json(
        key,
        {
            "trace_id": context.trace_id,
            "rows": [
                {
                    "id": str(row["id"]),
                    "flowId": row.get("flowId"),
                    "startDateTime": row.get("startDateTime"),
                    "conversationId": row.get("conversationId"),
                    "flowErrorReason": row.get("flowErrorReason"),
                }
                for row in kept
            ],
        },
    )
    if not kept:
        message = (
            f"no runs of {', '.join(flow.name or flow.id for flow in plan.flows)} started between "
            f"{genesys_timestamp(plan.since)} and {genesys_timestamp(plan.until)}"
            + (" with an error" if plan.errors_only else "")
        )
    else:
        message = f"{len(kept)} runs found in {slices} time slices ({queries} queries)"
    if saturated:
        message += f"; {saturated} slices stayed at the {QUERY_ROW_CAP}-row cap, runs may be missing"
    return InstanceSet(
        instances_key=key,
        runs=len(kept),
        found=len(unique),
        skipped_runs=len(unique) - len(kept),
        queries=queries,
        slices=slices,
        saturated_slices=saturated,
        complete=saturated == 0,
        api_calls=source.total_api_calls - calls_before,
        message=message,
    )


def _instance_ids(artifacts: TraceArtifacts, instances: InstanceSet) -> list[str]:
    document = artifacts.get_json(instances.instances_key)
    rows = document.get("rows") if isinstance(document, dict) else None
    if not isinstance(rows, list):
        raise TraceStateError(f"{instances.instances_key} holds no instance rows")
    return [str(row["id"]) for row in rows if isinstance(row, dict) and "id" in row]


# --------------------------------------------------------------------------- jobs


class JobsProgress(BaseModel):
    """The execution-data jobs and the state of the Wait/check loop."""

    model_config = ConfigDict(frozen=True)

    job_ids: list[str]
    started_at: datetime
    attempt: int = 0
    waited_seconds: int = 0
    wait_seconds: int = FIRST_POLL_SECONDS
    states: dict[str, str] = Field(default_factory=dict, description="job id -> jobState")
    ready: bool = Field(default=False, description="every job finished and at least one succeeded")
    failed: bool = Field(default=False, description="every job finished as Failed")
    deadline_exceeded: bool = False
    message: str = ""


def start_execution_data_jobs(
    source: TraceSource, artifacts: TraceArtifacts, instances: InstanceSet, *, now: datetime
) -> JobsProgress:
    ids = _instance_ids(artifacts, instances)
    if not ids:
        raise TraceStateError("no instances to fetch: the empty window should have ended the trace")
    job_ids = [source.start_job(ids[i : i + JOB_BATCH_SIZE]) for i in range(0, len(ids), JOB_BATCH_SIZE)]
    return JobsProgress(
        job_ids=job_ids,
        started_at=now,
        states=dict.fromkeys(job_ids, "Registered"),
        message=f"{len(job_ids)} execution data jobs started for {len(ids)} runs",
    )


def next_poll_seconds(attempt: int) -> int:
    """Exponential backoff between job checks: 2, 4, 8, ... capped at 60 seconds."""
    return int(min(MAX_POLL_SECONDS, FIRST_POLL_SECONDS * 2 ** max(0, attempt)))


def check_execution_data_jobs(
    source: TraceSource, progress: JobsProgress, plan: TracePlan, *, now: datetime
) -> JobsProgress:
    """One check of every unfinished job; says whether to analyze, fail, or wait and how long.

    The deadline counts both the waits the state machine was asked to make and the wall time
    since the jobs started, whichever is larger (locally, waits are recorded rather than slept).
    """
    states = dict(progress.states)
    for job_id in progress.job_ids:
        if states.get(job_id) in ("Success", "Failed"):
            continue
        states[job_id] = source.job(job_id).state
    finished = all(state in ("Success", "Failed") for state in states.values())
    failed_jobs = sum(1 for state in states.values() if state == "Failed")
    all_failed = finished and failed_jobs == len(states)
    waited = progress.waited_seconds
    elapsed = max(waited, int((now - progress.started_at).total_seconds()))
    # The first wait (FIRST_POLL_SECONDS) came before this check, so the next one is one step longer.
    wait = next_poll_seconds(progress.attempt + 1)
    deadline_exceeded = not finished and elapsed + wait > plan.deadline_seconds
    if all_failed:
        message = f"all {len(states)} execution data jobs ended Failed: Genesys could not export the runs"
    elif finished:
        message = f"{len(states) - failed_jobs} of {len(states)} execution data jobs succeeded"
    elif deadline_exceeded:
        message = (
            f"execution data jobs still running after {elapsed} s (deadline {plan.deadline_seconds} s): "
            + ", ".join(
                f"{job_id} {state}" for job_id, state in states.items() if state not in ("Success", "Failed")
            )
        )
    else:
        message = (
            f"{sum(1 for s in states.values() if s in ('Success', 'Failed'))} of {len(states)} jobs finished"
        )
    return progress.model_copy(
        update={
            "attempt": progress.attempt + 1,
            "waited_seconds": waited + (0 if finished or deadline_exceeded else wait),
            "wait_seconds": wait,
            "states": states,
            "ready": finished and not all_failed,
            "failed": all_failed,
            "deadline_exceeded": deadline_exceeded,
            "message": message,
        }
    )


# --------------------------------------------------------------------------- analyze


class FailedDownload(BaseModel):
    model_config = ConfigDict(frozen=True)

    instance_id: str
    reason: str
    status_code: str | None = None


class TraceReportSummary(BaseModel):
    """The small result AnalyzeExecutions leaves in the state (the report itself is in S3)."""

    model_config = ConfigDict(frozen=True)

    report_key: str
    summary_key: str
    waterfall_key: str | None
    runs_requested: int
    documents: int
    runs_analyzed: int
    failing_runs: int
    parse_coverage: float
    failed_downloads: int
    top_bottleneck: str | None
    api_calls: int
    analyzed_at: datetime
    delivery_payload: dict[str, Any]


def collect_documents(
    source: TraceSource, progress: JobsProgress, requested: Sequence[str]
) -> tuple[list[ParsedRun | ParseFailure], list[FailedDownload]]:
    """Download and parse every entity; a failed download is recorded, never fatal."""
    wanted = set(requested)
    results: list[ParsedRun | ParseFailure] = []
    failures: list[FailedDownload] = []
    seen: set[str] = set()
    for job_id in progress.job_ids:
        status: JobStatus = source.job(job_id)
        for entity in status.entities:
            if entity.instance_id in seen:
                continue
            seen.add(entity.instance_id)
            if entity.failed or not entity.download_uri:
                failures.append(
                    FailedDownload(
                        instance_id=entity.instance_id,
                        reason=f"the execution data job could not export this run (job {status.state})",
                        status_code=entity.status_code,
                    )
                )
                continue
            try:
                raw = source.download(entity.download_uri)
            except DownloadFailedError as error:
                failures.append(
                    FailedDownload(
                        instance_id=entity.instance_id, reason=str(error), status_code=error.status_code
                    )
                )
                continue
            results.append(parse_execution_document(raw, instance_id=entity.instance_id))
    for instance_id in sorted(wanted - seen):
        failures.append(
            FailedDownload(instance_id=instance_id, reason="the jobs returned no entity for this run")
        )
    return results, failures


def analyze_executions(
    source: TraceSource,
    artifacts: TraceArtifacts,
    context: TraceContext,
    plan: TracePlan,
    instances: InstanceSet,
    progress: JobsProgress,
    *,
    org: str,
    now: datetime,
) -> TraceReportSummary:
    """Download, parse and analyze; write report.json, summary.txt and the slowest run's SVG."""
    calls_before = source.total_api_calls
    requested = _instance_ids(artifacts, instances)
    documents, failures = collect_documents(source, progress, requested)
    report = analyze_runs(documents)
    summary = render_summary(report, plan, instances, failures)
    report_key = trace_key(org, context.trace_id, "report.json")
    summary_key = trace_key(org, context.trace_id, "summary.txt")
    waterfall_key: str | None = None
    if report.slowest_run is not None:
        waterfall_key = trace_key(org, context.trace_id, "slowest-run-waterfall.svg")
        artifacts.put_bytes(waterfall_key, render_waterfall_svg(report.slowest_run).encode(), "image/svg+xml")
    artifacts.put_bytes(summary_key, summary.encode(), "text/plain; charset=utf-8")
    artifacts.put_json(
        report_key,
        {
            "trace_id": context.trace_id,
            "org": org,
            "submitted_at": context.submitted_at.isoformat(),
            "analyzed_at": now.isoformat(),
            "plan": plan.model_dump(mode="json"),
            "instances": instances.model_dump(mode="json"),
            "jobs": {"job_ids": progress.job_ids, "states": progress.states},
            "failed_downloads": [failure.model_dump(mode="json") for failure in failures],
            "report": report.model_dump(mode="json"),
            "summary": summary,
            "waterfall_key": waterfall_key,
        },
    )
    payload = delivery_payload(
        context,
        plan,
        instances,
        report,
        failures,
        summary,
        org=org,
        report_key=report_key,
        waterfall_key=waterfall_key,
        now=now,
    )
    top = report.bottlenecks_by_total[0].label if report.bottlenecks_by_total else None
    return TraceReportSummary(
        report_key=report_key,
        summary_key=summary_key,
        waterfall_key=waterfall_key,
        runs_requested=len(requested),
        documents=report.coverage.documents,
        runs_analyzed=report.runs_analyzed,
        failing_runs=report.failing_runs,
        parse_coverage=report.coverage.parse_coverage,
        failed_downloads=len(failures),
        top_bottleneck=top,
        api_calls=source.total_api_calls - calls_before,
        analyzed_at=now,
        delivery_payload=payload,
    )


def render_summary(
    report: TraceReport, plan: TracePlan, instances: InstanceSet, failures: Sequence[FailedDownload]
) -> str:
    flows = ", ".join(f"{flow.name or flow.id} ({flow.id})" for flow in plan.flows)
    header = [
        f"Flows: {flows}",
        f"Window: {genesys_timestamp(plan.since)} .. {genesys_timestamp(plan.until)}"
        + (" (errors only)" if plan.errors_only else ""),
        f"Runs found: {instances.found}; analyzed from {instances.runs} requested"
        + (
            f"; {instances.skipped_runs} oldest left out (max_runs {plan.max_runs})"
            if instances.skipped_runs
            else ""
        ),
    ]
    if instances.saturated_slices:
        header.append(f"WARNING: {instances.saturated_slices} query slices stayed at the 200-row cap")
    if failures:
        header.append(
            f"Failed downloads: {len(failures)} (e.g. {failures[0].instance_id}: {failures[0].reason}); "
            "the analysis covers the runs that arrived"
        )
    return "\n".join([*header, "", summarize(report)])


def delivery_payload(
    context: TraceContext,
    plan: TracePlan,
    instances: InstanceSet,
    report: TraceReport,
    failures: Iterable[FailedDownload],
    summary: str,
    *,
    org: str,
    report_key: str,
    waterfall_key: str | None,
    now: datetime,
) -> dict[str, Any]:
    """What the observability webhook receives: bounded in size, no presigned URIs, no secrets."""
    failed = list(failures)
    latency = {entry.step_key: entry for entry in report.actions}
    payload: dict[str, Any] = {
        "kind": "flowops.trace.report",
        "version": 1,
        "trace_id": context.trace_id,
        "org": org,
        "flows": [flow.model_dump(mode="json") for flow in plan.flows],
        "window": {"since": genesys_timestamp(plan.since), "until": genesys_timestamp(plan.until)},
        "errors_only": plan.errors_only,
        "submitted_at": genesys_timestamp(context.submitted_at),
        "generated_at": genesys_timestamp(now),
        "runs_found": instances.found,
        "runs_analyzed": report.runs_analyzed,
        "failing_runs": report.failing_runs,
        "failed_downloads": len(failed),
        "window_complete": instances.complete,
        "coverage": report.coverage.model_dump(mode="json"),
        "bottlenecks": [
            {
                "rank": item.rank,
                "action_id": item.step_key,
                "label": item.label,
                "total_ms": item.total_ms,
                "share_of_time": item.share_of_time,
                "p50_ms": latency[item.step_key].p50_ms if item.step_key in latency else None,
                "p95_ms": item.p95_ms,
                "executions": item.executions,
            }
            for item in report.bottlenecks_by_total[:DELIVERY_LIST_LIMIT]
        ],
        "critical_path": None
        if report.critical_path is None
        else {
            "labels": report.critical_path.labels,
            "runs": report.critical_path.runs,
            "share_of_runs": report.critical_path.share_of_runs,
            "median_total_ms": report.critical_path.median_total_ms,
        },
        "errors": [
            {
                "reason": error.reason,
                "runs": error.runs,
                "action_id": error.common_location.step_key,
                "label": error.common_location.label,
                "output_path_id": error.common_location.output_path_id,
                "share_at_location": error.share_at_common_location,
            }
            for error in report.errors[:DELIVERY_LIST_LIMIT]
        ],
        "gaps": [gap.model_dump(mode="json") for gap in report.gaps[:DELIVERY_LIST_LIMIT]],
        "summary": summary[:DELIVERY_SUMMARY_LIMIT],
        "report_key": report_key,
        "waterfall_key": waterfall_key,
    }
    # Round-trip through JSON so the payload in the state is exactly what gets signed and sent.
    parsed: dict[str, Any] = json.loads(json.dumps(payload))
    return parsed


# --------------------------------------------------------------------------- outcome


class DeliveryOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: str = Field(description="delivered | not_configured | dead_lettered")
    status_code: int | None = None
    message_id: str | None = None
    error: str | None = None


class TraceOutcome(BaseModel):
    """The execution output of a trace that reached a report."""

    model_config = ConfigDict(frozen=True)

    trace_id: str
    status: str = "REPORTED"
    report_key: str
    summary_key: str
    waterfall_key: str | None
    runs_analyzed: int
    failing_runs: int
    failed_downloads: int
    parse_coverage: float
    top_bottleneck: str | None
    delivery: DeliveryOutcome
    latency_seconds: float = Field(description="submission → report")


def record_trace_outcome(
    audit: AuditSink,
    context: TraceContext,
    report: TraceReportSummary,
    delivery: DeliveryOutcome,
    *,
    org: str,
    now: datetime,
) -> TraceOutcome:
    """The audit event of a finished trace and the execution's output."""
    latency = max(0.0, (report.analyzed_at - context.submitted_at).total_seconds())
    outcome = TraceOutcome(
        trace_id=context.trace_id,
        report_key=report.report_key,
        summary_key=report.summary_key,
        waterfall_key=report.waterfall_key,
        runs_analyzed=report.runs_analyzed,
        failing_runs=report.failing_runs,
        failed_downloads=report.failed_downloads,
        parse_coverage=report.parse_coverage,
        top_bottleneck=report.top_bottleneck,
        delivery=delivery,
        latency_seconds=round(latency, 3),
    )
    audit.append(
        org,
        "trace.reported",
        actor="trace-workflow",
        subject=context.trace_id,
        details={
            **outcome.model_dump(mode="json", exclude={"delivery"}),
            "delivery_outcome": delivery.outcome,
            "finished_at": genesys_timestamp(now),
        },
    )
    return outcome
