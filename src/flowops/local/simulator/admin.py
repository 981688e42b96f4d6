"""Routes that are not Genesys API paths, all under `/__sim/` (a prefix no real path can have):

- presigned URLs the API hands out: `PUT /__sim/uploads/{jobId}` (architect job YAML, requires
  exactly the headers the job returned, S3-style XML errors otherwise) and
  `GET /__sim/downloads/{token}` (export YAML/zip, execution-data documents);
- the admin API for tests and operators: counters, faults, index status, flow inspection,
  seeding objects, a person's publish in Architect's UI (out-of-band changes).
"""

from __future__ import annotations

from typing import Any

from flowops.local.simulator.archyaml import render_flow_yaml
from flowops.local.simulator.faults import Faults, FaultSpecError
from flowops.local.simulator.model import OBJECT_TYPE_WORDS, FlowVersion, OrgObject, Principal, new_id
from flowops.local.simulator.state import SimulatorState
from flowops.local.simulator.web import Request, Response, Route, bad_request, not_found

_INDEX_STATUSES = {
    "BUILDINCOMPLETE",
    "BUILDINITIALIZING",
    "BUILDINPROGRESS",
    "BUILDQUEUED",
    "NOTBUILT",
    "OPERATIONAL",
    "OPERATIONALNEEDSREBUILD",
}


def _s3_error(status: int, code: str, message: str) -> Response:
    xml_declaration = '<?xml version="1.0" encoding="UTF-8"?>'
    body = f"{xml_declaration}\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return Response(status=status, body=body, content_type="application/xml")


def upload(request: Request) -> Response:
    state = request.state
    job = state.architect_jobs.get(request.path_params["jobId"])
    if job is None:
        return _s3_error(404, "NoSuchUpload", "The specified upload does not exist.")
    if job.uploaded_at is not None:
        return _s3_error(403, "AccessDenied", "The presigned URL has already been used.")
    for name, value in job.upload_headers.items():
        sent = request.headers.get(name.lower())
        if sent != value:
            return _s3_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided "
                f"(header {name}).",
            )
    try:
        job.yaml_text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return _s3_error(400, "InvalidArgument", "The flow file must be UTF-8 text.")
    job.uploaded_at = state.now()
    return Response(status=200, body=b"", content_type="text/plain", headers={"ETag": f'"{new_id()}"'})


def download(request: Request) -> Response:
    found = request.state.downloads.get(request.path_params["token"])
    if found is None:
        return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
    kind, payload = found
    if kind == "yaml":
        return Response(body=payload, content_type="application/x-yaml")
    if kind == "zip":
        return Response(body=payload, content_type="application/zip")
    return Response(body=payload)


def get_counters(request: Request) -> Response:
    return Response(body={"counters": dict(sorted(request.state.counters.items()))})


def reset_counters(request: Request) -> Response:
    request.state.counters.clear()
    return Response(body={"counters": {}})


def get_faults(request: Request) -> Response:
    return Response(body={"faults": request.state.faults.describe()})


def set_faults(request: Request) -> Response:
    body = request.json()
    spec = body.get("spec") if isinstance(body, dict) else None
    if not isinstance(spec, str):
        raise bad_request(
            'The body must be {"spec": "5xx=0.2,latency=0.5,..."} (an empty spec clears all faults).'
        )
    try:
        faults = Faults.parse(spec)
    except FaultSpecError as error:
        raise bad_request(str(error)) from None
    request.state.set_faults(faults)
    return Response(body={"faults": faults.describe()})


def set_index(request: Request) -> Response:
    body = request.json()
    status = body.get("status") if isinstance(body, dict) else None
    if status not in _INDEX_STATUSES:
        raise bad_request(f"status must be one of {', '.join(sorted(_INDEX_STATUSES))}.")
    request.state.set_index_status(status)
    return Response(body={"status": status})


def inspect_flow(state: SimulatorState, flow_id: str) -> dict[str, Any] | None:
    flow = state.org.flows.get(flow_id)
    if flow is None:
        return None
    holder = state.lock_holder(flow_id)
    return {
        "id": flow.id,
        "name": flow.name,
        "type": flow.flow_type,
        "deleted": flow.deleted,
        "active": flow.active,
        "lockedBy": None if holder is None else {"user": holder.user_name, "client": holder.client_id},
        "publishedVersion": flow.published_version_id,
        "checkedInVersion": flow.checked_in_version_id,
        "savedVersion": flow.saved_version_id,
        "versions": [
            {
                "id": v.version_id,
                "type": v.version_type,
                "createdByClient": v.created_by.client_id,
                "consumes": [{"id": d.id, "type": d.object_type, "version": d.version} for d in v.consumes],
                "yaml": render_flow_yaml(state.org, flow, v),
            }
            for v in flow.versions.values()
        ],
    }


