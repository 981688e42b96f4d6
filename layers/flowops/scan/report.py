"""Step 6: report the scan — drift against the compared lock, analysis, HTML report, audit event.

The full report (every cycle, wave, missing id, problem and the complete diff) goes to
`scans/<org>/<scan id>/report.json`; the execution output keeps counts and keys only, so it
stays far below the 256 KB state limit for any org size.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flowops.graph import GraphReport
from flowops.lock import LockDiff, Lockfile, diff_locks
from flowops.report import ReportGraphData, render_scan_report
from flowops.report.releases import ReleaseOutcomes, recent_releases
from flowops.scan.models import (
    DRIFT_IDS_IN_STATE_LIMIT,
    DriftSummary,
    ReportRequest,
    ScanOutcome,
    StoredDrift,
)
from flowops.scan.pages import read_lock
from flowops.scan.ports import ArtifactWriter, AuditSink
from flowops.store.artifacts import DEFAULT_MAX_READ_BYTES, lock_key, scan_artifact_key
from flowops.store.compression import GZIP_ENCODING, gzip_bytes, inflate_if_gzip

REPORT_NAME = "report.json"
HTML_REPORT_NAME = "report.html"
HTML_CONTENT_TYPE = "text/html; charset=utf-8"


def report_scan(
    artifacts: ArtifactWriter,
    audit: AuditSink | None,
    request: ReportRequest,
    *,
    org: str,
    now: datetime,
    releases: ReleaseOutcomes | None = None,
) -> ScanOutcome:
    """Diff the new lock against the one it is compared with, store the report, audit it.

    With `releases` (the artifacts store, which can list), the HTML report lists the recent
    releases and links each to the flows it changed."""
    baseline_sha = request.pointer.compared_with_sha
    graph_key = request.lock.report_graph_key
    report_graph = (
        ReportGraphData.model_validate_json(
            inflate_if_gzip(artifacts.get_bytes(graph_key), DEFAULT_MAX_READ_BYTES, graph_key)
        )
        if graph_key
        else None
    )
    stored = (
        StoredDrift.model_validate_json(artifacts.get_bytes(request.lock.drift_key))
        if request.lock.drift_key
        else None
    )
    lock: Lockfile | None = None
    if stored is not None and stored.compared_with_sha == baseline_sha and report_graph is not None:
        # The usual case: BuildLock diffed against the lock the pointer compared with, so this
        # step holds neither lock.
        diff, drift = stored.diff, stored.summary
    else:
        # A lost race (compared with the winner's lock) or an execution from before BuildLock
        # stored the drift: diff here, one lock at a time.
        del stored
        lock = read_lock(artifacts, request.lock.lock_key)
        baseline = read_lock(artifacts, lock_key(org, baseline_sha)) if baseline_sha else None
        diff = diff_locks(baseline, lock) if baseline is not None else None
        del baseline
        drift = summarize_drift(diff, baseline_sha, lock)
    analysis: dict[str, Any] = json.loads(artifacts.get_bytes(request.lock.analysis_key))

    scan = request.scan
    report_key = scan_artifact_key(org, scan.scan_id, REPORT_NAME)
    duration = max(0.0, (now - scan.started_at).total_seconds())
    document = {
        "scan_id": scan.scan_id,
        "org": org,
        "trigger": scan.request.trigger,
        "full": scan.request.full,
        "lock_sha256": request.lock.lock_sha256,
        "lock_key": request.lock.lock_key,
        "exports": request.lock.exports,
        "summary": request.lock.model_dump(mode="json"),
        "analysis": analysis,
        "pointer": request.pointer.model_dump(mode="json"),
        "drift": None if diff is None else diff.model_dump(mode="json"),
        "duration_seconds": duration,
    }
    artifacts.put_json(report_key, document)
    # The page people look at: self-contained (no external requests), graph + tables + drift.
    report_html_key = scan_artifact_key(org, scan.scan_id, HTML_REPORT_NAME)
    html = render_scan_report(
        lock,
        GraphReport.model_validate(analysis),
        diff,
        title=f"flowops scan {scan.scan_id} — org {org}",
        generated_at=now,
        report_graph=report_graph,
        releases=recent_releases(releases, org) if releases is not None else None,
    )
    # Stored gzip-encoded (a fifth of its size): a browser opening it from S3 inflates it itself
    # (Content-Encoding), the CLI inflates it when it saves the report.
    artifacts.put_bytes(
        report_html_key, gzip_bytes(html.encode("utf-8")), HTML_CONTENT_TYPE, content_encoding=GZIP_ENCODING
    )

    outcome = ScanOutcome(
        scan_id=scan.scan_id,
        org=org,
        lock_sha256=request.lock.lock_sha256,
        lock_key=request.lock.lock_key,
        report_key=report_key,
        report_html_key=report_html_key,
        flows=request.lock.flows,
        nodes=request.lock.nodes,
        edges=request.lock.edges,
        cycles=request.lock.cycles,
        missing=request.lock.missing,
        problems=request.lock.problems,
        api_calls=request.lock.api_calls,
        reused_flows=request.lock.reused_flows,
        read_flows=request.lock.read_flows,
        unread_flows=request.lock.unread_flows,
        pointer=request.pointer,
        drift=drift,
        duration_seconds=duration,
    )
    if audit is not None:
        audit.append(
            org,
            "scan.completed",
            actor=f"scan:{scan.scan_id}",
            subject=request.lock.lock_sha256,
            details={
                "report_key": report_key,
                "report_html_key": report_html_key,
                "advanced": request.pointer.advanced,
                "race": request.pointer.race,
                "flows": request.lock.flows,
                "cycles": request.lock.cycles,
                "problems": request.lock.problems,
                "api_calls": request.lock.api_calls,
                "unread_flows": request.lock.unread_flows,
                "changed_flows": len(drift.changed_flow_ids),
            },
        )
    return outcome


def summarize_drift(diff: LockDiff | None, baseline_sha: str | None, lock: Lockfile) -> DriftSummary:
    """Counts of a diff; with no baseline every flow counts as added."""
    if diff is None:
        ids = [flow.id for flow in lock.flows]
        return DriftSummary(
            compared_with_sha=None,
            flows_added=len(ids),
            edges_added=sum(len(flow.consumes) for flow in lock.flows),
            changed_flow_ids=ids[:DRIFT_IDS_IN_STATE_LIMIT],
            changed_flow_ids_truncated=len(ids) > DRIFT_IDS_IN_STATE_LIMIT,
        )
    changed = diff.changed_flow_ids()
    return DriftSummary(
        compared_with_sha=baseline_sha,
        flows_added=len(diff.flows_added),
        flows_removed=len(diff.flows_removed),
        flows_reversioned=len(diff.flows_reversioned),
        edges_added=len(diff.edges_added),
        edges_removed=len(diff.edges_removed),
        objects_changed=len(diff.objects_changed) + len(diff.objects_added) + len(diff.objects_removed),
        changed_flow_ids=changed[:DRIFT_IDS_IN_STATE_LIMIT],
        changed_flow_ids_truncated=len(changed) > DRIFT_IDS_IN_STATE_LIMIT,
    )
