"""Looking up the objects a flow names (queues, prompts, data actions, ...) by name, each through
its own API, as Architect resolves them when it publishes.

Every endpoint, parameter and response shape below is the one the Genesys SDK documents
(platform-client-sdk-python 257, build/docs/*Api.md); the permission each needs is noted
because a missing one is a 403, not an absent object:

| object type | call | name filter | permission |
| --- | --- | --- | --- |
| QUEUE | GET /api/v2/routing/queues | `name` (exact, `*` wildcards) | routing:queue:view |
| ACDSKILL | GET /api/v2/routing/skills | `name` (prefix) | routing:skill:view |
| ACDLANGUAGE | GET /api/v2/routing/languages | `name` | (none listed) |
| ACDWRAPUPCODE | GET /api/v2/routing/wrapupcodes | `name` | routing:wrapupCode:view |
| DATAACTION | GET /api/v2/integrations/actions | `category` (the integration) | integrations:action:view |
| USERPROMPT | GET /api/v2/architect/prompts | `name` (multi: one call for many) | architect:userPrompt:view |
| SYSTEMPROMPT | GET /api/v2/architect/systemprompts | `name` | architect:systemPrompt:view |
| SCHEDULE | GET /api/v2/architect/schedules | `name` | routing:schedule:view |
| SCHEDULEGROUP | GET /api/v2/architect/schedulegroups | `name` | routing:scheduleGroup:view |
| EMERGENCYGROUP | GET /api/v2/architect/emergencygroups | `name` | routing:emergencyGroup:view |
| DATATABLE | GET /api/v2/flows/datatables | `name` (case-insensitive, `*`) | architect:datatable:view |
| KNOWLEDGEBASE | GET /api/v2/knowledge/knowledgebases | `name`, cursor | knowledge:knowledgebase:view |
| CONTACTLIST | GET /api/v2/outbound/contactlists | `name` (prefix) | outbound:contactList:view |
| COMPOSERSCRIPT | GET /api/v2/scripts | `name` | scripter:script:view |
| USER | POST /api/v2/users/search | EXACT on `name` | directory:user:view |
| GROUP | POST /api/v2/groups/search | EXACT on `name` | (none) |
| WORKTYPE | POST /api/v2/taskmanagement/worktypes/query | `name` EQ | workitems:worktype:view |

Name filters differ per endpoint (exact, prefix, case-insensitive, wildcard), so these calls
return CANDIDATES; deciding which candidate is "the" object (exact name) is the caller's job.
Flows are looked up with `GET /api/v2/flows?name=&type=` (client.list_flows_page).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import Field

from flowops.genesys.errors import GenesysError
from flowops.genesys.models import GenesysModel

if TYPE_CHECKING:
    import requests

# Name filters narrow a listing to a handful of entries; this only stops a server that keeps
# announcing pages (or an integration with tens of thousands of actions) from running forever.
MAX_LOOKUP_PAGES = 20
LOOKUP_PAGE_SIZE = 100

LookupStyle = Literal["page", "cursor", "search", "query"]


@dataclass(frozen=True)
class ObjectEndpoint:
    method: str
    path: str
    style: LookupStyle
    permission: str = ""
    name_param: str = "name"
    extra: Mapping[str, Any] = field(default_factory=dict)


OBJECT_ENDPOINTS: dict[str, ObjectEndpoint] = {
    "QUEUE": ObjectEndpoint("GET", "/api/v2/routing/queues", "page", "routing:queue:view"),
    "ACDSKILL": ObjectEndpoint("GET", "/api/v2/routing/skills", "page", "routing:skill:view"),
    "ACDLANGUAGE": ObjectEndpoint("GET", "/api/v2/routing/languages", "page"),
    "ACDWRAPUPCODE": ObjectEndpoint("GET", "/api/v2/routing/wrapupcodes", "page", "routing:wrapupCode:view"),
    "DATAACTION": ObjectEndpoint(
        "GET", "/api/v2/integrations/actions", "page", "integrations:action:view", name_param="category"
    ),
    "USERPROMPT": ObjectEndpoint(
        "GET",
        "/api/v2/architect/prompts",
        "page",
        "architect:userPrompt:view",
        extra={"includeMediaUris": "false", "includeResources": "false"},
    ),
    "SYSTEMPROMPT": ObjectEndpoint(
        "GET",
        "/api/v2/architect/systemprompts",
        "page",
        "architect:systemPrompt:view",
        extra={"includeMediaUris": "false", "includeResources": "false"},
    ),
    "SCHEDULE": ObjectEndpoint("GET", "/api/v2/architect/schedules", "page", "routing:schedule:view"),
    "SCHEDULEGROUP": ObjectEndpoint(
        "GET", "/api/v2/architect/schedulegroups", "page", "routing:scheduleGroup:view"
    ),
    "EMERGENCYGROUP": ObjectEndpoint(
        "GET", "/api/v2/architect/emergencygroups", "page", "routing:emergencyGroup:view"
    ),
    "DATATABLE": ObjectEndpoint("GET", "/api/v2/flows/datatables", "page", "architect:datatable:view"),
    "KNOWLEDGEBASE": ObjectEndpoint(
        "GET", "/api/v2/knowledge/knowledgebases", "cursor", "knowledge:knowledgebase:view"
    ),
    "CONTACTLIST": ObjectEndpoint(
        "GET", "/api/v2/outbound/contactlists", "page", "outbound:contactList:view"
    ),
    "COMPOSERSCRIPT": ObjectEndpoint("GET", "/api/v2/scripts", "page", "scripter:script:view"),
    "USER": ObjectEndpoint("POST", "/api/v2/users/search", "search", "directory:user:view"),
    "GROUP": ObjectEndpoint("POST", "/api/v2/groups/search", "search"),
    "WORKTYPE": ObjectEndpoint(
        "POST", "/api/v2/taskmanagement/worktypes/query", "query", "workitems:worktype:view"
    ),
}
# `SCRIPT` is what older dependency-tracking data calls a Composer script.
OBJECT_ENDPOINTS["SCRIPT"] = OBJECT_ENDPOINTS["COMPOSERSCRIPT"]


class NamedObject(GenesysModel):
    """The fields every one of these listings shares: id and name. Data actions add their
    `category` (the integration Architect files them under); users and some others a state."""

    id: str
    name: str | None = None
    category: str | None = None
    state: str | None = None
    self_uri: str | None = None


class _Listing(GenesysModel):
    """Paged (`entities`, `pageCount`), cursor (`entities`, `nextUri`) or search (`results`)."""

    entities: list[NamedObject] = Field(default_factory=list)
    results: list[NamedObject] = Field(default_factory=list)
    page_number: int | None = None
    page_count: int | None = None
    page_size: int | None = None
    next_uri: str | None = None
    after: str | None = None


def lookup_supported(object_type: str) -> bool:
    return object_type.upper() in OBJECT_ENDPOINTS


def lookup_permission(object_type: str) -> str:
    return OBJECT_ENDPOINTS[object_type.upper()].permission


class OrgObjectsMixin:
    """Name lookups of org objects; mixed into `GenesysClient` (which provides `_api_request`)."""

    if TYPE_CHECKING:

        def _api_request(
            self,
            method: str,
            path_template: str,
            *,
            path_params: Mapping[str, str] | None = None,
            params: Mapping[str, Any] | None = None,
            json_body: Any = None,
            flow_id: str | None = None,
        ) -> requests.Response: ...

    def find_objects_named(self, object_type: str, names: Sequence[str]) -> list[NamedObject]:
        """Candidates for objects of `object_type` called `names` (for DATAACTION: the actions
        of the integrations called `names`). Raises KeyError for a type without a lookup API,
        GenesysError (ForbiddenError for a missing permission) from the call."""
        endpoint = OBJECT_ENDPOINTS[object_type.upper()]
        if endpoint.style == "page" and object_type.upper() == "USERPROMPT":
            # `name` is a multi-value parameter here: one call answers for every prompt.
            return self._paged(endpoint, {"name": list(names)})
        found: list[NamedObject] = []
        for name in dict.fromkeys(names):
            if endpoint.style == "page":
                found.extend(self._paged(endpoint, {endpoint.name_param: name}))
            elif endpoint.style == "cursor":
                found.extend(self._cursor(endpoint, name))
            elif endpoint.style == "search":
                found.extend(self._search(endpoint, name))
            else:
                found.extend(self._query(endpoint, name))
        return found

    # ---- listing styles -------------------------------------------------------------------

    def _listing(self, endpoint: ObjectEndpoint, **kwargs: Any) -> _Listing:
        response = self._api_request(endpoint.method, endpoint.path, **kwargs)
        operation = f"{endpoint.method} {endpoint.path}"
        try:
            return _Listing.model_validate(response.json())
        except ValueError as error:
            raise GenesysError(f"{operation} answered a document flowops cannot read: {error}") from None

    def _paged(self, endpoint: ObjectEndpoint, filters: Mapping[str, Any]) -> list[NamedObject]:
        found: list[NamedObject] = []
        for page_number in range(1, MAX_LOOKUP_PAGES + 1):
            params = {**endpoint.extra, **filters, "pageNumber": page_number, "pageSize": LOOKUP_PAGE_SIZE}
            page = self._listing(endpoint, params=params)
            found.extend(page.entities)
            if not page.entities or page.page_count is None or page_number >= page.page_count:
                return found
        raise GenesysError(f"{endpoint.path} still announced more pages after {MAX_LOOKUP_PAGES} pages")

    def _cursor(self, endpoint: ObjectEndpoint, name: str) -> list[NamedObject]:
        found: list[NamedObject] = []
        after: str | None = None
        for _ in range(MAX_LOOKUP_PAGES):
            params = {"name": name, "pageSize": str(LOOKUP_PAGE_SIZE), "after": after}
            page = self._listing(endpoint, params=params)
            found.extend(page.entities)
            after = _after_cursor(page)
            if not page.entities or after is None:
                return found
        raise GenesysError(f"{endpoint.path} still announced more pages after {MAX_LOOKUP_PAGES} pages")

    def _search(self, endpoint: ObjectEndpoint, name: str) -> list[NamedObject]:
        found: list[NamedObject] = []
        for page_number in range(1, MAX_LOOKUP_PAGES + 1):
            body = {
                "pageSize": LOOKUP_PAGE_SIZE,
                "pageNumber": page_number,
                "query": [{"type": "EXACT", "fields": ["name"], "value": name}],
            }
            page = self._listing(endpoint, json_body=body)
            found.extend(page.results)
            if not page.results or page.page_count is None or page_number >= page.page_count:
                return found
        raise GenesysError(f"{endpoint.path} still announced more pages after {MAX_LOOKUP_PAGES} pages")

    def _query(self, endpoint: ObjectEndpoint, name: str) -> list[NamedObject]:
        found: list[NamedObject] = []
        after: str | None = None
        for _ in range(MAX_LOOKUP_PAGES):
            body: dict[str, Any] = {
                "pageSize": LOOKUP_PAGE_SIZE,
                "filters": [{"name": "name", "type": "String", "operator": "EQ", "value": name}],
            }
            if after:
                body["after"] = after
            page = self._listing(endpoint, json_body=body)
            found.extend(page.entities)
            after = page.after
            if not page.entities or not after:
                return found
        raise GenesysError(f"{endpoint.path} still announced more pages after {MAX_LOOKUP_PAGES} pages")


def _after_cursor(page: _Listing) -> str | None:
    if page.after:
        return page.after
    if not page.next_uri:
        return None
    values = parse_qs(urlsplit(page.next_uri).query).get("after")
    return values[0] if values else None
