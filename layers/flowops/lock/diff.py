"""Differences between two locks of the same org (drift), and applying them.

Flows and objects are matched by id (ids are stable inside one org). A flow present in both
locks can be renamed, re-versioned (new published version), re-typed, and gain or lose
edges. An edge is the whole consumed-dependency record, version included: a flow that now
consumes version 4.0 of a module instead of 3.0 shows one edge removed (3.0) and one added
(4.0). Edges of added or removed flows are not repeated as edge changes: they travel with the
flow record.

The diff is complete: ``apply_diff(a, diff_locks(a, b))`` rebuilds ``b`` exactly (same
canonical bytes). It records both hashes, and :func:`apply_diff` refuses a lock that is not the
diff's base, so a diff can never be replayed onto the wrong lock.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from flowops.lock.canonical import lock_sha256
from flowops.lock.models import FailedObject, LockedDependency, LockedFlow, LockedObject, Lockfile


class DiffBaseMismatchError(ValueError):
    """A diff was applied to a lock other than the one it was computed from, or was altered."""


class _DiffModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FlowVersionChange(_DiffModel):
    flow_id: str
    name: str
    old_version: str | None
    new_version: str | None
    # Who published the new version and when, where the new lock recorded it.
    published_by: str | None = None
    date_published: datetime | None = None


class FlowRename(_DiffModel):
    flow_id: str
    old_name: str
    new_name: str


class FlowTypeChange(_DiffModel):
    flow_id: str
    name: str
    old_type: str
    new_type: str
    old_object_type: str
    new_object_type: str


class EdgeChange(_DiffModel):
    """A consumed-dependency record that appeared on, or disappeared from, a flow."""

    flow_id: str
    flow_name: str
    dependency: LockedDependency


class ObjectChange(_DiffModel):
    """An object present in both locks whose recorded state differs."""

    old: LockedObject
    new: LockedObject

    @property
    def changed_fields(self) -> list[str]:
        return [
            field
            for field in ("name", "version", "deleted", "missing")
            if getattr(self.old, field) != getattr(self.new, field)
        ]

    @property
    def deleted_state_changed(self) -> bool:
        return self.old.deleted != self.new.deleted


class LockDiff(_DiffModel):
    """Everything that changed from the ``from`` lock to the ``to`` lock (lists sorted)."""

    from_sha256: str
    to_sha256: str
    old_org: str
    new_org: str
    old_schema_version: int
    new_schema_version: int
    flows_added: list[LockedFlow] = Field(default_factory=list)
    flows_removed: list[LockedFlow] = Field(default_factory=list)
    flows_reversioned: list[FlowVersionChange] = Field(default_factory=list)
    flows_renamed: list[FlowRename] = Field(default_factory=list)
    flows_retyped: list[FlowTypeChange] = Field(default_factory=list)
    edges_added: list[EdgeChange] = Field(default_factory=list)
    edges_removed: list[EdgeChange] = Field(default_factory=list)
    objects_added: list[LockedObject] = Field(default_factory=list)
    objects_removed: list[LockedObject] = Field(default_factory=list)
    objects_changed: list[ObjectChange] = Field(default_factory=list)
    failed_objects_added: list[FailedObject] = Field(default_factory=list)
    failed_objects_removed: list[FailedObject] = Field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.from_sha256 == self.to_sha256

    @property
    def objects_deleted_state_changed(self) -> list[ObjectChange]:
        return [change for change in self.objects_changed if change.deleted_state_changed]

    def changed_flow_ids(self) -> list[str]:
        """Ids of every flow the diff touches (added, removed, re-versioned, renamed, re-typed
        or with changed edges), sorted."""
        ids = {flow.id for flow in self.flows_added}
        ids |= {flow.id for flow in self.flows_removed}
        ids |= {change.flow_id for change in self.flows_reversioned}
        ids |= {change.flow_id for change in self.flows_renamed}
        ids |= {change.flow_id for change in self.flows_retyped}
        ids |= {change.flow_id for change in self.edges_added}
        ids |= {change.flow_id for change in self.edges_removed}
        return sorted(ids)


def _edge_sort_key(change: EdgeChange) -> tuple[str, str, str, str]:
    dependency = change.dependency
    return (change.flow_id, dependency.type, dependency.id, dependency.version or "")


def diff_locks(old: Lockfile, new: Lockfile) -> LockDiff:
    """What changed from ``old`` to ``new`` (both of one org; ``meta`` is ignored)."""
    old_flows = {flow.id: flow for flow in old.flows}
    new_flows = {flow.id: flow for flow in new.flows}
    reversioned: list[FlowVersionChange] = []
    renamed: list[FlowRename] = []
    retyped: list[FlowTypeChange] = []
    edges_added: list[EdgeChange] = []
    edges_removed: list[EdgeChange] = []
    for flow_id in sorted(old_flows.keys() & new_flows.keys()):
        before, after = old_flows[flow_id], new_flows[flow_id]
        if before.published_version != after.published_version:
            reversioned.append(
                FlowVersionChange(
                    flow_id=flow_id,
                    name=after.name,
                    old_version=before.published_version,
                    new_version=after.published_version,
                    published_by=after.published_by,
                    date_published=after.date_published,
                )
            )
        if before.name != after.name:
            renamed.append(FlowRename(flow_id=flow_id, old_name=before.name, new_name=after.name))
        if (before.type, before.object_type) != (after.type, after.object_type):
            retyped.append(
                FlowTypeChange(
                    flow_id=flow_id,
                    name=after.name,
                    old_type=before.type,
                    new_type=after.type,
                    old_object_type=before.object_type,
                    new_object_type=after.object_type,
                )
            )
        before_edges, after_edges = set(before.consumes), set(after.consumes)
        edges_added += [
            EdgeChange(flow_id=flow_id, flow_name=after.name, dependency=d)
            for d in after_edges - before_edges
        ]
        edges_removed += [
            EdgeChange(flow_id=flow_id, flow_name=before.name, dependency=d)
            for d in before_edges - after_edges
        ]

    old_objects = {locked.key: locked for locked in old.objects}
    new_objects = {locked.key: locked for locked in new.objects}
    objects_changed = [
        ObjectChange(old=old_objects[key], new=new_objects[key])
        for key in sorted(old_objects.keys() & new_objects.keys())
        if old_objects[key] != new_objects[key]
    ]
    old_failed, new_failed = set(old.failed_objects), set(new.failed_objects)

    return LockDiff(
        from_sha256=lock_sha256(old),
        to_sha256=lock_sha256(new),
        old_org=old.org,
        new_org=new.org,
        old_schema_version=old.schema_version,
        new_schema_version=new.schema_version,
        flows_added=[new_flows[flow_id] for flow_id in sorted(new_flows.keys() - old_flows.keys())],
        flows_removed=[old_flows[flow_id] for flow_id in sorted(old_flows.keys() - new_flows.keys())],
        flows_reversioned=reversioned,
        flows_renamed=renamed,
        flows_retyped=retyped,
        edges_added=sorted(edges_added, key=_edge_sort_key),
        edges_removed=sorted(edges_removed, key=_edge_sort_key),
        objects_added=[new_objects[key] for key in sorted(new_objects.keys() - old_objects.keys())],
        objects_removed=[old_objects[key] for key in sorted(old_objects.keys() - new_objects.keys())],
        objects_changed=objects_changed,
        failed_objects_added=sorted(new_failed - old_failed, key=lambda f: (f.id, f.version or "")),
        failed_objects_removed=sorted(old_failed - new_failed, key=lambda f: (f.id, f.version or "")),
    )


def apply_diff(old: Lockfile, diff: LockDiff) -> Lockfile:
    """Replay ``diff`` onto ``old``: ``apply_diff(a, diff_locks(a, b))`` equals ``b``.

    Raises :class:`DiffBaseMismatchError` when ``old`` is not the lock the diff starts from.
    The result carries no ``meta`` (meta is not part of a diff).
    """
    base_sha256 = lock_sha256(old)
    if base_sha256 != diff.from_sha256:
        raise DiffBaseMismatchError(
            f"diff was computed from lock {diff.from_sha256} but is being applied to lock {base_sha256}"
        )
    flows = {flow.id: flow for flow in old.flows}
    for flow in diff.flows_removed:
        flows.pop(flow.id, None)
    for flow in diff.flows_added:
        flows[flow.id] = flow

    consumes = {flow_id: set(flow.consumes) for flow_id, flow in flows.items()}
    for edge in diff.edges_removed:
        consumes[edge.flow_id].discard(edge.dependency)
    for edge in diff.edges_added:
        consumes[edge.flow_id].add(edge.dependency)
    updates: dict[str, dict[str, object]] = {flow_id: {} for flow_id in flows}
    for version_change in diff.flows_reversioned:
        updates[version_change.flow_id]["published_version"] = version_change.new_version
    for rename in diff.flows_renamed:
        updates[rename.flow_id]["name"] = rename.new_name
    for type_change in diff.flows_retyped:
        updates[type_change.flow_id]["type"] = type_change.new_type
        updates[type_change.flow_id]["object_type"] = type_change.new_object_type

    new_flows = [
        LockedFlow.model_validate(
            {**flow.model_dump(exclude={"consumes"}), **updates[flow_id], "consumes": list(consumes[flow_id])}
        )
        for flow_id, flow in flows.items()
    ]

    objects = {locked.key: locked for locked in old.objects}
    for locked in diff.objects_removed:
        objects.pop(locked.key, None)
    for locked in diff.objects_added:
        objects[locked.key] = locked
    for change in diff.objects_changed:
        objects[change.new.key] = change.new

    failed = set(old.failed_objects) - set(diff.failed_objects_removed) | set(diff.failed_objects_added)

    result = Lockfile(
        schema_version=diff.new_schema_version,
        org=diff.new_org,
        flows=new_flows,
        objects=list(objects.values()),
        failed_objects=list(failed),
    )
    result_sha256 = lock_sha256(result)
    if result_sha256 != diff.to_sha256:
        # Only an edited or truncated diff gets here: refuse to hand out a lock that is
        # neither the base nor the target.
        raise DiffBaseMismatchError(
            f"applying the diff produced lock {result_sha256}, not the diff's target {diff.to_sha256}: "
            "the diff was altered after it was computed"
        )
    return result
