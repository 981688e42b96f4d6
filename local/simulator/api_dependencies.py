"""/api/v2/architect/dependencytracking: index status, consumed/consuming resources, objects, types.

While the index is not OPERATIONAL the answers are PARTIAL, as in a real org: a deterministic
third of the dependencies (by a hash of consumer and resource ids) is missing.
"""

from __future__ import annotations

import zlib
from typing import Any

from local.simulator.model import FLOW_OBJECT_TYPES, KNOWN_OBJECT_TYPES, Dependency, Flow, FlowVersion
from local.simulator.serialize import self_uri
from local.simulator.state import SimulatorState
from local.simulator.web import Request, Response, Route, bad_request, compact, iso, not_found, paged

_VERSIONED_TYPES = frozenset(FLOW_OBJECT_TYPES) | {"DATAACTION"}
DEPENDENCY_TYPES: tuple[str, ...] = tuple(sorted(KNOWN_OBJECT_TYPES))


def _visible(state: SimulatorState, consumer_id: str, resource_id: str) -> bool:
    if state.index_is_complete():
        return True
    return zlib.crc32(f"{consumer_id}:{resource_id}".encode()) % 3 != 0


def dependency_json(state: SimulatorState, entity_id: str, version: str | None) -> dict[str, Any]:
    described = state.org.describe(entity_id)
    name, object_type, deleted = described if described else ("", "UNKNOWN", True)
    # `updated`: the consumer's snapshot is no longer what the object publishes now.
    current = state.org.current_snapshot(entity_id)
    updated = version is not None and current is not None and current != version
    return compact(
        {
            "id": entity_id,
            "name": name,
            "version": version,
            "type": object_type,
            "deleted": deleted,
            "updated": updated,
            "stateUnknown": described is None,
            "selfUri": self_uri(entity_id, object_type),
        }
    )


def _consumer_version(request: Request, flow: Flow) -> FlowVersion:
    wanted = request.arg("version") or flow.published_version_id or flow.latest_version_id()
    version = flow.versions.get(wanted or "") or flow.versions.get(f"{wanted}.0")
    if version is None:
        raise not_found(f"Unable to find version {wanted} of flow {flow.id}.")
    return version


def _consumed(request: Request, flow: Flow, version: FlowVersion) -> list[Dependency]:
    resource_types = set(request.args("resourceType"))
    return [
        d
        for d in version.consumes
        if (not resource_types or d.object_type in resource_types) and _visible(request.state, flow.id, d.id)
    ]


def get_build_status(request: Request) -> Response:
    state = request.state
    return Response(
        body=compact(
            {
                "status": state.index_status,
                "dateStarted": iso(state.index_started_at),
                "dateCompleted": iso(state.index_completed_at),
                "failedObjects": [],
            }
        )
    )


def start_build(request: Request) -> Response:
    request.state.start_index_rebuild()
    return Response(status=202, body=None)


def _require_flow(request: Request) -> Flow:
    entity_id = request.arg("id")
    object_type = request.arg("objectType")
    if not entity_id or not object_type:
        raise bad_request("The id and objectType query parameters are required.")
    flow = request.state.org.flows.get(entity_id)
    if flow is None or flow.object_type != object_type:
        raise not_found(f"Unable to find a {object_type} with id {entity_id}.")
    return flow


def consumed_resources(request: Request) -> Response:
    flow = _require_flow(request)
    version = _consumer_version(request, flow)
    dependencies = _consumed(request, flow, version)
    envelope = paged(request, dependencies)
    envelope["entities"] = [dependency_json(request.state, d.id, d.version) for d in envelope["entities"]]
    return Response(body=envelope)


def consuming_resources(request: Request) -> Response:
    state = request.state
    entity_id = request.arg("id")
    object_type = request.arg("objectType")
    if not entity_id or not object_type:
        raise bad_request("The id and objectType query parameters are required.")
    described = state.org.describe(entity_id)
    if described is None or described[1] != object_type:
        raise not_found(f"Unable to find a {object_type} with id {entity_id}.")
    flow_filter = (request.arg("flowFilter") or "").lower()
    wanted_version = request.arg("version")
    resource_types = set(request.args("resourceType"))
    found: list[tuple[str, str]] = []
    for flow_id, version_id in sorted(state.org.consumers.get(entity_id, set())):
        consumer = state.org.flows[flow_id]
        if consumer.deleted:
            continue
        if flow_filter == "published" and version_id != consumer.published_version_id:
            continue
        if flow_filter == "checkedin" and version_id != consumer.checked_in_version_id:
            continue
        if not flow_filter and version_id not in {
            consumer.published_version_id,
            consumer.checked_in_version_id,
        }:
            continue
        if resource_types and consumer.object_type not in resource_types:
            continue
        if wanted_version is not None:
            snapshot = next(
                (d.version for d in consumer.versions[version_id].consumes if d.id == entity_id), None
            )
            if snapshot != wanted_version:
                continue
        if _visible(state, flow_id, entity_id):
            found.append((flow_id, version_id))
    envelope = paged(request, found)
    envelope["entities"] = [dependency_json(state, fid, vid) for fid, vid in envelope["entities"]]
    return Response(body=envelope)


def get_object(request: Request) -> Response:
    state = request.state
    entity_id = request.arg("id")
    if not entity_id:
        raise bad_request("The id query parameter is required.")
    described = state.org.describe(entity_id)
    object_type = request.arg("objectType")
    if described is None or (object_type and described[1] != object_type):
        raise not_found(f"Unable to find a dependency object with id {entity_id}.")
    flow = state.org.flows.get(entity_id)
    version = _consumer_version(request, flow) if flow else None
    document = dependency_json(state, entity_id, version.version_id if version else None)
    if request.bool_arg("consumedResources") and flow is not None and version is not None:
        document["consumedResources"] = [
            dependency_json(state, d.id, d.version) for d in _consumed(request, flow, version)
        ]
    if request.bool_arg("consumingResources"):
        consumers = sorted(state.org.consumers.get(entity_id, set()))
        document["consumingResources"] = [
            dependency_json(state, fid, vid)
            for fid, vid in consumers
            if vid == state.org.flows[fid].published_version_id and _visible(state, fid, entity_id)
        ]
    return Response(body=document)


def list_types(request: Request) -> Response:
    types = [
        {
            "id": t,
            "name": t,
            "versioned": t in _VERSIONED_TYPES,
            "selfUri": f"/api/v2/architect/dependencytracking/types/{t}",
        }
        for t in DEPENDENCY_TYPES
    ]
    return Response(body=paged(request, types))


_BASE = "/api/v2/architect/dependencytracking"
ROUTES = [
    Route("GET", f"{_BASE}/build", get_build_status),
    Route("POST", f"{_BASE}/build", start_build),
    Route("GET", f"{_BASE}/consumedresources", consumed_resources),
    Route("GET", f"{_BASE}/consumingresources", consuming_resources),
    Route("GET", f"{_BASE}/object", get_object),
    Route("GET", f"{_BASE}/types", list_types),
]
