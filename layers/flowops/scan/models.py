"""Data that travels between the scan steps.

Everything here is small on purpose: Step Functions state is limited to 256 KB, so lists
that grow with the org (flows, dependencies, waves) are written to S3 by the steps and only
their keys and counts travel in state. A 20,000-flow org produces a plan of at most a few
hundred page descriptors of ~60 bytes each.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flowops.lock import LockDiff
from flowops.scan.shape import (
    INDEX_POLL_BASE_SECONDS,
    INDEX_POLL_CAP_SECONDS,
    index_poll_wait,
)
from flowops.scan.shape import MAX_INDEX_DEADLINE_SECONDS as MAX_INDEX_DEADLINE_SECONDS
from flowops.scan.shape import MAX_SCAN_PAGES as MAX_SCAN_PAGES

# Dependency-index statuses as the platform reports them (genesys-api.md). OPERATIONAL gives
# complete answers. OPERATIONALNEEDSREBUILD still answers (what the index has, maybe stale): a
# scan uses it and says so, and rebuilds only when asked (`ScanRequest.rebuild_index`), because
# a rebuild is org-wide and makes every answer partial until it completes. NOTBUILT has nothing
# to answer with: the scan starts a rebuild and waits.
INDEX_OPERATIONAL = "OPERATIONAL"
INDEX_NEEDS_REBUILD = "OPERATIONALNEEDSREBUILD"
INDEX_NOT_BUILT = "NOTBUILT"
INDEX_STATUSES_NEEDING_REBUILD = frozenset({INDEX_NOT_BUILT, INDEX_NEEDS_REBUILD})

MAX_FLOWS_PAGE_SIZE = 500  # the largest pageSize GET /api/v2/flows accepts
REPORTED_FAILED_OBJECTS_LIMIT = 50  # failedObjects kept in state; the rest are counted


class ScanRequest(BaseModel):
    """The execution input. Every field is optional so a bare schedule event starts a scan."""

    model_config = ConfigDict(extra="ignore")

    full: bool = Field(default=False, description="re-read every flow instead of reusing the lock")
    page_size: int = Field(default=200, ge=1, le=MAX_FLOWS_PAGE_SIZE)
    index_deadline_seconds: int = Field(default=1800, ge=0, le=MAX_INDEX_DEADLINE_SECONDS)
    trigger: str = "manual"
    rebuild_index: bool = Field(
        default=False,
        description="rebuild an OPERATIONALNEEDSREBUILD index before scanning (org-wide; off for schedules)",
    )
    include_platform_vocabulary: bool = Field(
        default=False,
        description="keep FLOWACTION, FLOWDATATYPE, ... in the lock (the pre-filter behaviour; benchmarks)",
    )
    graph_exports: bool = Field(
        default=False,
        description="also store DOT, Mermaid and node-link JSON exports of the graph (tens of MB for a "
        "20,000-flow org, every scan); otherwise `flowops graph export` makes them from the lock on demand",
    )


class ScanContext(BaseModel):
    """Identity of one scan run, set once by the first state from the execution context."""

    scan_id: str = Field(min_length=1)
    started_at: datetime
    request: ScanRequest = Field(default_factory=ScanRequest)

    @field_validator("started_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        # Step Functions gives "...Z"; naive values are read as UTC so arithmetic never fails.
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class FailedObject(BaseModel):
    """An object the dependency index could not process (`failedObjects` of the build)."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    version: str | None = None
    name: str | None = None
    error_code: str | None = Field(default=None, alias="errorCode")


class IndexProgress(BaseModel):
    """What the poll loop carries from one dependency-index check to the next."""

    attempt: int = Field(default=0, ge=0)
    waited_seconds: int = Field(default=0, ge=0)
    rebuild_requested: bool = False


class IndexCheckRequest(BaseModel):
    """Input of the dependency-index check: the scan and the loop's progress so far."""

    scan: ScanContext
    index: IndexProgress = Field(default_factory=IndexProgress)


class IndexPollPolicy(BaseModel):
    """Capped exponential backoff between checks of a rebuilding index, and the deadline."""

    base_seconds: int = Field(default=INDEX_POLL_BASE_SECONDS, ge=1)
    cap_seconds: int = Field(default=INDEX_POLL_CAP_SECONDS, ge=1)
    deadline_seconds: int = Field(default=1800, ge=0)

    def wait_for(self, attempt: int) -> int:
        """Seconds to wait after the `attempt`-th check (0-based): 5, 10, 20, ... capped."""
        return index_poll_wait(attempt, self.base_seconds, self.cap_seconds)


class IndexCheckResult(IndexProgress):
    """The answer of one check; its progress fields feed the next check of the loop."""

    status: str
    operational: bool
    deadline_exceeded: bool
    wait_seconds: int = Field(ge=0)
    message: str
    date_started: str | None = None
    date_completed: str | None = None
    failed_objects: list[FailedObject] = Field(default_factory=list)
    failed_objects_total: int = 0


class PlanRequest(BaseModel):
    """Input of the planning step; `index` (the last check) carries the failed objects."""

    scan: ScanContext
    index: IndexCheckResult | None = None


class PageDescriptor(BaseModel):
    page_number: int = Field(ge=1)
    listing_key: str | None = Field(
        default=None, description="S3 key of this page's flows from the plan's listing (None: list the page)"
    )


class PageTask(BaseModel):
    """One Map item: which page of flows to read, and the lock to reuse dependencies from."""

    scan: ScanContext
    page_number: int = Field(ge=1)
    page_size: int = Field(ge=1, le=MAX_FLOWS_PAGE_SIZE)
    previous_lock_key: str | None = None
    failed_objects_key: str | None = Field(
        default=None, description="S3 key of the FailedObjects the index reports (None: there are none)"
    )
    listing_key: str | None = Field(
        default=None, description="S3 key of this page's flows from the plan's listing (None: list the page)"
    )


