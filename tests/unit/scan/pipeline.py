"""Runs the scan core steps in order over fakes, the way the state machine chains them."""

from __future__ import annotations

from datetime import UTC, datetime

from flowops.scan.assemble import build_lock
from flowops.scan.models import (
    AdvancePointerRequest,
    BuildLockRequest,
    FlowPagePlan,
    IndexCheckResult,
    ReportRequest,
    ScanContext,
    ScanOutcome,
    ScanRequest,
)
from flowops.scan.pages import plan_flow_pages, read_flow_page
from flowops.scan.pointer import advance_lock_pointer
from flowops.scan.report import report_scan
from tests.unit.scan.fakes import FakeArtifacts, FakeAudit, FakePointers, FakeSource

ORG = "dev"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def plan_scan(
    source: FakeSource,
    pointers: FakePointers,
    *,
    scan_id: str,
    full: bool = False,
    page_size: int = 3,
    artifacts: FakeArtifacts | None = None,
    index: IndexCheckResult | None = None,
) -> tuple[ScanContext, FlowPagePlan]:
    """Plan as ListFlowPages does; with `artifacts` the data actions' versions are stored too."""
    scan = ScanContext(scan_id=scan_id, started_at=NOW, request=ScanRequest(full=full, page_size=page_size))
    return scan, plan_flow_pages(source, pointers, scan, org=ORG, artifacts=artifacts, index=index)


def finish_scan(
    source: FakeSource,
    artifacts: FakeArtifacts,
    pointers: FakePointers,
    scan: ScanContext,
    plan: FlowPagePlan,
    audit: FakeAudit | None = None,
    index: IndexCheckResult | None = None,
) -> ScanOutcome:
    pages = [
        read_flow_page(
            source,
            artifacts,
            plan.page_task(scan, page),
            org=ORG,
        )
        for page in plan.pages
    ]
    lock = build_lock(
        artifacts, BuildLockRequest(scan=scan, plan=plan, pages=pages, index=index), org=ORG, now=NOW
    )
    pointer = advance_lock_pointer(pointers, AdvancePointerRequest(scan=scan, plan=plan, lock=lock), org=ORG)
    return report_scan(
        artifacts, audit, ReportRequest(scan=scan, plan=plan, lock=lock, pointer=pointer), org=ORG, now=NOW
    )


def run_scan(
    source: FakeSource,
    artifacts: FakeArtifacts,
    pointers: FakePointers,
    *,
    scan_id: str,
    full: bool = False,
    page_size: int = 3,
    audit: FakeAudit | None = None,
    index: IndexCheckResult | None = None,
) -> ScanOutcome:
    scan, plan = plan_scan(
        source, pointers, scan_id=scan_id, full=full, page_size=page_size, artifacts=artifacts, index=index
    )
    return finish_scan(source, artifacts, pointers, scan, plan, audit, index)
