"""JSON shapes of the flows API, built by hand from the org (never from client models)."""

from __future__ import annotations

from typing import Any

from flowops.local.simulator.model import FLOW_OBJECT_TYPES, Flow, FlowVersion, Operation, Principal
from flowops.local.simulator.state import PUBLISH_PHASES, PUBLISH_SECONDS, SimulatorState, phase_at
from flowops.local.simulator.web import compact, epoch_ms, iso

# Where each object type lives in the API (selfUri of dependency-tracking entries).
_SELF_URI_PREFIX = {
    "QUEUE": "/api/v2/routing/queues/",
    "DATAACTION": "/api/v2/integrations/actions/",
    "DATATABLE": "/api/v2/flows/datatables/",
    "USERPROMPT": "/api/v2/architect/prompts/",
    "SYSTEMPROMPT": "/api/v2/architect/systemprompts/",
    "SCHEDULE": "/api/v2/architect/schedules/",
    "SCHEDULEGROUP": "/api/v2/architect/schedulegroups/",
    "ACDSKILL": "/api/v2/routing/skills/",
    "ACDLANGUAGE": "/api/v2/routing/languages/",
    "ACDWRAPUPCODE": "/api/v2/routing/wrapupcodes/",
    "EMERGENCYGROUP": "/api/v2/architect/emergencygroups/",
    "GROUP": "/api/v2/groups/",
    "USER": "/api/v2/users/",
    "IVRCONFIGURATION": "/api/v2/architect/ivrs/",
    "CONTACTLIST": "/api/v2/outbound/contactlists/",
}


def self_uri(entity_id: str, object_type: str) -> str:
    if object_type in FLOW_OBJECT_TYPES:
        return f"/api/v2/flows/{entity_id}"
    return _SELF_URI_PREFIX.get(object_type, "/api/v2/architect/dependencytracking/object?id=") + entity_id


def user_ref(principal: Principal) -> dict[str, Any] | None:
    if not principal.user_id:
        return None
    return {
        "id": principal.user_id,
        "name": principal.user_name,
        "selfUri": f"/api/v2/users/{principal.user_id}",
    }


def client_ref(principal: Principal) -> dict[str, Any]:
    return {
        "id": principal.client_id,
        "name": principal.client_name,
        "selfUri": f"/api/v2/oauth/clients/{principal.client_id}",
    }


def version_json(flow: Flow, version: FlowVersion) -> dict[str, Any]:
    published = flow.published_version_id == version.version_id
    return compact(
        {
            "id": version.version_id,
            "name": flow.name,
            "commitVersion": version.version_id,
            "configurationVersion": version.version_id,
            "type": version.version_type,
            "secure": version.secure,
            "debug": False,
            "createdBy": user_ref(version.created_by),
            "createdByClient": client_ref(version.created_by),
            "configurationUri": f"/api/v2/flows/{flow.id}/versions/{version.version_id}/configuration",
            # As the SDK's FlowVersion has them: dateCreated/CheckedIn/Saved are epoch milliseconds
            # (int64), datePublished is an ISO date-time string (an epoch number crashes the SDK).
            "dateCreated": epoch_ms(version.created_at),
            "dateCheckedIn": epoch_ms(version.created_at) if version.version_type != "SAVE" else None,
            "dateSaved": epoch_ms(version.created_at) if version.version_type == "SAVE" else None,
            "datePublished": iso(version.created_at) if version.version_type == "PUBLISH" else None,
            "generationId": f"{flow.id[:8]}-{version.version_id}",
            "publishResultUri": f"/api/v2/flows/{flow.id}/versions/{version.version_id}"
            if published
            else None,
            "selfUri": f"/api/v2/flows/{flow.id}/versions/{version.version_id}",
        }
    )


def operation_json(state: SimulatorState, operation: Operation) -> dict[str, Any]:
    elapsed = state.now() - operation.started_at
    complete = elapsed >= PUBLISH_SECONDS
    if complete:
        status = "SUCCESS" if operation.succeeds else "FAILURE"
    else:
        status = phase_at(PUBLISH_PHASES, elapsed)
    failed = complete and not operation.succeeds
    return compact(
        {
            "id": operation.id,
            "complete": complete,
            "user": user_ref(operation.principal),
            "client": client_ref(operation.principal),
            "errorMessage": operation.error_message if failed else None,
            "errorCode": "flow.publish.failed" if failed else None,
            "errorDetails": [
                {"errorCode": "flow.publish.failed", "fieldName": "flow", "entityId": operation.flow_id}
            ]
            if failed
            else None,
            "errorMessageParams": {"flowId": operation.flow_id} if failed else None,
            "actionName": operation.action_name,
            "actionStatus": status,
        }
    )


def flow_json(state: SimulatorState, flow: Flow) -> dict[str, Any]:
    org = state.org
    holder = state.lock_holder(flow.id)

    def version(version_id: str | None) -> dict[str, Any] | None:
        if version_id is None or version_id not in flow.versions:
            return None
        return version_json(flow, flow.versions[version_id])

    return compact(
        {
            "id": flow.id,
            "name": flow.name,
            "division": {
                "id": flow.division_id,
                "name": org.division(flow.division_id).name,
                "selfUri": f"/api/v2/authorization/divisions/{flow.division_id}",
            },
            "description": flow.description,
            "type": flow.flow_type,
            "lockedUser": user_ref(holder) if holder else None,
            "lockedClient": client_ref(holder) if holder else None,
            "active": flow.active,
            "system": flow.system,
            "deleted": flow.deleted,
            "publishedVersion": version(flow.published_version_id),
            "savedVersion": version(flow.saved_version_id),
            "checkedInVersion": version(flow.checked_in_version_id),
            "publishedBy": user_ref(flow.published_by) if flow.published_by else None,
            "currentOperation": operation_json(state, flow.current_operation)
            if flow.current_operation
            else None,
            "supportedLanguages": [{"language": "en-us", "isDefault": True}],
            "selfUri": f"/api/v2/flows/{flow.id}",
        }
    )


def job_message_json(message: Any) -> dict[str, Any]:
    """ArchitectJobMessage. Its `details` are HTTP-call details (ArchitectJobMessageDetail) the
    simulator has none of; what the simulator knows about a message (flow name, ids) stays
    internal rather than be sent in a shape the real model does not have."""
    return {"dateTime": iso(message.at), "type": message.type, "text": message.text}
