"""/api/v2/flows/instances: execution-data settings, instance query, download jobs.

The query answers one page (pageSize default 50, > 200 is a 400; no pageNumber) in id order, NOT newest
first, exactly the property that forces callers to slice their time range.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowops.local.simulator.model import new_id
from flowops.local.simulator.state import (
    EXECUTION_JOB_PHASES,
    EXECUTION_JOB_SECONDS,
    ExecutionJob,
    ExecutionJobEntity,
    phase_at,
)
from flowops.local.simulator.web import Request, Response, Route, bad_request, compact, not_found, parse_iso

QUERY_MAX_PAGE_SIZE = 200
QUERY_DEFAULT_PAGE_SIZE = 50
JOB_MAX_IDS = 100

# CriteriaItem.key's allowed values (SDK 269).
CRITERIA_KEYS: tuple[str, ...] = (
    "FlowStartDateTime",
    "FlowEndDateTime",
    "ConversationId",
    "WorkitemId",
    "FlowType",
    "FlowId",
    "FlowErrorReason",
    "FlowWarningReason",
    "FlowAlternateExecutionId",
    "FlowObjectExecutionId",
    "FlowActionId",
    "FlowActionType",
    "FlowActionOutputPathId",
    "FlowActionOutputPathName",
    "FlowActionIdOutputPathId",
    "FlowActionIdOutputPathName",
    "FlowActionTypeOutputPathId",
    "FlowActionTypeOutputPathName",
    "BotId",
    "BotErrorReason",
    "BotFlowExecutionId",
    "BotObjectExecutionId",
)
_GROUP_FIELDS = frozenset({"and", "or", "not", "criteria"})
# Criterion key -> instance-row field (the keys the simulated rows carry).
_ROW_FIELDS = {
    "FlowId": "flowId",
    "FlowType": "flowType",
    "ConversationId": "conversationId",
    "WorkitemId": "workitemId",
    "FlowStartDateTime": "startDateTime",
    "FlowEndDateTime": "endDateTime",
    "FlowErrorReason": "flowErrorReason",
    "FlowWarningReason": "flowWarningReason",
}
_DATE_KEYS = {"FlowStartDateTime", "FlowEndDateTime"}
_OPERATORS = {"eq", "gt", "gte", "lt", "lte", "not", "begins", "not_null"}

Predicate = Callable[[dict[str, Any], dict[str, Any]], bool]


def get_settings(request: Request) -> Response:
    return Response(body={"enabled": request.state.org.execution_data_enabled})


def patch_settings(request: Request) -> Response:
    body = request.json()
    if not isinstance(body, dict) or not isinstance(body.get("enabled"), bool):
        raise bad_request('The body must be {"enabled": true|false}.')
    request.state.org.execution_data_enabled = body["enabled"]
    return Response(body={"enabled": body["enabled"]})


def _action_ids(document: dict[str, Any]) -> set[str]:
    events = document.get("flow", {}).get("execution", [])
    return {
        str(payload.get("actionId"))
        for event in events
        for payload in event.values()
        if isinstance(payload, dict)
    }


def _group(raw: Any) -> Predicate:
    """One CriteriaGroup: `and` / `or` / `not` lists and/or a single `criteria` item (all given
    forms must hold). Only the model's fields: anything else is refused, as the real API does."""
    if not isinstance(raw, dict):
        raise bad_request("Each query entry must be a criteria group object.")
    unknown = sorted(set(raw) - _GROUP_FIELDS)
    if unknown:
        raise bad_request(f"Unrecognized field [{unknown[0]}] in a criteria group.", field=unknown[0])
    parts: list[Predicate] = []
    for group in ("and", "or", "not"):
        if group not in raw:
            continue
        members = raw[group]
        if not isinstance(members, list) or not members:
            raise bad_request(f"'{group}' must be a non-empty list of criteria.")
        items = [_criterion(member) for member in members]
        if group == "and":
            parts.append(lambda row, doc, items=items: all(p(row, doc) for p in items))
        elif group == "or":
            parts.append(lambda row, doc, items=items: any(p(row, doc) for p in items))
        else:
            parts.append(lambda row, doc, items=items: not any(p(row, doc) for p in items))
    if "criteria" in raw:
        parts.append(_criterion(raw["criteria"]))
    if not parts:
        raise bad_request("A criteria group needs 'and', 'or', 'not' or 'criteria'.")
    return lambda row, doc: all(p(row, doc) for p in parts)


