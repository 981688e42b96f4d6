"""/api/v2/integrations/actions: the data actions flows call (deleted ones are gone: 404)."""

from __future__ import annotations

from typing import Any

from flowops.local.simulator.model import OrgObject
from flowops.local.simulator.web import Request, Response, Route, bad_request, not_found, paged

MAX_IDS = 50
DEFAULT_CATEGORY = "Web Services Data Actions"


def _action_json(action: OrgObject) -> dict[str, Any]:
    return {
        "id": action.id,
        "name": action.name,
        "category": action.category or DEFAULT_CATEGORY,
        "integrationId": f"integration-{(action.category or 'web').lower().replace(' ', '-')}",
        "secure": False,
        "version": action.version,
        "selfUri": f"/api/v2/integrations/actions/{action.id}",
    }


def _live_actions(request: Request) -> list[OrgObject]:
    return [o for o in request.state.org.objects.values() if o.object_type == "DATAACTION" and not o.deleted]


def list_actions(request: Request) -> Response:
    ids = set(request.args("ids"))
    if len(ids) > MAX_IDS:
        raise bad_request(f"At most {MAX_IDS} ids may be requested at once.", max=MAX_IDS)
    name = (request.arg("name") or "").lower()
    category = request.arg("category")
    actions = sorted(
        (
            a
            for a in _live_actions(request)
            if (not ids or a.id in ids)
            and (not name or name in a.name.lower())
            and (category is None or (a.category or DEFAULT_CATEGORY).lower() == category.lower())
        ),
        key=lambda a: a.name.lower(),
    )
    envelope = paged(request, actions)
    envelope["entities"] = [_action_json(a) for a in envelope["entities"]]
    return Response(body=envelope)


def _action(request: Request) -> OrgObject:
    action = request.state.org.objects.get(request.path_params["actionId"])
    if action is None or action.object_type != "DATAACTION" or action.deleted:
        raise not_found(f"Unable to find action with id {request.path_params['actionId']}.")
    return action


def get_action(request: Request) -> Response:
    return Response(body=_action_json(_action(request)))


def get_draft(request: Request) -> Response:
    action = _action(request)
    return Response(
        body={**_action_json(action), "selfUri": f"/api/v2/integrations/actions/{action.id}/draft"}
    )


def get_draft_validation(request: Request) -> Response:
    _action(request)
    return Response(body={"valid": True, "errors": []})


ROUTES = [
    Route("GET", "/api/v2/integrations/actions", list_actions),
    Route("GET", "/api/v2/integrations/actions/{actionId}", get_action),
    Route("GET", "/api/v2/integrations/actions/{actionId}/draft", get_draft),
    Route("GET", "/api/v2/integrations/actions/{actionId}/draft/validation", get_draft_validation),
]
