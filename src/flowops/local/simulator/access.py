"""OAuth clients, their role's permissions and divisions, and the 403s Genesys answers.

A real org's OAuth client (client credentials) acts with ONE role granted in SOME divisions:
- every API operation requires permissions (the SDK documents "Requires ANY permissions" or
  "Requires ALL permissions" per operation; the simulator's routes carry the same lists);
  without them the answer is 403 with the real body: code `missing.any.permissions` ("You must
  have at least one of the following permissions assigned: [a, b]") or `missing.permissions`
  ("You are missing the following permission(s): a");
- objects live in divisions. A flow outside the client's divisions is INVISIBLE in listings
  (`GET /api/v2/flows` simply does not return it: no error, not counted in `total`), and a
  direct read of it (`GET /api/v2/flows/{id}`, its versions, actions, exports, dependency
  tracking of it) answers 403 naming the permission, as the permission is held in other
  divisions only. (The 403 body for the division case is modelled on the permission 403; the
  exact real wording is not public.)

The simulator's own client (`SimulatorServer(client_id=..., client_secret=...)`) holds every
permission in every division; org files add limited clients (`oauthClients`, docs/simulator.md).
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass

from flowops.local.simulator.web import ApiError, Route

HOME_DIVISION_ID = "home-division"
HOME_DIVISION_NAME = "Home"


@dataclass(slots=True, frozen=True)
class Division:
    id: str
    name: str


@dataclass(slots=True, frozen=True)
class OAuthClient:
    """A client-credentials OAuth client: its role's permissions and divisions (None = all)."""

    client_id: str
    client_secret: str
    name: str
    permissions: frozenset[str] | None = None
    divisions: frozenset[str] | None = None

    def __repr__(self) -> str:  # never the secret
        return f"OAuthClient({self.client_id!r}, {self.name!r})"

    def has(self, permission: str) -> bool:
        """Role permissions may use `*` per segment (`architect:flow:*`, `architect:*:view`)."""
        if self.permissions is None:
            return True
        wanted = permission.lower()
        return any(fnmatch.fnmatchcase(wanted, granted.lower()) for granted in self.permissions)

    def sees(self, division_id: str) -> bool:
        return self.divisions is None or division_id in self.divisions


