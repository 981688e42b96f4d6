"""/api/v2/flows: listing, versions, configuration, lifecycle actions, architect/export/validate jobs."""

from __future__ import annotations

import fnmatch
import io
import uuid
import zipfile
from typing import Any

import yaml

from flowops.local.simulator import lifecycle
from flowops.local.simulator.access import require_division
from flowops.local.simulator.archyaml import render_flow_yaml
from flowops.local.simulator.model import FLOW_TYPES, Flow, FlowVersion, Principal, new_id
from flowops.local.simulator.serialize import flow_json, job_message_json, operation_json, version_json
from flowops.local.simulator.state import (
    ARCHITECT_JOB_PHASES,
    SHORT_JOB_PHASES,
    SHORT_JOB_SECONDS,
    ArchitectJob,
    ExportJob,
    ValidateJob,
    phase_at,
)
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
    parse_iso,
)

_SORT_KEYS = {
    "name": lambda f: f.name.lower(),
    "id": lambda f: f.id,
    "type": lambda f: (f.flow_type, f.name.lower()),
    "description": lambda f: f.description.lower(),
    "datepublished": lambda f: f.published_at or 0.0,
}


def _flow(request: Request, flow_id: str | None = None) -> Flow:
    wanted = flow_id or request.path_params.get("flowId") or request.arg("flow")
    if not wanted:
        raise bad_request("The flow query parameter is required.", parameter="flow")
    flow = request.state.org.flows.get(wanted)
    if flow is None:
        raise not_found(f"Unable to find flow with id {wanted}.")
    require_division(request.client, flow.division_id, request.required_permissions)
    return flow


def _version(request: Request, flow: Flow, version_id: str) -> FlowVersion:
    version = flow.versions.get(version_id) or flow.versions.get(f"{version_id}.0")
    if version is None:
        raise not_found(f"Unable to find version {version_id} of flow {flow.id}.")
    return version


def _name_matches(pattern: str, name: str) -> bool:
    if "*" in pattern:
        return fnmatch.fnmatchcase(name.lower(), pattern.lower())
    return name.lower() == pattern.lower()


def list_flows(request: Request) -> Response:
    types = {t.upper() for t in request.args("type")}
    unknown = types - set(FLOW_TYPES)
    if unknown:
        raise bad_request(
            f"Invalid value(s) for parameter [type]: {', '.join(sorted(unknown))}.", parameter="type"
        )
    ids = set(request.args("id"))
    name = request.arg("name")
    description = request.arg("description")
    name_or_description = request.arg("nameOrDescription")
    include_deleted = request.bool_arg("deleted")
    locked_by = request.arg("lockedBy")
    divisions = set(request.args("divisionId"))
    published_after = request.arg("publishedAfter")
    published_before = request.arg("publishedBefore")
    try:
        after = parse_iso(published_after) if published_after else None
        before = parse_iso(published_before) if published_before else None
    except ValueError:
        raise bad_request("publishedAfter/publishedBefore must be ISO-8601 dates.") from None
    sort_by = (request.arg("sortBy") or "name").lower()
    if sort_by not in _SORT_KEYS:
        raise bad_request(f"Invalid value [{sort_by}] for parameter [sortBy].", parameter="sortBy")
    descending = (request.arg("sortOrder") or "asc").lower() == "desc"
    state = request.state

    selected: list[Flow] = []
    for flow in state.org.iter_flows():
        if flow.deleted and not include_deleted:
            continue
        if types and flow.flow_type not in types:
            continue
        if ids and flow.id not in ids:
            continue
        if name and not _name_matches(name, flow.name):
            continue
        if description and description.lower() not in flow.description.lower():
            continue
        if name_or_description and not (
            _name_matches(name_or_description, flow.name)
            or name_or_description.lower() in flow.description.lower()
        ):
            continue
        if divisions and flow.division_id not in divisions:
            continue
        if request.client is not None and not request.client.sees(flow.division_id):
            continue  # outside the client's divisions: invisible, not an error
        if locked_by is not None:
            holder = state.lock_holder(flow.id)
            if holder is None or locked_by not in {holder.user_id, holder.client_id}:
                continue
        if after is not None and (flow.published_at is None or flow.published_at <= after):
            continue
        if before is not None and (flow.published_at is None or flow.published_at >= before):
            continue
        selected.append(flow)
    selected.sort(key=_SORT_KEYS[sort_by], reverse=descending)
    envelope = paged(request, selected)
    envelope["entities"] = [flow_json(state, flow) for flow in envelope["entities"]]
    if state.faults.churn > 0:
        _churn(request)
    return Response(body=envelope)


