"""Loading an org from a JSON file (format documented in docs/simulator.md).

```json
{"flows":   [{"id", "name", "type", "publishedVersion", "division"?, "consumes": [{"id", "type"}],
              "indexed"?: false, "indexError"?: "<errorCode>"}],
 "objects": [{"id", "name", "type", "deleted"?, "category"? (data actions: the integration)}],
 "divisions": [{"id", "name"}]?,
 "oauthClients": [{"clientId", "clientSecret", "name"?, "permissions": [...] | "*",
                   "divisions": [division ids] | "*"}]?}
```
Every problem is reported as ONE `OrgFileError` naming the entry (section, index, id).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flowops.local.simulator.access import HOME_DIVISION_ID, Division, OAuthClient, parse_permissions
from flowops.local.simulator.generator import GENERATED_ORG_EPOCH
from flowops.local.simulator.model import (
    FLOW_OBJECT_TYPES,
    FLOW_TYPES,
    KNOWN_OBJECT_TYPES,
    OBJECT_TYPE_WORDS,
    Dependency,
    Flow,
    FlowVersion,
    Org,
    OrgObject,
)


class OrgFileError(ValueError):
    """A malformed org file; the message names the offending entry and the problem."""


def _entry(section: str, index: int, raw: Any) -> str:
    entry_id = raw.get("id") if isinstance(raw, dict) else None
    return f"{section}[{index}]" + (f" (id {entry_id!r})" if entry_id is not None else "")


def _require_str(section: str, index: int, raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise OrgFileError(f"{_entry(section, index, raw)}: missing or empty string field {key!r}")
    return value


def _version_id(section: str, index: int, raw: dict[str, Any]) -> str:
    value = raw.get("publishedVersion", "1.0")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise OrgFileError(
            f"{_entry(section, index, raw)}: 'publishedVersion' must be a number like 3 or '3.0'"
        )
    try:
        number = int(float(value))
    except ValueError:
        raise OrgFileError(
            f"{_entry(section, index, raw)}: 'publishedVersion' {value!r} is not a version"
        ) from None
    if number < 1:
        raise OrgFileError(f"{_entry(section, index, raw)}: 'publishedVersion' must be at least 1")
    return f"{number}.0"


def parse_org_document(document: Any, *, now: float | None = None) -> Org:
    """Build an org from the parsed JSON document (see module docstring)."""
    if not isinstance(document, dict):
        raise OrgFileError("org file: the top level must be an object with 'flows' and 'objects'")
    raw_flows = document.get("flows", [])
    raw_objects = document.get("objects", [])
    if not isinstance(raw_flows, list) or not isinstance(raw_objects, list):
        raise OrgFileError("org file: 'flows' and 'objects' must be lists")
    anchor = GENERATED_ORG_EPOCH if now is None else now
    org = Org()
    seen: dict[str, str] = {}
    _parse_divisions(document.get("divisions", []), org)

    for index, raw in enumerate(raw_objects):
        if not isinstance(raw, dict):
            raise OrgFileError(f"objects[{index}]: must be an object")
        object_id = _require_str("objects", index, raw, "id")
        name = _require_str("objects", index, raw, "name")
        object_type = _require_str("objects", index, raw, "type")
        if object_id in seen:
            raise OrgFileError(f"{_entry('objects', index, raw)}: duplicate id (also {seen[object_id]})")
        if object_type not in OBJECT_TYPE_WORDS:
            hint = " (flows go in 'flows')" if object_type in FLOW_OBJECT_TYPES else ""
            raise OrgFileError(f"{_entry('objects', index, raw)}: unknown object type {object_type!r}{hint}")
        deleted = raw.get("deleted", False)
        if not isinstance(deleted, bool):
            raise OrgFileError(f"{_entry('objects', index, raw)}: 'deleted' must be true or false")
        category = raw.get("category")
        if category is not None and (object_type != "DATAACTION" or not isinstance(category, str)):
            raise OrgFileError(
                f"{_entry('objects', index, raw)}: 'category' is a data action's integration name (a string)"
            )
        seen[object_id] = f"objects[{index}]"
        org.add_object(
            OrgObject(id=object_id, name=name, object_type=object_type, deleted=deleted, category=category)
        )

    parsed_flows: list[tuple[int, dict[str, Any], Flow, str]] = []
    for index, raw in enumerate(raw_flows):
        if not isinstance(raw, dict):
            raise OrgFileError(f"flows[{index}]: must be an object")
        flow_id = _require_str("flows", index, raw, "id")
        name = _require_str("flows", index, raw, "name")
        flow_type = _require_str("flows", index, raw, "type")
        if flow_id in seen:
            raise OrgFileError(f"{_entry('flows', index, raw)}: duplicate id (also {seen[flow_id]})")
        if flow_type not in FLOW_TYPES:
            raise OrgFileError(
                f"{_entry('flows', index, raw)}: unknown flow type {flow_type!r} (expected one of "
                f"{', '.join(sorted(FLOW_TYPES))})"
            )
        seen[flow_id] = f"flows[{index}]"
        division_id = raw.get("division", HOME_DIVISION_ID)
        if division_id not in org.divisions:
            raise OrgFileError(
                f"{_entry('flows', index, raw)}: unknown division {division_id!r} (declare it in "
                f"'divisions'; known: {', '.join(sorted(org.divisions))})"
            )
        flow = Flow(
            id=flow_id,
            name=name,
            flow_type=flow_type,
            description=str(raw.get("description", "")),
            division_id=division_id,
        )
        indexed = raw.get("indexed", True)
        if not isinstance(indexed, bool):
            raise OrgFileError(f"{_entry('flows', index, raw)}: 'indexed' must be true or false")
        index_error = raw.get("indexError")
        if index_error is not None and (not isinstance(index_error, str) or not index_error.strip()):
            raise OrgFileError(f"{_entry('flows', index, raw)}: 'indexError' must be a non-empty error code")
        flow.indexed, flow.index_error = indexed, index_error
        parsed_flows.append((index, raw, org.add_flow(flow), _version_id("flows", index, raw)))

    published_of = {flow.id: published for _, _, flow, published in parsed_flows}
    for index, raw, flow, published in parsed_flows:
        consumes_raw = raw.get("consumes", [])
        if not isinstance(consumes_raw, list):
            raise OrgFileError(f"{_entry('flows', index, raw)}: 'consumes' must be a list")
        consumes: list[Dependency] = []
        for position, item in enumerate(consumes_raw):
            where = f"{_entry('flows', index, raw)} consumes[{position}]"
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("id"), str)
                or not isinstance(item.get("type"), str)
            ):
                raise OrgFileError(f"{where}: each consumed resource needs string 'id' and 'type'")
            target_id, target_type = item["id"], item["type"]
            if target_type not in KNOWN_OBJECT_TYPES:
                raise OrgFileError(f"{where}: unknown object type {target_type!r}")
            described = org.describe(target_id)
            if described is None:
                raise OrgFileError(
                    f"{where}: dangling reference to {target_type} {target_id!r} (no such flow or object)"
                )
            if described[1] != target_type:
                raise OrgFileError(f"{where}: {target_id!r} is a {described[1]}, not a {target_type}")
            # Published against what is current: a flow's published version, a data action's version.
            snapshot = published_of.get(target_id) or org.current_snapshot(target_id)
            consumes.append(Dependency(target_id, target_type, snapshot))
        # Versions 1..N: every version consumes the same resources (the file describes the
        # published one); the older versions give rollback something to go back to.
        count = int(float(published))
        for number in range(1, count + 1):
            at = anchor - (count - number + 1) * 86_400.0
            org.add_version(
                flow, FlowVersion(f"{number}.0", "PUBLISH", tuple(consumes), at, org.default_principal)
            )
        org.publish_version(flow, published, anchor - 86_400.0, org.default_principal)
    _parse_oauth_clients(document.get("oauthClients", []), org)
    return org


def _parse_divisions(raw_divisions: Any, org: Org) -> None:
    if not isinstance(raw_divisions, list):
        raise OrgFileError("org file: 'divisions' must be a list of {id, name}")
    for index, raw in enumerate(raw_divisions):
        if not isinstance(raw, dict):
            raise OrgFileError(f"divisions[{index}]: must be an object")
        division_id = _require_str("divisions", index, raw, "id")
        name = _require_str("divisions", index, raw, "name")
        if division_id in org.divisions and division_id != HOME_DIVISION_ID:
            raise OrgFileError(f"{_entry('divisions', index, raw)}: duplicate division id")
        org.divisions[division_id] = Division(division_id, name)


def _parse_oauth_clients(raw_clients: Any, org: Org) -> None:
    if not isinstance(raw_clients, list):
        raise OrgFileError("org file: 'oauthClients' must be a list")
    for index, raw in enumerate(raw_clients):
        if not isinstance(raw, dict):
            raise OrgFileError(f"oauthClients[{index}]: must be an object")
        where = f"oauthClients[{index}]"
        client_id = raw.get("clientId")
        secret = raw.get("clientSecret")
        if not isinstance(client_id, str) or not client_id or not isinstance(secret, str) or not secret:
            raise OrgFileError(f"{where}: needs string 'clientId' and 'clientSecret'")
        if client_id in org.oauth_clients:
            raise OrgFileError(f"{where}: duplicate clientId {client_id!r}")
        try:
            permissions = parse_permissions(raw.get("permissions", "*"), where)
        except ValueError as error:
            raise OrgFileError(str(error)) from None
        raw_divisions = raw.get("divisions", "*")
        divisions: frozenset[str] | None
        if raw_divisions == "*":
            divisions = None
        elif isinstance(raw_divisions, list) and all(isinstance(d, str) for d in raw_divisions):
            unknown = sorted(set(raw_divisions) - set(org.divisions))
            if unknown:
                raise OrgFileError(f"{where}: unknown division(s) {', '.join(unknown)}")
            divisions = frozenset(raw_divisions)
        else:
            raise OrgFileError(f"{where}: 'divisions' must be \"*\" or a list of division ids")
        name = raw.get("name", client_id)
        org.oauth_clients[client_id] = OAuthClient(client_id, secret, str(name), permissions, divisions)


def load_org_file(path: str | Path, *, now: float | None = None) -> Org:
    """Read an org JSON file. Raises OrgFileError (never a bare JSON/OS error)."""
    file_path = Path(path)
    try:
        text = file_path.read_text(encoding="utf-8")
    except OSError as error:
        raise OrgFileError(
            f"org file {str(file_path)!r}: cannot be read ({error.strerror or error})"
        ) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise OrgFileError(
            f"org file {str(file_path)!r}: not valid JSON ({error.msg} at line {error.lineno})"
        ) from None
    return parse_org_document(document, now=now)