def _criterion(raw: Any) -> Predicate:
    """One CriteriaItem {key, operator, value}: key and operator from the model's enums."""
    if not isinstance(raw, dict):
        raise bad_request("Each query criterion must be an object.")
    unknown = sorted(set(raw) - {"key", "operator", "value"})
    if unknown:
        raise bad_request(f"Unrecognized field [{unknown[0]}] in a criterion.", field=unknown[0])
    key, operator, value = raw.get("key"), raw.get("operator", "eq"), raw.get("value")
    if key not in CRITERIA_KEYS:
        raise bad_request(
            f"Value [{key}] is not valid for field type [key]. "
            f"Allowable values are: {', '.join(CRITERIA_KEYS)}",
            key=key,
        )
    if operator not in _OPERATORS:
        raise bad_request(f"Unknown query operator [{operator}].", operator=operator)
    if operator != "not_null" and not isinstance(value, str):
        raise bad_request(f"Query key [{key}] with operator [{operator}] needs a string value.")
    if key == "FlowActionId":
        return lambda row, doc: (value in _action_ids(doc)) != (operator == "not")
    field = _ROW_FIELDS.get(key)  # keys the rows do not carry match nothing (but `not`)
    is_date = key in _DATE_KEYS
    try:
        wanted: Any = parse_iso(value) if is_date and isinstance(value, str) else value
    except ValueError:
        raise bad_request(f"Query key [{key}] needs an ISO-8601 date, got [{value}].") from None

    def check(row: dict[str, Any], _doc: dict[str, Any]) -> bool:
        actual = row.get(field) if field else None
        if operator == "not_null":
            return actual is not None
        if actual is None:
            return operator == "not"
        if is_date:
            actual = parse_iso(actual)
        elif isinstance(actual, str) and key == "FlowType":
            actual, compare = actual.lower(), str(wanted).lower()
            return {"eq": actual == compare, "not": actual != compare}.get(operator, False)
        if operator == "eq":
            return bool(actual == wanted)
        if operator == "not":
            return bool(actual != wanted)
        if operator == "begins":
            return str(actual).startswith(str(wanted))
        return {
            "gt": actual > wanted,
            "gte": actual >= wanted,
            "lt": actual < wanted,
            "lte": actual <= wanted,
        }[operator]

    return check


def query_instances(request: Request) -> Response:
    """CriteriaQuery {query: [CriteriaGroup]} (groups AND-ed); `pageSize` only (default 50, max
    200): the real operation has no `pageNumber`, so deeper results need narrower criteria."""
    if "pageNumber" in request.query:
        raise bad_request("Unrecognized query parameter [pageNumber].", parameter="pageNumber")
    body = request.json()
    if not isinstance(body, dict):
        raise bad_request('The body must be {"query": [criteria groups...]}.')
    unknown = sorted(set(body) - {"query"})
    if unknown:
        raise bad_request(f"Unrecognized field [{unknown[0]}].", field=unknown[0])
    groups = body.get("query", [])
    if not isinstance(groups, list):
        raise bad_request('The body must be {"query": [criteria groups...]}.')
    predicates = [_group(g) for g in groups]
    org = request.state.org
    rows = [
        row
        for instance_id, row in sorted(org.flow_instances.items())
        if all(p(row, org.flow_instance_documents.get(instance_id, {})) for p in predicates)
    ]
    page_size = request.int_arg("pageSize", QUERY_DEFAULT_PAGE_SIZE, maximum=QUERY_MAX_PAGE_SIZE)
    return Response(body={"entities": rows[:page_size], "pageSize": page_size, "total": len(rows)})


def create_job(request: Request) -> Response:
    state = request.state
    body = request.json()
    ids = body.get("ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise bad_request('The body must be {"ids": [instance ids...]} with at least one id.')
    if len(ids) > JOB_MAX_IDS:
        raise bad_request(f"At most {JOB_MAX_IDS} instance ids per job.", max=JOB_MAX_IDS)
    entities = []
    for instance_id in dict.fromkeys(ids):
        document = state.org.flow_instance_documents.get(instance_id)
        if document is None:
            entities.append(ExecutionJobEntity(instance_id, True, 404, None))
        elif state.random().random() < state.faults.download_fail_rate:
            entities.append(ExecutionJobEntity(instance_id, True, 500, None))
        else:
            entities.append(
                ExecutionJobEntity(instance_id, False, 200, state.new_download("execution", document))
            )
    job = ExecutionJob(new_id(), state.now(), entities)
    state.execution_jobs[job.id] = job
    return Response(
        status=202,
        body={"id": job.id, "jobState": "Registered", "selfUri": f"/api/v2/flows/instances/jobs/{job.id}"},
    )


def get_job(request: Request) -> Response:
    state = request.state
    job = state.execution_jobs.get(request.path_params["jobId"])
    if job is None:
        raise not_found(f"Unable to find execution data job {request.path_params['jobId']}.")
    elapsed = state.now() - job.created_at
    if elapsed < EXECUTION_JOB_SECONDS:
        return Response(
            body={"id": job.id, "jobState": phase_at(EXECUTION_JOB_PHASES, elapsed), "entities": []}
        )
    all_failed = all(e.failed for e in job.entities)
    entities = [
        compact(
            {
                "id": e.instance_id,
                "downloadUri": f"{request.base_url}/__sim/downloads/{e.download_token}"
                if e.download_token
                else None,
                "failed": e.failed,
                "statusCode": str(e.status_code),  # a string in the SDK model ("404")
            }
        )
        for e in job.entities
    ]
    return Response(
        body={"id": job.id, "jobState": "Failed" if all_failed else "Success", "entities": entities}
    )


ROUTES = [
    Route("GET", "/api/v2/flows/instances/settings/executiondata", get_settings),
    Route("PATCH", "/api/v2/flows/instances/settings/executiondata", patch_settings),
    Route("POST", "/api/v2/flows/instances/query", query_instances),
    Route("POST", "/api/v2/flows/instances/jobs", create_job),
    Route("GET", "/api/v2/flows/instances/jobs/{jobId}", get_job),
]
