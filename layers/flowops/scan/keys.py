"""Names of the per-scan artifacts the scan steps write, under `flowops.store.scan_artifact_key`
(the one place key formats and their safety checks live)."""

from __future__ import annotations

from flowops.store.artifacts import scan_artifact_key


def page_key(org: str, scan_id: str, page_number: int) -> str:
    """One page's result, gzip-compressed (about a tenth of its JSON; BuildLock inflates it)."""
    return scan_artifact_key(org, scan_id, f"pages/{page_number:05d}.json.gz")


def report_graph_key(org: str, scan_id: str) -> str:
    """The report's graph (gzip-compressed), drawn by BuildLock for ReportScan."""
    return scan_artifact_key(org, scan_id, "report-graph.json.gz")


def data_action_versions_key(org: str, scan_id: str) -> str:
    """The data actions' current versions, read once while planning."""
    return scan_artifact_key(org, scan_id, "data-action-versions.json")


def failed_objects_key(org: str, scan_id: str) -> str:
    """Every object the dependency index reports as failed (the state carries at most 50)."""
    return scan_artifact_key(org, scan_id, "failed-objects.json")


def listing_key(org: str, scan_id: str, page_number: int) -> str:
    """One page's slice of the flow listing the plan took."""
    return scan_artifact_key(org, scan_id, f"listing/{page_number:05d}.json")


def listed_flow_ids_key(org: str, scan_id: str) -> str:
    """The ids of every flow the plan's listing shows (page steps tell missing from hidden)."""
    return scan_artifact_key(org, scan_id, "listed-flow-ids.json")
