"""The org objects flows name, served by their own APIs: queues, skills, languages, wrap-up codes,
prompts, schedules, schedule groups, emergency groups, data tables, knowledge bases, contact
lists, scripts, users, groups and worktypes (data actions live in api_integrations).

Each listing filters by name the way the SDK documents its `name` parameter: exact (with `*`
wildcards at either end) for queues; `*` anywhere, case-insensitive, for data tables; prefix for
skills; partial for data actions. Where the SDK doc only says "Name" (languages, wrap-up codes,
prompts, schedules, schedule groups, emergency groups, contact lists, scripts, knowledge bases)
the matching here (exact, prefix or contains) is UNVERIFIED, as is case-insensitivity outside
data tables: a client wanting Architect's exact match has to compare names itself anyway.
Deleted objects are not listed.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from flowops.local.simulator.model import OrgObject
from flowops.local.simulator.web import Request, Response, Route, bad_request, paged

# System prompts ship with every org. Real orgs have a few hundred; these are the ones public
# flows use, plus the generic ones Architect's own templates play. An org file can add more
# (objects of type SYSTEMPROMPT).
BUILTIN_SYSTEM_PROMPTS: tuple[str, ...] = (
    "on_hold_music",
    "processing",
    "welcome",
    "goodbye",
    "please_hold",
    "transferring",
    "thank_you",
    "invalid_entry",
    "no_input",
    "try_again",
    "closed",
    "holiday",
    "emergency",
    "voicemail_greeting",
)

Matcher = Callable[[str, str], bool]


def _exact(pattern: str, name: str) -> bool:
    if pattern.startswith("*") or pattern.endswith("*"):
        return fnmatch.fnmatchcase(name.lower(), pattern.lower())
    return name.lower() == pattern.lower()


def _wildcard(pattern: str, name: str) -> bool:
    """`*` anywhere in the pattern, case-insensitive (the SDK's doc of `get_flows_datatables`).
    Only `*` is special: `?` and `[` are literal characters in a real name."""
    parts = pattern.lower().split("*")
    lowered = name.lower()
    if len(parts) == 1:
        return lowered == parts[0]
    if not (lowered.startswith(parts[0]) and lowered.endswith(parts[-1])):
        return False
    position = len(parts[0])
    end = len(lowered) - len(parts[-1])
    for part in parts[1:-1]:
        found = lowered.find(part, position, end)
        if found < 0:
            return False
        position = found + len(part)
    return position <= end


def _prefix(pattern: str, name: str) -> bool:
    return name.lower().startswith(pattern.lower())


def _contains(pattern: str, name: str) -> bool:
    return pattern.lower() in name.lower()


def _objects(request: Request, object_type: str) -> list[OrgObject]:
    return sorted(
        (o for o in request.state.org.objects.values() if o.object_type == object_type and not o.deleted),
        key=lambda o: o.name.lower(),
    )


def _entity(obj: OrgObject, self_path: str) -> dict[str, Any]:
    return {"id": obj.id, "name": obj.name, "selfUri": f"{self_path}/{obj.id}"}


def _paged_listing(
    path: str, object_type: str, matcher: Matcher, *, multi: bool = False, max_size: int = 500
) -> Route:
    def handler(request: Request) -> Response:
        patterns = request.args("name") if multi else [p for p in [request.arg("name")] if p]
        items = [
            o
            for o in _objects(request, object_type)
            if not patterns or any(matcher(pattern, o.name) for pattern in patterns)
        ]
        envelope = paged(request, items, max_size=max_size)
        envelope["entities"] = [_entity(o, path) for o in envelope["entities"]]
        return Response(body=envelope)

    return Route("GET", path, handler)


def _system_prompts(request: Request) -> Response:
    path = "/api/v2/architect/systemprompts"
    pattern = request.arg("name")
    org_defined = {o.name: o.id for o in _objects(request, "SYSTEMPROMPT")}
    # A system prompt's id is its name (`GET /api/v2/architect/systemprompts/on_hold_music`).
    names = sorted({*BUILTIN_SYSTEM_PROMPTS, *org_defined}, key=str.lower)
    entities = [
        {"id": org_defined.get(name, name), "name": name, "selfUri": f"{path}/{org_defined.get(name, name)}"}
        for name in names
        if not pattern or _exact(pattern, name)
    ]
    envelope = paged(request, entities, max_size=500)
    return Response(body=envelope)


def _knowledge_bases(request: Request) -> Response:
    """Cursor paging (`after`, `pageSize` up to 100), as the knowledge API does."""
    path = "/api/v2/knowledge/knowledgebases"
    size = request.int_arg("pageSize", 25, maximum=100)
    pattern = request.arg("name")
    items = [o for o in _objects(request, "KNOWLEDGEBASE") if not pattern or _contains(pattern, o.name)]
    start = 0
    after = request.arg("after")
    if after:
        ids = [o.id for o in items]
        if after not in ids:
            raise bad_request(f"Invalid cursor [{after}].", parameter="after")
        start = ids.index(after) + 1
    window = items[start : start + size]
    body: dict[str, Any] = {"entities": [_entity(o, path) for o in window], "selfUri": path}
    if start + size < len(items) and window:
        body["nextUri"] = f"{path}?pageSize={size}&after={window[-1].id}"
    return Response(body=body)


def _search(path: str, object_type: str) -> Route:
    """POST .../search with `query: [{type: EXACT, fields: [name], value}]` (users, groups)."""

    def handler(request: Request) -> Response:
        body = request.json()
        criteria = body.get("query") if isinstance(body, dict) else None
        if not isinstance(criteria, list) or not criteria:
            raise bad_request("The search request must have at least one query criterion.")
        items = _objects(request, object_type)
        for criterion in criteria:
            if not isinstance(criterion, dict) or criterion.get("fields") != ["name"]:
                raise bad_request("The simulator searches by name only: fields must be ['name'].")
            value = str(criterion.get("value", ""))
            kind = str(criterion.get("type", "")).upper()
            if kind == "EXACT":
                items = [o for o in items if o.name.lower() == value.lower()]
            elif kind in ("CONTAINS", "TERM"):
                items = [o for o in items if value.lower() in o.name.lower()]
            elif kind == "STARTS_WITH":
                items = [o for o in items if o.name.lower().startswith(value.lower())]
            else:
                raise bad_request(f"Unsupported search type [{kind}].")
        size = int(body.get("pageSize", 25))
        number = int(body.get("pageNumber", 1))
        if not 1 <= size <= 100 or number < 1:
            raise bad_request("pageSize must be between 1 and 100 and pageNumber at least 1.")
        results = items[(number - 1) * size : number * size]
        extra = {"state": "active"} if object_type == "USER" else {}
        return Response(
            body={
                "total": len(items),
                "pageCount": (len(items) + size - 1) // size,
                "pageSize": size,
                "pageNumber": number,
                "types": [object_type.lower() + "s"],
                "results": [{**_entity(o, path.removesuffix("/search")), **extra} for o in results],
            }
        )

    return Route("POST", path, handler)


def _worktypes_query(request: Request) -> Response:
    body = request.json()
    filters = body.get("filters") if isinstance(body, dict) else None
    if not isinstance(filters, list) or not filters:
        raise bad_request("filters is required.")
    items = _objects(request, "WORKTYPE")
    for item in filters:
        if not isinstance(item, dict) or item.get("name") != "name" or item.get("operator") != "EQ":
            raise bad_request("The simulator filters worktypes by name EQ only.")
        items = [o for o in items if o.name == str(item.get("value"))]
    entities = [_entity(o, "/api/v2/taskmanagement/worktypes") for o in items]
    return Response(body={"entities": entities, "count": len(entities)})


ROUTES = [
    _paged_listing("/api/v2/routing/queues", "QUEUE", _exact),
    _paged_listing("/api/v2/routing/skills", "ACDSKILL", _prefix),
    _paged_listing("/api/v2/routing/languages", "ACDLANGUAGE", _prefix),
    _paged_listing("/api/v2/routing/wrapupcodes", "ACDWRAPUPCODE", _prefix),
    _paged_listing("/api/v2/architect/prompts", "USERPROMPT", _exact, multi=True),
    _paged_listing("/api/v2/architect/schedules", "SCHEDULE", _exact),
    _paged_listing("/api/v2/architect/schedulegroups", "SCHEDULEGROUP", _exact),
    _paged_listing("/api/v2/architect/emergencygroups", "EMERGENCYGROUP", _exact),
    _paged_listing("/api/v2/flows/datatables", "DATATABLE", _wildcard),
    # The SDK: "Page size. The max that will be returned is 100." Refused above, never clamped:
    # a client asking for more must see it, not silently get a short page.
    _paged_listing("/api/v2/outbound/contactlists", "CONTACTLIST", _prefix, max_size=100),
    _paged_listing("/api/v2/scripts", "COMPOSERSCRIPT", _contains),
    Route("GET", "/api/v2/architect/systemprompts", _system_prompts),
    Route("GET", "/api/v2/knowledge/knowledgebases", _knowledge_bases),
    _search("/api/v2/users/search", "USER"),
    _search("/api/v2/groups/search", "GROUP"),
    Route("POST", "/api/v2/taskmanagement/worktypes/query", _worktypes_query),
]