def _churn(request: Request) -> None:
    """The `churn` fault: after this page, someone deletes one flow and creates another, as
    people do in Architect while a scan pages through a large org (offsets shift: a later page
    skips a flow or repeats one). Counts down: the org settles after `churn` pages."""
    state = request.state
    state.faults.churn -= 1
    rng = state.random()
    live = sorted((f for f in state.org.iter_flows() if not f.deleted), key=lambda f: f.id)
    if live:
        live[rng.randrange(len(live))].deleted = True
    number = sum(1 for _ in state.org.iter_flows()) + 1
    flow = state.org.add_flow(
        Flow(
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            name=f"Churn Flow {number:05d}",
            flow_type="INBOUNDCALL",
        )
    )
    at = state.now()
    state.org.add_version(flow, FlowVersion("1.0", "PUBLISH", (), at, state.org.default_principal))
    state.org.publish_version(flow, "1.0", at, state.org.default_principal)


def get_flow(request: Request) -> Response:
    return Response(body=flow_json(request.state, _flow(request)))


def list_versions(request: Request) -> Response:
    flow = _flow(request)
    versions = list(reversed(flow.versions.values()))  # newest first
    envelope = paged(request, versions)
    envelope["entities"] = [version_json(flow, v) for v in envelope["entities"]]
    return Response(body=envelope)


def get_version(request: Request) -> Response:
    flow = _flow(request)
    return Response(body=version_json(flow, _version(request, flow, request.path_params["versionId"])))


def _configuration(request: Request, flow: Flow, version: FlowVersion) -> Response:
    """The untyped flow document: here, the version's Architect YAML read as a mapping."""
    text = render_flow_yaml(request.state.org, flow, version)
    try:
        document: Any = yaml.safe_load(text)
    except yaml.YAMLError:
        document = {"yaml": text}
    return Response(
        body={
            "id": flow.id,
            "name": flow.name,
            "type": flow.flow_type,
            "version": version.version_id,
            "flow": document,
        }
    )


def get_version_configuration(request: Request) -> Response:
    flow = _flow(request)
    return _configuration(request, flow, _version(request, flow, request.path_params["versionId"]))


def get_latest_configuration(request: Request) -> Response:
    flow = _flow(request)
    latest = flow.saved_version_id or flow.checked_in_version_id or flow.latest_version_id()
    if latest is None:
        raise not_found(f"Flow {flow.id} has no configuration.")
    return _configuration(request, flow, flow.versions[latest])


# ---- lifecycle actions ------------------------------------------------------------------------


def _caller(request: Request) -> Principal:
    assert request.principal is not None  # api routes always authenticate
    return request.principal


def _refuse_if_locked_by_other(request: Request, flow: Flow) -> None:
    holder = request.state.lock_holder(flow.id)
    if holder is not None and holder.client_id != _caller(request).client_id:
        who = holder.user_name or holder.client_name
        raise ApiError(
            409,
            "flow.locked",
            f"Flow '{flow.name}' is locked by user '{who}' using client '{holder.client_name}'.",
            message_params={
                "flowId": flow.id,
                "lockedUser": holder.user_name,
                "lockedClient": holder.client_name,
            },
        )


def _refuse_if_busy(request: Request, flow: Flow) -> None:
    operation = flow.current_operation
    if (
        operation is not None
        and not operation.applied
        and request.state.now() - operation.started_at < lifecycle_seconds()
    ):
        raise ApiError(
            409,
            "flow.operation.in.progress",
            f"Flow '{flow.name}' has a {operation.action_name} operation in progress.",
        )


def lifecycle_seconds() -> float:
    from flowops.local.simulator.state import PUBLISH_SECONDS

    return PUBLISH_SECONDS


def action_publish(request: Request) -> Response:
    flow = _flow(request)
    _refuse_if_locked_by_other(request, flow)
    _refuse_if_busy(request, flow)
    version = request.arg("version")
    if version is not None:
        version = _version(request, flow, version).version_id
    operation = lifecycle.start_operation(request.state, flow, "PUBLISH", _caller(request), version=version)
    return Response(body=operation_json(request.state, operation))


def action_checkin(request: Request) -> Response:
    flow = _flow(request)
    _refuse_if_locked_by_other(request, flow)
    if request.state.lock_holder(flow.id) is None:
        raise ApiError(
            400, "flow.not.locked", f"Flow '{flow.name}' must be checked out before it can be checked in."
        )
    _refuse_if_busy(request, flow)
    operation = lifecycle.start_operation(request.state, flow, "CHECKIN", _caller(request))
    return Response(body=operation_json(request.state, operation))


def action_checkout(request: Request) -> Response:
    flow = _flow(request)
    _refuse_if_locked_by_other(request, flow)
    flow.locked_by = _caller(request)
    return Response(body=flow_json(request.state, flow))


def action_revert(request: Request) -> Response:
    flow = _flow(request)
    _refuse_if_locked_by_other(request, flow)
    flow.saved_version_id = None
    flow.locked_by = None
    return Response(body=flow_json(request.state, flow))


