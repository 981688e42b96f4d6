"""Comparing the locks of two environments (e.g. a dev org and a prod org).

Ids differ between orgs, so flows are matched by ``(object type, name)`` and objects by
``(type, name)`` (Genesys keeps names unique per type). A name used twice on one side cannot be
matched safely; such names are reported as ambiguous and left out of the comparison. Objects
without a name cannot be matched either and count as present on one side only.

A consumed dependency is named by its own ``name``, else by the flow or object with its id in
the same lock; edges of matched flows are compared as ``(dependency type, dependency name)``
sets, and where both sides consume the same dependency, by version.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from flowops.lock.models import LockedDependency, LockedFlow, LockedObject, Lockfile
from flowops.lock.versions import version_key

Side = Literal["source", "target"]
NameKey = tuple[str, str]


class _EnvironmentModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NamedRef(_EnvironmentModel):
    """A flow or object of one environment: matched by type and name, shown with its id."""

    type: str
    name: str
    id: str


class AmbiguousName(_EnvironmentModel):
    side: Side
    kind: Literal["flow", "object"]
    type: str
    name: str
    ids: list[str]


class FlowVersionDifference(_EnvironmentModel):
    type: str
    name: str
    source_id: str
    target_id: str
    source_version: str | None
    target_version: str | None
    # Who published each side's version and when, where each lock recorded it.
    source_published_by: str | None = None
    source_date_published: datetime | None = None
    target_published_by: str | None = None
    target_date_published: datetime | None = None


class NamedEdge(_EnvironmentModel):
    """``flow_name`` (of ``flow_type``) consumes ``dependency_name`` (of ``dependency_type``)."""

    flow_type: str
    flow_name: str
    dependency_type: str
    dependency_name: str


class EdgeVersionDifference(_EnvironmentModel):
    edge: NamedEdge
    source_version: str | None
    target_version: str | None


class ObjectDifference(_EnvironmentModel):
    type: str
    name: str
    source: LockedObject
    target: LockedObject
    changed_fields: list[str]


class EnvironmentDiff(_EnvironmentModel):
    source_org: str
    target_org: str
    matched_flows: int = 0
    matched_objects: int = 0
    flows_only_in_source: list[NamedRef] = Field(default_factory=list)
    flows_only_in_target: list[NamedRef] = Field(default_factory=list)
    flow_version_differences: list[FlowVersionDifference] = Field(default_factory=list)
    edges_only_in_source: list[NamedEdge] = Field(default_factory=list)
    edges_only_in_target: list[NamedEdge] = Field(default_factory=list)
    edge_version_differences: list[EdgeVersionDifference] = Field(default_factory=list)
    objects_only_in_source: list[NamedRef] = Field(default_factory=list)
    objects_only_in_target: list[NamedRef] = Field(default_factory=list)
    object_differences: list[ObjectDifference] = Field(default_factory=list)
    ambiguous_names: list[AmbiguousName] = Field(default_factory=list)

    @property
    def is_equivalent(self) -> bool:
        """True when nothing differs by name (versions included)."""
        return not any(
            (
                self.flows_only_in_source,
                self.flows_only_in_target,
                self.flow_version_differences,
                self.edges_only_in_source,
                self.edges_only_in_target,
                self.edge_version_differences,
                self.objects_only_in_source,
                self.objects_only_in_target,
                self.object_differences,
                self.ambiguous_names,
            )
        )


def _unnamed(record_id: str) -> str:
    return f"<unnamed:{record_id}>"


def _group_by_name(
    keyed: Iterable[tuple[NameKey, str]], side: Side, kind: Literal["flow", "object"]
) -> tuple[dict[NameKey, str], list[AmbiguousName]]:
    """Map each (type, name) used once to its id; report names used more than once."""
    ids_by_key: dict[NameKey, list[str]] = defaultdict(list)
    for key, record_id in keyed:
        ids_by_key[key].append(record_id)
    unique = {key: ids[0] for key, ids in ids_by_key.items() if len(ids) == 1}
    ambiguous = [
        AmbiguousName(side=side, kind=kind, type=key[0], name=key[1], ids=sorted(ids))
        for key, ids in ids_by_key.items()
        if len(ids) > 1
    ]
    return unique, ambiguous


def _dependency_name(lock: Lockfile, dependency: LockedDependency) -> str:
    if dependency.name:
        return dependency.name
    flow = lock.flow(dependency.id)
    if flow is not None and flow.name:
        return flow.name
    locked = lock.object(dependency.id)
    if locked is not None and locked.name:
        return locked.name
    return _unnamed(dependency.id)


def _edge_versions(lock: Lockfile, flow: LockedFlow) -> dict[NameKey, str | None]:
    """Consumed (type, name) → version; when one name is consumed twice the newest wins."""
    versions: dict[NameKey, str | None] = {}
    for dependency in flow.consumes:
        key = (dependency.type, _dependency_name(lock, dependency))
        if key not in versions or _newer(dependency.version, versions[key]):
            versions[key] = dependency.version
    return versions


def _newer(candidate: str | None, current: str | None) -> bool:
    if candidate is None:
        return False
    return current is None or version_key(candidate) > version_key(current)


def diff_environments(source: Lockfile, target: Lockfile) -> EnvironmentDiff:
    """Compare two environments' locks by type and name (e.g. ``source`` = dev, ``target`` = prod)."""
    source_flows, ambiguous_source_flows = _group_by_name(
        (((flow.object_type, flow.name or _unnamed(flow.id)), flow.id) for flow in source.flows),
        "source",
        "flow",
    )
    target_flows, ambiguous_target_flows = _group_by_name(
        (((flow.object_type, flow.name or _unnamed(flow.id)), flow.id) for flow in target.flows),
        "target",
        "flow",
    )
    source_objects, ambiguous_source_objects = _group_by_name(
        (((o.type, o.name or _unnamed(o.id)), o.id) for o in source.objects), "source", "object"
    )
    target_objects, ambiguous_target_objects = _group_by_name(
        (((o.type, o.name or _unnamed(o.id)), o.id) for o in target.objects), "target", "object"
    )
    ambiguous = {
        (a.kind, a.type, a.name)
        for a in (
            *ambiguous_source_flows,
            *ambiguous_target_flows,
            *ambiguous_source_objects,
            *ambiguous_target_objects,
        )
    }

    def comparable(keys: Iterable[NameKey], kind: str) -> set[NameKey]:
        return {key for key in keys if (kind, *key) not in ambiguous}

    source_flow_keys = comparable(source_flows, "flow")
    target_flow_keys = comparable(target_flows, "flow")
    matched_flow_keys = sorted(source_flow_keys & target_flow_keys)

    version_differences: list[FlowVersionDifference] = []
    edges_only_in_source: list[NamedEdge] = []
    edges_only_in_target: list[NamedEdge] = []
    edge_version_differences: list[EdgeVersionDifference] = []
    for flow_type, flow_name in matched_flow_keys:
        source_flow = source.flow(source_flows[(flow_type, flow_name)])
        target_flow = target.flow(target_flows[(flow_type, flow_name)])
        assert source_flow is not None and target_flow is not None  # ids come from these locks
        if source_flow.published_version != target_flow.published_version:
            version_differences.append(
                FlowVersionDifference(
                    type=flow_type,
                    name=flow_name,
                    source_id=source_flow.id,
                    target_id=target_flow.id,
                    source_version=source_flow.published_version,
                    target_version=target_flow.published_version,
                    source_published_by=source_flow.published_by,
                    source_date_published=source_flow.date_published,
                    target_published_by=target_flow.published_by,
                    target_date_published=target_flow.date_published,
                )
            )
        source_edges = _edge_versions(source, source_flow)
        target_edges = _edge_versions(target, target_flow)

        def edge(
            dependency_key: NameKey, flow_type: str = flow_type, flow_name: str = flow_name
        ) -> NamedEdge:
            return NamedEdge(
                flow_type=flow_type,
                flow_name=flow_name,
                dependency_type=dependency_key[0],
                dependency_name=dependency_key[1],
            )

        edges_only_in_source += [edge(key) for key in sorted(source_edges.keys() - target_edges.keys())]
        edges_only_in_target += [edge(key) for key in sorted(target_edges.keys() - source_edges.keys())]
        edge_version_differences += [
            EdgeVersionDifference(
                edge=edge(key), source_version=source_edges[key], target_version=target_edges[key]
            )
            for key in sorted(source_edges.keys() & target_edges.keys())
            if source_edges[key] != target_edges[key]
        ]

    source_object_keys = comparable(source_objects, "object")
    target_object_keys = comparable(target_objects, "object")
    matched_object_keys = sorted(source_object_keys & target_object_keys)
    source_objects_by_id = {(o.type, o.id): o for o in source.objects}
    target_objects_by_id = {(o.type, o.id): o for o in target.objects}
    object_differences: list[ObjectDifference] = []
    for object_type, object_name in matched_object_keys:
        source_object = source_objects_by_id[(object_type, source_objects[(object_type, object_name)])]
        target_object = target_objects_by_id[(object_type, target_objects[(object_type, object_name)])]
        changed = [
            field
            for field in ("version", "deleted", "missing")
            if getattr(source_object, field) != getattr(target_object, field)
        ]
        if changed:
            object_differences.append(
                ObjectDifference(
                    type=object_type,
                    name=object_name,
                    source=source_object,
                    target=target_object,
                    changed_fields=changed,
                )
            )

    def refs(keys: set[NameKey], ids: dict[NameKey, str]) -> list[NamedRef]:
        return [NamedRef(type=key[0], name=key[1], id=ids[key]) for key in sorted(keys)]

    return EnvironmentDiff(
        source_org=source.org,
        target_org=target.org,
        matched_flows=len(matched_flow_keys),
        matched_objects=len(matched_object_keys),
        flows_only_in_source=refs(source_flow_keys - target_flow_keys, source_flows),
        flows_only_in_target=refs(target_flow_keys - source_flow_keys, target_flows),
        flow_version_differences=version_differences,
        edges_only_in_source=edges_only_in_source,
        edges_only_in_target=edges_only_in_target,
        edge_version_differences=edge_version_differences,
        objects_only_in_source=refs(source_object_keys - target_object_keys, source_objects),
        objects_only_in_target=refs(target_object_keys - source_object_keys, target_objects),
        object_differences=object_differences,
        ambiguous_names=sorted(
            (
                *ambiguous_source_flows,
                *ambiguous_target_flows,
                *ambiguous_source_objects,
                *ambiguous_target_objects,
            ),
            key=lambda a: (a.kind, a.type, a.name, a.side),
        ),
    )
