"""A lock with one flow moved to a new published version (pure; no I/O).

A release (or a rollback, which publishes the snapshot again as a new version) changes one
flow of the org. Rather than rescanning the whole org, the pipeline writes the current lock
with that flow's entry replaced: the new version and what it consumes, as dependency
tracking reports it. Every consumed resource also gets its `LockedObject` record, as the
lock contract asks (docs/architecture/lock-graph.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from flowops.lock.models import LockedDependency, LockedFlow, LockedObject, Lockfile


class ConsumedResource(BaseModel):
    """One consumed-resources record of the new version."""

    model_config = ConfigDict(frozen=True)

    id: str
    type: str
    name: str = ""
    version: str | None = None
    deleted: bool = False


class FlowNotInLockError(KeyError):
    pass


def with_flow_version(
    lock: Lockfile, flow_id: str, version: str, consumed: Iterable[ConsumedResource]
) -> Lockfile:
    """`lock` where flow `flow_id` publishes `version` and consumes exactly `consumed`."""
    current = lock.flow(flow_id)
    if current is None:
        raise FlowNotInLockError(f"flow {flow_id} is not in the lock of {lock.org}")
    resources = list(consumed)
    flow = LockedFlow(
        id=current.id,
        name=current.name,
        type=current.type,
        object_type=current.object_type,
        published_version=version,
        consumes=[
            LockedDependency(id=resource.id, type=resource.type, name=resource.name, version=resource.version)
            for resource in resources
        ],
    )
    objects = {obj.key: obj for obj in lock.objects}
    for resource in resources:
        key = (resource.type, resource.id)
        known = objects.get(key)
        objects[key] = LockedObject(
            id=resource.id,
            name=resource.name or (known.name if known else ""),
            type=resource.type,
            version=resource.version if resource.version is not None else (known.version if known else None),
            deleted=resource.deleted,
            missing=False,
        )
    # The flow's own object record (other flows consume it) follows its new published version.
    own_key = (current.object_type, current.id)
    if own_key in objects:
        objects[own_key] = objects[own_key].model_copy(update={"version": version})
    flows = [flow if existing.id == flow_id else existing for existing in lock.flows]
    return Lockfile(
        schema_version=lock.schema_version,
        org=lock.org,
        flows=flows,
        objects=list(objects.values()),
        failed_objects=list(lock.failed_objects),
        meta=None,
    )