def action_deactivate(request: Request) -> Response:
    flow = _flow(request)
    _refuse_if_locked_by_other(request, flow)
    flow.active = False
    return Response(body=flow_json(request.state, flow))


def action_unlock(request: Request) -> Response:
    # An Architect admin may unlock anybody's flow (locks injected by the `locked=` fault stay).
    flow = _flow(request)
    flow.locked_by = None
    return Response(body=flow_json(request.state, flow))


def delete_flow(request: Request) -> Response:
    """`DELETE /api/v2/flows/{flowId}` (ArchitectApi.delete_flow; what Terraform's destroy calls).

    A deleted flow answers 404 afterwards, as Terraform's delete expects; a flow another client
    holds locked, or with an operation in flight, answers 409 (Terraform retries those).
    """
    flow = _flow(request)
    if flow.deleted:
        raise not_found(f"Unable to find flow with id {flow.id}.")
    _refuse_if_locked_by_other(request, flow)
    _refuse_if_busy(request, flow)
    flow.deleted = True
    flow.active = False
    flow.locked_by = None
    return Response(status=204, body=None)


# ---- architect jobs -------------------------------------------------------------------------


def create_architect_job(request: Request) -> Response:
    state = request.state
    body = request.json(required=False)
    if not isinstance(body, dict):
        raise bad_request("The request body must be an object.")
    create_stubs = body.get("createStubs", False)
    if not isinstance(create_stubs, bool):
        raise bad_request("createStubs must be a boolean.", parameter="createStubs")
    job_id = new_id()
    headers = {"Content-Type": "application/octet-stream", "x-amz-server-side-encryption": "AES256"}
    state.architect_jobs[job_id] = ArchitectJob(
        job_id, state.now(), _caller(request), headers, create_stubs=create_stubs
    )
    return Response(
        body={
            "id": job_id,
            "presignedUrl": f"{request.base_url}/__sim/uploads/{job_id}",
            "headers": headers,
            "selfUri": f"/api/v2/flows/jobs/{job_id}",
        }
    )


def get_architect_job(request: Request) -> Response:
    state = request.state
    job = state.architect_jobs.get(request.path_params["jobId"])
    if job is None:
        raise not_found(f"Unable to find architect job {request.path_params['jobId']}.")
    if job.status is not None:
        status = job.status
    elif job.uploaded_at is None:
        status = "Registered"
    else:
        status = phase_at(ARCHITECT_JOB_PHASES, state.now() - job.uploaded_at)
    expand = "messages" in request.args("expand")
    flow = None
    if job.flow_ref and job.flow_ref.get("id"):
        # AddressableEntityRef: {id, selfUri} (no name in the real model)
        flow = {"id": job.flow_ref["id"], "selfUri": f"/api/v2/flows/{job.flow_ref['id']}"}
    return Response(
        body=compact(
            {
                "id": job.id,
                "flow": flow,
                "status": status,
                "command": "Publish",
                "messages": [job_message_json(m) for m in job.messages] if expand else None,
                "selfUri": f"/api/v2/flows/jobs/{job.id}",
            }
        )
    )


# ---- export jobs ----------------------------------------------------------------------------


def _job_items(request: Request, *, export: bool) -> list[tuple[str, str, str]]:
    body = request.json()
    flows = body.get("flows") if isinstance(body, dict) else None
    if not isinstance(flows, list) or not flows:
        raise bad_request("The request must name at least one flow in 'flows'.")
    items = []
    for position, entry in enumerate(flows):
        ref = entry.get("flow") if isinstance(entry, dict) else None
        if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
            raise bad_request(f"flows[{position}].flow.id is required.")
        if export and entry.get("exportType", "Yaml") not in {"Yaml", "YAML", "yaml"}:
            raise bad_request(f"flows[{position}].exportType must be Yaml.")
        flow = _flow(request, ref["id"])
        version_id = str(ref.get("version") or flow.published_version_id or flow.latest_version_id() or "")
        version = _version(request, flow, version_id)
        file_name = str(entry.get("fileName") or f"{flow.name}_v{version.version_id}.yaml")
        items.append((flow.id, version.version_id, file_name))
    return items


def create_export_job(request: Request) -> Response:
    state = request.state
    items = _job_items(request, export=True)
    fails = state.faults.take("export_fail")
    job = ExportJob(
        new_id(),
        state.now(),
        items,
        download_token=new_id(),
        fails=fails,
        empty=not fails and state.faults.take("export_empty"),
    )
    state.export_jobs[job.id] = job
    return Response(
        body={
            "id": job.id,
            "status": "Registered",
            "totalFlows": len(items),
            "selfUri": f"/api/v2/flows/export/jobs/{job.id}",
        }
    )