def get_flow(request: Request) -> Response:
    document = inspect_flow(request.state, request.path_params["flowId"])
    if document is None:
        raise not_found(f"Unable to find flow with id {request.path_params['flowId']}.")
    return Response(body=document)


def add_objects(request: Request) -> Response:
    body = request.json()
    raw_objects = body.get("objects") if isinstance(body, dict) else None
    if not isinstance(raw_objects, list):
        raise bad_request('The body must be {"objects": [{"name", "type", "id"?, "deleted"?}]}.')
    created = []
    for index, raw in enumerate(raw_objects):
        if (
            not isinstance(raw, dict)
            or not isinstance(raw.get("name"), str)
            or raw.get("type") not in OBJECT_TYPE_WORDS
        ):
            raise bad_request(f"objects[{index}] needs a name and a known object type.")
        obj = OrgObject(
            str(raw.get("id") or new_id()), raw["name"], raw["type"], deleted=bool(raw.get("deleted", False))
        )
        request.state.org.add_object(obj)
        created.append({"id": obj.id, "name": obj.name, "type": obj.object_type})
    return Response(body={"objects": created})


ARCHITECT_UI_CLIENT = ("architect-ui", "Architect UI")


def publish_as_user(request: Request) -> Response:
    """A person publishes the flow in Architect's UI (out of band): a new PUBLISH version created
    by that user (`createdBy` = the user, as the UI's session has one), with the given YAML or
    the published version's. References are kept from the version it edits: the UI edit changes
    what the person typed (descriptions, prompts text), not what the flow consumes."""
    state = request.state
    flow = state.org.flows.get(request.path_params["flowId"])
    if flow is None or flow.deleted:
        raise not_found(f"Unable to find flow with id {request.path_params['flowId']}.")
    body = request.json()
    if not isinstance(body, dict) or not isinstance(body.get("userName"), str) or not body["userName"]:
        raise bad_request('The body must be {"userName": "...", "userId"?: "...", "yaml"?: "..."}.')
    yaml_text = body.get("yaml")
    if yaml_text is not None and not isinstance(yaml_text, str):
        raise bad_request("yaml must be the flow's YAML text.")
    source = flow.versions.get(flow.published_version_id or "") if flow.published_version_id else None
    if source is None:
        raise bad_request(f"Flow {flow.name!r} has no published version to edit.")
    user = Principal(str(body.get("userId") or new_id()), body["userName"], *ARCHITECT_UI_CLIENT)
    at = state.now()
    version = FlowVersion(
        flow.next_version_id(),
        "PUBLISH",
        source.consumes,
        at,
        user,
        yaml_text if yaml_text is not None else render_flow_yaml(state.org, flow, source),
    )
    state.org.add_version(flow, version)
    state.org.publish_version(flow, version.version_id, at, user)
    flow.saved_version_id = None
    return Response(body={"id": flow.id, "publishedVersion": version.version_id, "createdBy": user.user_id})


def health(request: Request) -> Response:
    org = request.state.org
    return Response(body={"status": "ok", "flows": len(org.flows), "objects": len(org.objects)})


ROUTES = [
    Route("PUT", "/__sim/uploads/{jobId}", upload, kind="presigned"),
    Route("GET", "/__sim/downloads/{token}", download, kind="presigned"),
    Route("GET", "/__sim/health", health, kind="admin"),
    Route("GET", "/__sim/counters", get_counters, kind="admin"),
    Route("POST", "/__sim/reset-counters", reset_counters, kind="admin"),
    Route("GET", "/__sim/faults", get_faults, kind="admin"),
    Route("POST", "/__sim/faults", set_faults, kind="admin"),
    Route("POST", "/__sim/index", set_index, kind="admin"),
    Route("GET", "/__sim/flows/{flowId}", get_flow, kind="admin"),
    Route("POST", "/__sim/objects", add_objects, kind="admin"),
    Route("POST", "/__sim/flows/{flowId}/publish", publish_as_user, kind="admin"),
]
