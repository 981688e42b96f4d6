"""/api/v2/architect/dependencytracking: index status, consumed/consuming resources, objects, types.

While the index is not OPERATIONAL the answers are PARTIAL, as in a real org: a deterministic
third of the dependencies (by a hash of consumer and resource ids) is missing.

As hostile as a real org for the scan:
- `consumedresources` needs `id`, `version` and a versioned `objectType` from the platform's enum
  (400 otherwise; there is no SPEECHFLOW); `resourceType` values must be real types too.
- a flow version the index does not know answers the real 404 "Could not find the dependency
  object with specified ID and version": a deleted flow, a version that does not exist, a flow
  marked `"indexed": false` or with an `indexError` in the org file (the latter also listed in
  the build status's `failedObjects`), or one the `vanish` fault deletes as it is read.
- the answer holds what the flow really uses AND the platform vocabulary every flow "uses"
  (FLOWACTION, FLOWDATATYPE, LANGUAGE, SYSTEMPROMPT, TTSENGINE, TTSVOICE, STTENGINE: about 58
  rows for a call flow, see `vocabulary.py`), filtered by `resourceType` as the real API does.
"""

from __future__ import annotations

import zlib
from typing import Any

from flowops.flowtypes import DEPENDENCY_OBJECT_TYPES
from flowops.local.simulator.model import FLOW_OBJECT_TYPES, KNOWN_OBJECT_TYPES, Dependency, Flow, FlowVersion
from flowops.local.simulator.serialize import self_uri
from flowops.local.simulator.state import SimulatorState
from flowops.local.simulator.vocabulary import vocabulary_rows
from flowops.local.simulator.web import (
    ApiError,
    Request,
    Response,
    Route,
    bad_request,
    compact,
    iso,
    not_found,
    paged,
)

_VERSIONED_TYPES = frozenset(FLOW_OBJECT_TYPES) | {"DATAACTION"}
NOT_IN_INDEX = "Could not find the dependency object with specified ID and version"
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


def _failed_objects(state: SimulatorState) -> list[dict[str, Any]]:
    """Flows the index could not process: `indexError` in the org file, or the index-failed fault."""
    failed = []
    for flow in state.org.iter_flows():
        code = flow.index_error or ("FLOW_PROCESSING_ERROR" if flow.id in state.faults.index_failed else None)
        if code is None or flow.deleted:
            continue
        failed.append(
            {"id": flow.id, "version": flow.published_version_id, "name": flow.name, "errorCode": code}
        )
    return sorted(failed, key=lambda item: item["id"])


def get_build_status(request: Request) -> Response:
    state = request.state
    return Response(
        body=compact(
            {
                "status": state.index_status,
                "dateStarted": iso(state.index_started_at),
                "dateCompleted": iso(state.index_completed_at),
                "failedObjects": _failed_objects(state),
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


def _resource_types(request: Request) -> set[str]:
    wanted = set(request.args("resourceType"))
    invalid = sorted(wanted - DEPENDENCY_OBJECT_TYPES)
    if invalid:
        raise bad_request(
            f"Invalid value(s) for parameter [resourceType]: {', '.join(invalid)}.", parameter="resourceType"
        )
    return wanted


def consumed_resources(request: Request) -> Response:
    state = request.state
    entity_id, version_id, object_type = request.arg("id"), request.arg("version"), request.arg("objectType")
    if not entity_id or not version_id or not object_type:
        # The SDK marks all three required; the platform answers 400 without them.
        raise bad_request("The id, version and objectType query parameters are required.")
    if object_type not in DEPENDENCY_OBJECT_TYPES:
        raise bad_request(
            f"Invalid value [{object_type}] for parameter [objectType].", parameter="objectType"
        )
    if object_type not in _VERSIONED_TYPES:
        raise bad_request(
            f"Object type {object_type} is not versioned: only versioned types are allowed here.",
            parameter="objectType",
        )
    resource_types = _resource_types(request)
    flow = state.org.flows.get(entity_id)
    if flow is not None and entity_id in state.faults.forbidden:
        # A flow in a division the OAuth client has no grant for: refused, no permission named.
        raise ApiError(403, "not.authorized", "You are not authorized to access this object in its division.")
    if flow is not None and entity_id in state.faults.vanish and not flow.deleted:
        # Deleted between the scan's listing and this read (the fault fires once per flow).
        flow.deleted = True
    unindexed = flow is not None and (
        not flow.indexed or flow.index_error is not None or flow.id in state.faults.index_failed
    )
    if flow is None or flow.deleted or flow.object_type != object_type or unindexed:
        raise not_found(NOT_IN_INDEX)
    version = flow.versions.get(version_id) or flow.versions.get(f"{version_id}.0")
    if version is None:
        raise not_found(NOT_IN_INDEX)
    rows = [dependency_json(state, d.id, d.version) for d in _consumed(request, flow, version)]
    rows += [
        row
        for row in vocabulary_rows(flow, version.version_id)
        if not resource_types or row["type"] in resource_types
    ]
    envelope = paged(request, rows)
    return Response(body=envelope)


def consuming_resources(request: Request) -> Response:
    state = request.state
    entity_id = request.arg("id")
    object_type = request.arg("objectType")
    if not entity_id or not object_type:
        raise bad_request("The id and objectType query parameters are required.")
    if object_type not in DEPENDENCY_OBJECT_TYPES:
        raise bad_request(
            f"Invalid value [{object_type}] for parameter [objectType].", parameter="objectType"
        )
    # The SDK: resourceType here takes "only versioned types" (the consumers are flows or data
    # actions), and flowFilter is the enum checkedIn | published. Junk is refused, not ignored:
    # an ignored filter would silently widen the answer.
    resource_types = set(request.args("resourceType"))
    unversioned = sorted(resource_types - _VERSIONED_TYPES)
    if unversioned:
        raise bad_request(
            f"Invalid value(s) for parameter [resourceType]: {', '.join(unversioned)}. "
            "Only versioned types are allowed here.",
            parameter="resourceType",
        )
    flow_filter = (request.arg("flowFilter") or "").lower()
    if flow_filter not in {"", "checkedin", "published"}:
        raise bad_request(
            f"Invalid value [{request.arg('flowFilter')}] for parameter [flowFilter]: "
            "checkedIn or published.",
            parameter="flowFilter",
        )
    described = state.org.describe(entity_id)
    if described is None or described[1] != object_type:
        raise not_found(f"Unable to find a {object_type} with id {entity_id}.")
    wanted_version = request.arg("version")
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
