"""Incremental scans: reuse a flow's recorded dependencies when it has not been republished.

A flow's consumed resources belong to one published version, and a published version never
changes, so the previous lock's record for the same ``(flow id, published version)`` is still
true. Reuse is refused when that record might be incomplete: the previous lock was built while
the dependency index was not operational, the index reported the flow as failed, or the scan
could not read the flow at all (``unread``): such a flow is read again by every scan until it reads.
"""

from __future__ import annotations

from typing import Final

from flowops.lock.models import LockedDependency, Lockfile

OPERATIONAL_INDEX_STATUS: Final = "OPERATIONAL"


def reusable_dependencies(
    previous_lock: Lockfile | None, flow_id: str, published_version: str | None
) -> list[LockedDependency] | None:
    """The previous lock's dependencies of ``flow_id`` when they can be reused, else None.

    None means "read consumed resources from Genesys": there is no previous lock, the flow is
    new, it has no published version, its published version changed, or the previous record
    may be partial (index not operational when it was written, the flow among its failed
    objects, or the flow recorded as unread). Looking a flow up is O(1), so calling this once
    per flow of a large org is cheap.
    """
    if previous_lock is None or published_version is None:
        return None
    if previous_lock.meta is not None and previous_lock.meta.index_status not in (
        None,
        OPERATIONAL_INDEX_STATUS,
    ):
        return None
    previous_flow = previous_lock.flow(flow_id)
    if previous_flow is None or previous_flow.published_version != published_version:
        return None
    if previous_flow.unread is not None:
        return None
    if any(failed.id == flow_id for failed in previous_lock.failed_objects):
        return None
    return list(previous_flow.consumes)