def get_export_job(request: Request) -> Response:
    state = request.state
    job = state.export_jobs.get(request.path_params["jobId"])
    if job is None:
        raise not_found(f"Unable to find export job {request.path_params['jobId']}.")
    done = state.now() - job.created_at >= SHORT_JOB_SECONDS
    if done and job.fails:
        # What Archy's backend answers for an export refused under load.
        names = ", ".join(state.org.flows[fid].name for fid, _, _ in job.items)
        message = {"dateTime": iso(job.created_at + SHORT_JOB_SECONDS), "type": "Error"}
        message["text"] = f"Could not find the flow '{names}'."
        return Response(
            body=compact(
                {
                    "id": job.id,
                    "status": "Failure",
                    "command": "Export",
                    "messages": [message] if "messages" in request.args("expand") else None,
                    "selfUri": f"/api/v2/flows/export/jobs/{job.id}",
                }
            )
        )
    if done and job.download_token not in state.downloads:
        org = state.org
        files = [
            (name, render_flow_yaml(org, org.flows[fid], org.flows[fid].versions[vid]))
            for fid, vid, name in job.items
        ]
        if job.empty:
            state.downloads[job.download_token] = ("yaml", "")
        elif len(files) == 1:
            state.downloads[job.download_token] = ("yaml", files[0][1])
        else:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, text in files:
                    archive.writestr(name, text)
            state.downloads[job.download_token] = ("zip", buffer.getvalue())
    return Response(
        body=compact(
            {
                "id": job.id,
                "status": "Success" if done else phase_at(SHORT_JOB_PHASES, state.now() - job.created_at),
                "command": "Export",
                # A Genesys download URL (auth required) that redirects to a signed storage URL.
                "downloadUrl": f"{request.base_url}/api/v2/downloads/{job.download_token}" if done else None,
                "messages": [] if "messages" in request.args("expand") else None,
                "selfUri": f"/api/v2/flows/export/jobs/{job.id}",
            }
        )
    )


# ---- validate jobs --------------------------------------------------------------------------


def create_validate_job(request: Request) -> Response:
    state = request.state
    items = [(fid, vid) for fid, vid, _ in _job_items(request, export=False)]
    job = ValidateJob(new_id(), state.now(), items)
    state.validate_jobs[job.id] = job
    return Response(
        body={
            "id": job.id,
            "status": "Registered",
            "totalFlows": len(items),
            "selfUri": f"/api/v2/flows/validate/jobs/{job.id}",
        }
    )


def get_validate_job(request: Request) -> Response:
    state = request.state
    job = state.validate_jobs.get(request.path_params["jobId"])
    if job is None:
        raise not_found(f"Unable to find validate job {request.path_params['jobId']}.")
    status = job.status or phase_at(SHORT_JOB_PHASES, state.now() - job.created_at)
    expand = "messages" in request.args("expand")
    return Response(
        body=compact(
            {
                "id": job.id,
                "status": status,
                "command": "Validate",
                "messages": [job_message_json(m) for m in job.messages] if expand and job.status else None,
                "selfUri": f"/api/v2/flows/validate/jobs/{job.id}",
            }
        )
    )


ROUTES = [
    Route("GET", "/api/v2/flows", list_flows),
    Route("GET", "/api/v2/flows/{flowId}", get_flow),
    Route("DELETE", "/api/v2/flows/{flowId}", delete_flow),
    Route("GET", "/api/v2/flows/{flowId}/versions", list_versions),
    Route("GET", "/api/v2/flows/{flowId}/versions/{versionId}", get_version),
    Route("GET", "/api/v2/flows/{flowId}/versions/{versionId}/configuration", get_version_configuration),
    Route("GET", "/api/v2/flows/{flowId}/latestconfiguration", get_latest_configuration),
    Route("POST", "/api/v2/flows/actions/publish", action_publish),
    Route("POST", "/api/v2/flows/actions/checkin", action_checkin),
    Route("POST", "/api/v2/flows/actions/checkout", action_checkout),
    Route("POST", "/api/v2/flows/actions/revert", action_revert),
    Route("POST", "/api/v2/flows/actions/deactivate", action_deactivate),
    Route("POST", "/api/v2/flows/actions/unlock", action_unlock),
    Route("POST", "/api/v2/flows/jobs", create_architect_job),
    Route("GET", "/api/v2/flows/jobs/{jobId}", get_architect_job),
    Route("POST", "/api/v2/flows/export/jobs", create_export_job),
    Route("GET", "/api/v2/flows/export/jobs/{jobId}", get_export_job),
    Route("POST", "/api/v2/flows/validate/jobs", create_validate_job),
    Route("GET", "/api/v2/flows/validate/jobs/{jobId}", get_validate_job),
]