# "METHOD /path" -> (requires, permissions), as each operation's "Requires ANY/ALL permissions"
# reads in the SDK docs (platform-client-sdk-python build/docs/*Api.md). Kept apart from
# flowops' own table on purpose: the simulator models Genesys, not the client.
_FLOW_VIEW = ("architect:flow:view",)
_DEPENDENCY_VIEW = ("architect:dependencyTracking:view",)
_ACTION_VIEW = ("integrations:action:view", "bridge:actions:view")
_TRACKING = "/api/v2/architect/dependencytracking"
SDK_PERMISSIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "GET /api/v2/flows": ("any", _FLOW_VIEW),
    "GET /api/v2/flows/{flowId}": ("any", _FLOW_VIEW),
    "DELETE /api/v2/flows/{flowId}": ("any", ("architect:flow:delete",)),
    "GET /api/v2/flows/{flowId}/versions": ("any", _FLOW_VIEW),
    "GET /api/v2/flows/{flowId}/versions/{versionId}": ("any", _FLOW_VIEW),
    "GET /api/v2/flows/{flowId}/versions/{versionId}/configuration": ("any", _FLOW_VIEW),
    "GET /api/v2/flows/{flowId}/latestconfiguration": ("any", _FLOW_VIEW),
    "POST /api/v2/flows/actions/publish": ("any", ("architect:flow:unlock", "architect:flow:publish")),
    "POST /api/v2/flows/actions/checkin": ("any", ("architect:flow:edit", "architect:flow:unlock")),
    "POST /api/v2/flows/actions/checkout": ("any", ("architect:flow:edit",)),
    "POST /api/v2/flows/actions/revert": ("any", ("architect:flow:edit",)),
    "POST /api/v2/flows/actions/deactivate": ("any", ("architect:flow:publish",)),
    "POST /api/v2/flows/actions/unlock": ("any", ("architect:flow:unlock",)),
    "POST /api/v2/flows/jobs": ("all", ("architect:job:create",)),
    "GET /api/v2/flows/jobs/{jobId}": ("all", ("architect:job:view",)),
    "POST /api/v2/flows/export/jobs": ("all", ("architect:jobExport:create",)),
    "GET /api/v2/flows/export/jobs/{jobId}": ("all", ("architect:jobExport:view",)),
    # Preview API, absent from the SDK docs checked (257): the names flowops assumes.
    "POST /api/v2/flows/validate/jobs": ("all", ("architect:jobValidate:create",)),
    "GET /api/v2/flows/validate/jobs/{jobId}": ("all", ("architect:jobValidate:view",)),
    f"GET {_TRACKING}/build": ("all", _DEPENDENCY_VIEW),
    f"POST {_TRACKING}/build": ("all", ("architect:dependencyTracking:rebuild",)),
    f"GET {_TRACKING}/consumedresources": ("all", _DEPENDENCY_VIEW),
    f"GET {_TRACKING}/consumingresources": ("all", _DEPENDENCY_VIEW),
    f"GET {_TRACKING}/object": ("all", _DEPENDENCY_VIEW),
    f"GET {_TRACKING}/types": ("all", _DEPENDENCY_VIEW),
    "GET /api/v2/flows/instances/settings/executiondata": (
        "any",
        ("architect:flowinstanceexecutiondata:view",),
    ),
    "PATCH /api/v2/flows/instances/settings/executiondata": (
        "any",
        ("architect:flowinstanceexecutiondata:edit",),
    ),
    "POST /api/v2/flows/instances/query": ("any", ("architect:flowInstance:search",)),
    "POST /api/v2/flows/instances/jobs": ("any", ("architect:flowInstance:view",)),
    "GET /api/v2/flows/instances/jobs/{jobId}": ("any", ("architect:flowInstance:view",)),
    "GET /api/v2/integrations/actions": ("any", _ACTION_VIEW),
    "GET /api/v2/integrations/actions/{actionId}": ("any", _ACTION_VIEW),
    "GET /api/v2/integrations/actions/{actionId}/draft": ("any", _ACTION_VIEW),
    "GET /api/v2/integrations/actions/{actionId}/draft/validation": ("any", ("integrations:action:edit",)),
    "GET /api/v2/downloads/{downloadId}": ("none", ()),
    # Name lookups (api_objects.py).
    "GET /api/v2/routing/queues": ("any", ("routing:queue:view",)),
    "GET /api/v2/routing/skills": ("any", ("routing:skill:view",)),
    "GET /api/v2/routing/languages": ("none", ()),
    "GET /api/v2/routing/wrapupcodes": ("all", ("routing:wrapupCode:view",)),
    "GET /api/v2/architect/prompts": ("all", ("architect:userPrompt:view",)),
    "GET /api/v2/architect/systemprompts": ("all", ("architect:systemPrompt:view",)),
    "GET /api/v2/architect/schedules": ("all", ("routing:schedule:view",)),
    "GET /api/v2/architect/schedulegroups": ("all", ("routing:scheduleGroup:view",)),
    "GET /api/v2/architect/emergencygroups": ("all", ("routing:emergencyGroup:view",)),
    "GET /api/v2/flows/datatables": ("any", ("architect:datatable:view",)),
    "GET /api/v2/outbound/contactlists": ("any", ("outbound:contactList:view",)),
    "GET /api/v2/scripts": ("any", ("scripter:script:view",)),
    "GET /api/v2/knowledge/knowledgebases": ("all", ("knowledge:knowledgebase:view",)),
    "POST /api/v2/users/search": ("any", ("directory:user:view",)),
    "POST /api/v2/groups/search": ("none", ()),
    "POST /api/v2/taskmanagement/worktypes/query": ("all", ("workitems:worktype:view",)),
}


def with_sdk_permissions(route: Route) -> Route:
    """The route carrying the SDK's permission list for its operation (api routes only)."""
    if route.kind != "api":
        return route
    found = SDK_PERMISSIONS.get(f"{route.method} {route.template}")
    if found is None:
        raise ValueError(
            f"api route {route.method} {route.template} has no permission entry: add the SDK's "
            "'Requires ... permissions' for it to SDK_PERMISSIONS in src/flowops/local/simulator/access.py"
        )
    requires, permissions = found
    return dataclasses.replace(route, requires=requires, permissions=permissions)


def permission_error(required: Iterable[str], requires: str, client: OAuthClient) -> ApiError | None:
    """The 403 for a route's permission list, or None when the client may call it."""
    listed = tuple(required)
    if not listed or requires == "none":
        return None
    if requires == "all":
        missing = [permission for permission in listed if not client.has(permission)]
        if not missing:
            return None
        return ApiError(
            403,
            "missing.permissions",
            "Unable to perform the requested action. You are missing the following permission(s): "
            + ", ".join(missing),
        )
    if any(client.has(permission) for permission in listed):
        return None
    return missing_any(listed)


def missing_any(listed: Iterable[str]) -> ApiError:
    return ApiError(
        403,
        "missing.any.permissions",
        "Unable to perform the requested action. You must have at least one of the following "
        f"permissions assigned: [{', '.join(listed)}]",
    )


def require_division(client: OAuthClient | None, division_id: str, required: tuple[str, ...]) -> None:
    """A direct read/write of an object in a division the client's role does not cover: 403."""
    if client is not None and not client.sees(division_id):
        raise missing_any(required or ("architect:flow:view",))


def parse_permissions(raw: object, where: str) -> frozenset[str] | None:
    """`"*"` (everything) or a list of `domain:entity:action` strings."""
    if raw == "*":
        return None
    if not isinstance(raw, list) or not all(isinstance(item, str) and item.count(":") == 2 for item in raw):
        raise ValueError(f'{where}: \'permissions\' must be "*" or a list like ["architect:flow:view"]')
    return frozenset(raw)