class FlowPagePlan(BaseModel):
    page_size: int
    page_count: int
    total_flows: int
    pages: list[PageDescriptor]
    previous_lock_sha: str | None = None
    previous_lock_key: str | None = None
    failed_objects_key: str | None = None
    listing_passes: int = Field(default=0, ge=0, description="passes over GET /api/v2/flows (0: not listed)")
    listing_stable: bool = Field(
        default=True, description="False: the org kept changing; the listing is the union of the passes"
    )
    api_calls: int = 0
    data_action_versions_key: str | None = Field(
        default=None,
        description="S3 key of the DataActionVersions read while planning (None: not read)",
    )

    def page_task(self, scan: ScanContext, page: PageDescriptor) -> PageTask:
        """The page Map's item for one planned page, as the scan machine's ItemSelector builds it
        (infra/constructs/scan_workflow.py)."""
        return PageTask(
            scan=scan,
            page_number=page.page_number,
            page_size=self.page_size,
            previous_lock_key=self.previous_lock_key,
            failed_objects_key=self.failed_objects_key,
            listing_key=page.listing_key,
        )


class FailedObjects(BaseModel):
    """Every `failedObjects` entry of the build status, stored in S3 for the page steps."""

    objects: list[FailedObject] = Field(default_factory=list)


class DataActionVersions(BaseModel):
    """The current `version` of every data action, read once per scan (stored in S3, not state).

    Stale-snapshot detection compares it with the version each flow consumed; an org can have
    thousands of data actions, which is why only the key travels in the plan.
    """

    versions: dict[str, str] = Field(default_factory=dict, description="data action id -> version")


class ObservedObject(BaseModel):
    """An object seen as a consumed resource; the lock's object list is built from these."""

    id: str
    name: str = ""
    type: str
    version: str | None = None
    deleted: bool = False
    state_unknown: bool = False
    # A consumed flow the listing does not show whose GET answers 403: another division's.
    not_visible: bool = False


class PageFlows(BaseModel):
    """The full result of one page, stored in S3 (never in state)."""

    page_number: int
    flows: list[dict[str, Any]] = Field(description="LockedFlow documents, JSON mode")
    objects: list[ObservedObject]
    unknown_object_types: list[str] = Field(default_factory=list)
    reused: int = 0
    read: int = 0
    unread: int = 0
    api_calls: int = 0


class PageResult(BaseModel):
    """What one page step returns into state: the S3 key and counts."""

    page_number: int
    key: str
    flows: int
    reused: int
    read: int
    api_calls: int
    unread: int = 0


class BuildLockRequest(BaseModel):
    scan: ScanContext
    plan: FlowPagePlan
    pages: list[PageResult]
    index: IndexCheckResult | None = None


class LockSummary(BaseModel):
    lock_sha256: str
    lock_key: str
    analysis_key: str
    report_graph_key: str | None = Field(
        default=None,
        description="the report's compact graph (scans/<org>/<id>/report-graph.json), so ReportScan "
        "builds no graph; None from an execution started before it existed",
    )
    drift_key: str | None = Field(
        default=None,
        description="the drift against the plan's previous lock, computed while the new lock was in "
        "memory (scans/<org>/<id>/drift.json); ReportScan uses it when the pointer compared with that lock",
    )
    exports: dict[str, str]
    flows: int
    nodes: int
    edges: int
    cycles: int
    waves: int
    missing: int
    problems: int
    unknown_object_types: list[str] = Field(default_factory=list)
    api_calls: int
    reused_flows: int
    read_flows: int
    unread_flows: int = 0


class AdvancePointerRequest(BaseModel):
    scan: ScanContext
    plan: FlowPagePlan
    lock: LockSummary


class PointerOutcome(BaseModel):
    """How the current-lock pointer moved. `race` means another scan advanced it first."""

    advanced: bool
    unchanged: bool
    race: bool
    current_sha: str
    compared_with_sha: str | None = Field(
        description="the lock the drift report compares against (the previous one, or the winner)"
    )
    message: str


class ReportRequest(BaseModel):
    scan: ScanContext
    plan: FlowPagePlan
    lock: LockSummary
    pointer: PointerOutcome


DRIFT_IDS_IN_STATE_LIMIT = 100  # the full diff is in the report artifact


class DriftSummary(BaseModel):
    """Counts of the drift against the compared lock, and (up to a limit) the changed flows."""

    compared_with_sha: str | None = None
    flows_added: int = 0
    flows_removed: int = 0
    flows_reversioned: int = 0
    edges_added: int = 0
    edges_removed: int = 0
    objects_changed: int = 0
    changed_flow_ids: list[str] = Field(default_factory=list)
    changed_flow_ids_truncated: bool = False


class ScanOutcome(BaseModel):
    """The execution output: small, with the full report in S3 under `report_key`."""

    scan_id: str
    org: str
    lock_sha256: str
    lock_key: str
    report_key: str
    report_html_key: str
    flows: int
    nodes: int
    edges: int
    cycles: int
    missing: int
    problems: int
    api_calls: int
    reused_flows: int
    read_flows: int
    unread_flows: int = 0
    pointer: PointerOutcome
    drift: DriftSummary
    duration_seconds: float


class StoredDrift(BaseModel):
    """The drift BuildLock computes against the plan's previous lock (None: a first scan)."""

    compared_with_sha: str | None
    summary: DriftSummary
    diff: LockDiff | None
