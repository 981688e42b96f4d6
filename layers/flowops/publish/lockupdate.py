"""A lock with some flows moved to new published versions (pure; no I/O).

A publish (or a rollback, which publishes the snapshot again as a new version) changes one
flow of the org; a release changes many at once. Rather than rescanning the whole org, the
pipeline writes the current lock with those flows' entries replaced: the new version and what
it consumes, as dependency tracking reports it. Every consumed resource also gets its
`LockedObject` record, as the lock contract asks (docs/architecture/lock-graph.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from flowops.lock.models import LockedDependency, LockedFlow, LockedObject, Lockfile


class ConsumedResource(BaseModel):
    """One consumed-resources record of the new version."""

    model_config = ConfigDict(frozen=True)

    id: str
    type: str
    name: str = ""
    version: str | None = None
    deleted: bool = False


class FlowChange(BaseModel):
    """One flow a release changed: its new published version and what that consumes, or gone."""

    model_config = ConfigDict(frozen=True)

    flow_id: str
    name: str
    type: str
    version: str | None
    """None: the flow was deleted (a rollback removed a flow the release created)."""
    consumed: list[ConsumedResource] = Field(default_factory=list)


class FlowNotInLockError(KeyError):
    pass


def with_flow_version(
    lock: Lockfile, flow_id: str, version: str, consumed: Iterable[ConsumedResource]
) -> Lockfile:
    """`lock` where flow `flow_id` publishes `version` and consumes exactly `consumed`."""
    current = lock.flow(flow_id)
    if current is None:
        raise FlowNotInLockError(f"flow {flow_id} is not in the lock of {lock.org}")
    change = FlowChange(
        flow_id=flow_id, name=current.name, type=current.type, version=version, consumed=list(consumed)
    )
    return with_flow_changes(lock, [change])


def with_flow_changes(lock: Lockfile, changes: Iterable[FlowChange]) -> Lockfile:
    """`lock` with every change applied: a flow the lock knows keeps its name and type and takes
    the new version and consumed resources; a flow it does not know (created) is added; a deleted
    flow leaves the flows and its object record says deleted."""
    flows = {flow.id: flow for flow in lock.flows}
    objects = {obj.key: obj for obj in lock.objects}
    for change in changes:
        current = flows.get(change.flow_id)
        if change.version is None:
            if current is not None:
                del flows[change.flow_id]
                own = (current.object_type, current.id)
                if own in objects:
                    objects[own] = objects[own].model_copy(update={"deleted": True, "version": None})
            continue
        flow = LockedFlow(
            id=change.flow_id,
            name=current.name if current else change.name,
            type=current.type if current else change.type,
            object_type=current.object_type if current else "",
            published_version=change.version,
            consumes=[
                LockedDependency(id=dep.id, type=dep.type, name=dep.name, version=dep.version)
                for dep in change.consumed
            ],
        )
        flows[change.flow_id] = flow
        for resource in change.consumed:
            key = (resource.type, resource.id)
            known = objects.get(key)
            objects[key] = LockedObject(
                id=resource.id,
                name=resource.name or (known.name if known else ""),
                type=resource.type,
                version=resource.version
                if resource.version is not None
                else (known.version if known else None),
                deleted=resource.deleted,
                missing=False,
            )
        # The flow's own object record (other flows consume it) follows its new published version.
        own_key = (flow.object_type, flow.id)
        if own_key in objects:
            objects[own_key] = objects[own_key].model_copy(update={"version": change.version})
    return Lockfile(
        schema_version=lock.schema_version,
        org=lock.org,
        flows=list(flows.values()),
        objects=list(objects.values()),
        failed_objects=list(lock.failed_objects),
        meta=None,
    )
