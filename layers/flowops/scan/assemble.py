"""Step 4: assemble the lockfile from the page results, store it, analyse the graph.

The lock is written under `locks/<org>/<sha256>.json` as its canonical body, so the key,
the bytes and the S3 SHA-256 checksum all name the same digest: storage verifies the lock
and a second scan of the same org state writes byte-identical content (an idempotent no-op).
How the lock came about (scan id, time, API calls) is not org state and lives beside it in
the scan's own artifacts (`lock-meta.json`).

Objects are derived from what flows consume: a consumed flow that the org does not list is
`missing` (`not_visible` when the page step's GET of it answered 403: another division's);
dependency tracking's `deleted` flag marks deleted objects; a consumed flow's
version is the version the org publishes now, a data action's the version the integrations
listing shows now (both are what stale-snapshot detection compares with).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from flowops.flowtypes import SCANNED_RESOURCE_TYPES, is_flow_object_type
from flowops.lock.canonical import canonical_bytes, lock_sha256
from flowops.lock.diff import diff_locks
from flowops.lock.models import FailedObject, LockedFlow, LockedObject, Lockfile, LockMeta
from flowops.scan.errors import PageResultMissingError
from flowops.scan.keys import report_graph_key as report_graph_key_of
from flowops.scan.models import (
    BuildLockRequest,
    DataActionVersions,
    FailedObjects,
    IndexCheckResult,
    LockSummary,
    ObservedObject,
    PageFlows,
    StoredDrift,
)
from flowops.scan.pages import read_lock
from flowops.scan.ports import ArtifactWriter
from flowops.store.artifacts import DEFAULT_MAX_READ_BYTES, lock_key, scan_artifact_key
from flowops.store.compression import GZIP_CONTENT_TYPE, gzip_bytes, inflate_if_gzip

JSON = "application/json"
# A compressed artifact is refused if it inflates past what any step would read uncompressed.
MAX_INFLATED_BYTES = DEFAULT_MAX_READ_BYTES
DATA_ACTION = "DATAACTION"


def assemble_lock(
    org: str,
    pages: Iterable[PageFlows],
    *,
    index: IndexCheckResult | None = None,
    meta: LockMeta | None = None,
    data_action_versions: DataActionVersions | None = None,
    failed_objects: FailedObjects | None = None,
) -> Lockfile:
    """Merge page results into one canonical lock (pure; no I/O).

    `data_action_versions` gives DATAACTION objects their current version, against which the
    graph judges each consumer's snapshot; a data action it does not list keeps no version.
    `failed_objects` (every one, from S3) takes precedence over the index result's first 50.
    A list of pages is merged in page order; any other iterable is taken in the order it
    yields (BuildLock yields pages one at a time, in order, so only one is held at once).
    """
    current_action_versions = data_action_versions.versions if data_action_versions else {}
    flows_by_id: dict[str, LockedFlow] = {}
    observed: dict[tuple[str, str], ObservedObject] = {}
    ordered = sorted(pages, key=lambda item: item.page_number) if isinstance(pages, list) else pages
    for page in ordered:
        for raw in page.flows:
            flow = LockedFlow.model_validate(raw)
            # Offset paging can show a flow on two pages when the org changes mid-scan; the
            # later read is the newer truth.
            flows_by_id[flow.id] = flow
        for item in page.objects:
            seen = observed.get((item.type, item.id))
            if seen is None or (item.deleted and not seen.deleted):
                if seen is not None and seen.not_visible:
                    item = item.model_copy(update={"not_visible": True})
                observed[(item.type, item.id)] = item
            elif item.not_visible and not seen.not_visible:
                # One page's direct read saw the 403 (another's may have hit its bound).
                observed[(item.type, item.id)] = seen.model_copy(update={"not_visible": True})

    objects: list[LockedObject] = []
    for (object_type, object_id), item in observed.items():
        consumed_flow = flows_by_id.get(object_id) if is_flow_object_type(object_type) else None
        if consumed_flow is not None:
            objects.append(
                LockedObject(
                    id=object_id,
                    name=consumed_flow.name or item.name,
                    type=object_type,
                    version=consumed_flow.published_version,
                    deleted=item.deleted,
                )
            )
        else:
            objects.append(
                LockedObject(
                    id=object_id,
                    name=item.name,
                    type=object_type,
                    version=(current_action_versions.get(object_id) if object_type == DATA_ACTION else None),
                    deleted=item.deleted,
                    # A flow reference the org does not list (and that dependency tracking does
                    # not call deleted) points at nothing, unless its GET answered 403: then it
                    # is in a division this OAuth client cannot see.
                    missing=is_flow_object_type(object_type) and not item.deleted and not item.not_visible,
                    not_visible=True if item.not_visible and not item.deleted else None,
                )
            )

    failed = [
        FailedObject(id=item.id, version=item.version, name=item.name, error_code=item.error_code)
        for item in (
            failed_objects.objects if failed_objects is not None else (index.failed_objects if index else [])
        )
        if item.id
    ]
    return Lockfile(
        org=org, flows=list(flows_by_id.values()), objects=objects, failed_objects=failed, meta=meta
    )


def build_lock(
    artifacts: ArtifactWriter, request: BuildLockRequest, *, org: str, now: datetime
) -> LockSummary:
    """Read every page result, write the lock, its analysis and graph exports; return counts."""
    expected = set(range(1, request.plan.page_count + 1))
    present = {page.page_number for page in request.pages}
    if present != expected:
        missing_pages = sorted(expected - present)
        raise PageResultMissingError(
            f"page results missing for pages {missing_pages[:20]} of {len(expected)}"
        )

    api_calls = request.plan.api_calls + sum(page.api_calls for page in request.pages)
    reused = sum(page.reused for page in request.pages)
    read = sum(page.read for page in request.pages)
    # Pages are read one at a time while the lock is assembled: at 100k nodes every page
    # document held at once costs as much memory as the lock itself.
    unread = 0
    unknown_types: set[str] = set()

    def stored_pages() -> Iterator[PageFlows]:
        nonlocal unread
        for entry in sorted(request.pages, key=lambda item: item.page_number):
            body = inflate_if_gzip(artifacts.get_bytes(entry.key), MAX_INFLATED_BYTES, entry.key)
            page = PageFlows.model_validate_json(body)
            unread += page.unread
            unknown_types.update(page.unknown_object_types)
            yield page

    versions = None
    if request.plan.data_action_versions_key:
        versions = DataActionVersions.model_validate(
            json.loads(artifacts.get_bytes(request.plan.data_action_versions_key))
        )
    failed = None
    if request.plan.failed_objects_key:
        failed = FailedObjects.model_validate(
            json.loads(artifacts.get_bytes(request.plan.failed_objects_key))
        )
    lock = assemble_lock(
        org, stored_pages(), index=request.index, data_action_versions=versions, failed_objects=failed
    )
    meta = LockMeta(
        generated_at=now,
        scan_id=request.scan.scan_id,
        api_calls=api_calls,
        index_status=request.index.status if request.index else None,
        reused_flows=reused,
        previous_sha256=request.plan.previous_lock_sha,
        read_flows=read,
        unread_flows=unread,
        listing_stable=request.plan.listing_stable,
        resource_types=None
        if request.scan.request.include_platform_vocabulary
        else list(SCANNED_RESOURCE_TYPES),
    )
    lock = lock.model_copy(update={"meta": meta})
    sha = lock_sha256(lock)
    key = lock_key(org, sha)
    artifacts.put_immutable(key, canonical_bytes(lock), JSON)

    scan_id = request.scan.scan_id
    artifacts.put_json(
        scan_artifact_key(org, scan_id, "lock-meta.json"), {"sha256": sha, **meta.model_dump(mode="json")}
    )
    unknown = sorted(unknown_types)
    drift_key = store_drift(artifacts, lock, request.plan.previous_lock_sha, org=org, scan_id=scan_id)
    analysis = analyze_and_export(
        artifacts, lock, org=org, scan_id=scan_id, exports=request.scan.request.graph_exports
    )
    return LockSummary(
        lock_sha256=sha,
        lock_key=key,
        analysis_key=analysis.key,
        report_graph_key=analysis.report_graph_key,
        drift_key=drift_key,
        exports=analysis.exports,
        flows=analysis.counts["flows"],
        nodes=analysis.counts["nodes"],
        edges=analysis.counts["edges"],
        cycles=analysis.counts["cycles"],
        waves=analysis.counts["waves"],
        missing=analysis.counts["missing"],
        problems=analysis.counts["problems"],
        unknown_object_types=unknown,
        api_calls=api_calls,
        reused_flows=reused,
        read_flows=read,
        unread_flows=unread,
    )


def store_drift(
    artifacts: ArtifactWriter, lock: Lockfile, previous_sha: str | None, *, org: str, scan_id: str
) -> str:
    """Diff the new lock against the plan's previous one while it is in memory and store it.

    ReportScan then holds no lock at all (two parsed locks of a 100k-node org are ~450 MB);
    it recomputes only when the pointer step compared with another lock (a lost race).
    """
    from flowops.scan.report import summarize_drift

    diff = None
    if previous_sha is not None:
        baseline = read_lock(artifacts, lock_key(org, previous_sha))
        diff = diff_locks(baseline, lock)
        del baseline
    stored = StoredDrift(
        compared_with_sha=previous_sha, summary=summarize_drift(diff, previous_sha, lock), diff=diff
    )
    key = scan_artifact_key(org, scan_id, "drift.json")
    artifacts.put_json(key, stored.model_dump(mode="json"))
    return key


class StoredAnalysis:
    __slots__ = ("counts", "exports", "key", "report_graph_key")

    def __init__(
        self, key: str, exports: dict[str, str], counts: dict[str, int], report_graph_key: str
    ) -> None:
        self.key = key
        self.exports = exports
        self.counts = counts
        self.report_graph_key = report_graph_key


def analyze_and_export(
    artifacts: ArtifactWriter, lock: Lockfile, *, org: str, scan_id: str, exports: bool = False
) -> StoredAnalysis:
    """Run the graph analysis and store it, with node-link JSON, DOT and Mermaid exports if asked."""
    # networkx costs ~220 ms to import: only the lock step pays for it.
    from flowops.graph import analyze, build_graph, to_dot, to_mermaid, to_node_link_json
    from flowops.report import build_report_graph

    graph = build_graph(lock)
    report = analyze(lock, graph)
    document: dict[str, Any] = report.model_dump(mode="json")
    analysis_key = scan_artifact_key(org, scan_id, "analysis.json")
    artifacts.put_json(analysis_key, document)
    # The report's graph, drawn from the graph built here: ReportScan (half this step's memory)
    # then needs neither networkx nor a second graph of the whole org.
    report_graph_key = report_graph_key_of(org, scan_id)
    report_graph = json.dumps(build_report_graph(graph, report, None).as_payload(), separators=(",", ":"))
    artifacts.put_bytes(report_graph_key, gzip_bytes(report_graph.encode("utf-8")), GZIP_CONTENT_TYPE)
    export_keys: dict[str, str] = {}
    if exports:
        export_keys = {
            "json": scan_artifact_key(org, scan_id, "graph.json"),
            "dot": scan_artifact_key(org, scan_id, "graph.dot"),
            "mermaid": scan_artifact_key(org, scan_id, "graph.mmd"),
        }
        artifacts.put_immutable(export_keys["json"], to_node_link_json(graph).encode("utf-8"), JSON)
        artifacts.put_immutable(
            export_keys["dot"], to_dot(graph, report.cycles).encode("utf-8"), "text/vnd.graphviz"
        )
        artifacts.put_immutable(
            export_keys["mermaid"], to_mermaid(graph, report.cycles).encode("utf-8"), "text/plain"
        )
    counts = {
        "flows": report.counts.flows,
        "nodes": report.counts.nodes,
        "edges": report.counts.edges,
        "cycles": len(report.cycles),
        "waves": len(report.waves),
        "missing": len(report.missing),
        "problems": len(report.problems),
    }
    return StoredAnalysis(analysis_key, export_keys, counts, report_graph_key)
