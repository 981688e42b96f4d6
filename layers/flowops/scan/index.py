"""Step 1: is the dependency index complete enough to scan?

While the index is building its answers can be partial, and a scan built from them would
silently miss edges. So this step never proceeds on a building index: it tells the state
machine how long to wait before the next check (capped exponential backoff), and declares the
deadline exceeded when the index stays unusable for too long, listing the `failedObjects` the
platform reports.

OPERATIONALNEEDSREBUILD is usable: the index answers with what it has. A scan proceeds on it and
says so (the lock's meta records the status, the message names it); it rebuilds only when the
request asks (`rebuild_index`), because a rebuild is org-wide — every scan and every other
integration then gets partial answers until it completes — which a scheduled scan must not
cause on its own. NOTBUILT has nothing to answer with: the scan starts a rebuild and waits.

Elapsed time is the larger of wall time since the scan started and the sum of the waits
the loop has asked for: both agree in the cloud, and locally (where Wait states are
recorded, not slept) the sum still moves the loop towards its deadline.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flowops.scan.models import (
    INDEX_NEEDS_REBUILD,
    INDEX_NOT_BUILT,
    INDEX_OPERATIONAL,
    REPORTED_FAILED_OBJECTS_LIMIT,
    FailedObject,
    IndexCheckResult,
    IndexPollPolicy,
    IndexProgress,
    ScanContext,
)
from flowops.scan.ports import ScanSource


def check_dependency_index(
    source: ScanSource,
    scan: ScanContext,
    progress: IndexProgress,
    *,
    now: datetime,
    policy: IndexPollPolicy | None = None,
) -> IndexCheckResult:
    """Read the index status once and decide: proceed, wait N seconds, or give up."""
    policy = policy or IndexPollPolicy(deadline_seconds=scan.request.index_deadline_seconds)
    build = source.dependency_build_status()
    status = str(build.get("status") or "UNKNOWN")
    failed = _failed_objects(build)
    attempt = progress.attempt + 1
    common: dict[str, Any] = {
        "status": status,
        "attempt": attempt,
        "date_started": _optional_str(build.get("dateStarted")),
        "date_completed": _optional_str(build.get("dateCompleted")),
        "failed_objects": failed[:REPORTED_FAILED_OBJECTS_LIMIT],
        "failed_objects_total": len(failed),
    }

    usable_as_is = status == INDEX_NEEDS_REBUILD and not scan.request.rebuild_index
    if status == INDEX_OPERATIONAL or usable_as_is:
        note = (
            " (needs a rebuild: answers may be stale; scanning with what it has — "
            "run a scan with rebuild_index to rebuild it)"
            if usable_as_is
            else ""
        )
        return IndexCheckResult(
            **common,
            operational=True,
            deadline_exceeded=False,
            wait_seconds=0,
            waited_seconds=progress.waited_seconds,
            rebuild_requested=progress.rebuild_requested,
            message=f"dependency index is {status}{note}{_failed_suffix(failed)}",
        )

    rebuild_requested = progress.rebuild_requested
    if status in (INDEX_NOT_BUILT, INDEX_NEEDS_REBUILD) and not rebuild_requested:
        source.start_dependency_rebuild()
        rebuild_requested = True

    wall_elapsed = max(0.0, (now - scan.started_at).total_seconds())
    elapsed = max(wall_elapsed, float(progress.waited_seconds))
    remaining = policy.deadline_seconds - elapsed
    if remaining <= 0:
        return IndexCheckResult(
            **common,
            operational=False,
            deadline_exceeded=True,
            wait_seconds=0,
            waited_seconds=progress.waited_seconds,
            rebuild_requested=rebuild_requested,
            message=(
                f"dependency index still {status} after {int(elapsed)} s and {attempt} checks "
                f"(deadline {policy.deadline_seconds} s); the scan did not run on a partial index"
                f"{_failed_suffix(failed)}"
            ),
        )

    # Never sleep past the deadline: the last wait is trimmed so the final check happens on time.
    wait_seconds = max(1, min(policy.wait_for(progress.attempt), int(remaining) or 1))
    return IndexCheckResult(
        **common,
        operational=False,
        deadline_exceeded=False,
        wait_seconds=wait_seconds,
        waited_seconds=progress.waited_seconds + wait_seconds,
        rebuild_requested=rebuild_requested,
        message=(
            f"dependency index is {status}"
            f"{' (rebuild requested)' if rebuild_requested else ''}; next check in {wait_seconds} s"
        ),
    )


def _failed_objects(build: Mapping[str, Any]) -> list[FailedObject]:
    raw = build.get("failedObjects") or []
    if not isinstance(raw, list):
        return []
    return [FailedObject.model_validate(item) for item in raw if isinstance(item, Mapping)]


def _failed_suffix(failed: list[FailedObject]) -> str:
    if not failed:
        return ""
    shown = ", ".join(f"{item.name or item.id} ({item.error_code or 'unknown error'})" for item in failed[:5])
    more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
    return f"; {len(failed)} objects failed to index: {shown}{more}"


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)
