"""The permission table is the one source: the client's endpoints, the docs' OAuth role, and the
known traps (permissions real orgs need that are easy to get wrong)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from flowops.genesys import GenesysClient
from flowops.genesys.permissions import BY_OPERATION, OPERATIONS, operations_needing, role_permissions

DEPLOY_DOC = Path(__file__).resolve().parents[3] / "docs" / "deploy.md"
_ROW = re.compile(r"^\| `([A-Za-z]+:[A-Za-z]+:[A-Za-z*]+)` \| ([^|]*) \| (required|optional) \|", re.M)


def test_every_endpoint_the_client_calls_has_a_permission_entry() -> None:
    # Given the operations ("METHOD /path") written in the client's source
    source = inspect.getsource(GenesysClient)
    called = set(re.findall(r'"(GET|POST|PATCH|PUT|DELETE)",\s*"(/api/v2/[^"]+)"', source))
    # Then each one is in the table
    missing = sorted(f"{method} {path}" for method, path in called if f"{method} {path}" not in BY_OPERATION)
    assert called and not missing


def test_the_known_traps_name_the_real_permissions() -> None:
    assert BY_OPERATION["GET /api/v2/integrations/actions/{actionId}/draft/validation"].permissions == (
        "integrations:action:edit",
    )
    assert BY_OPERATION["GET /api/v2/flows/instances/settings/executiondata"].permissions == (
        "architect:flowinstanceexecutiondata:view",
    )
    assert BY_OPERATION["POST /api/v2/architect/dependencytracking/build"].permissions == (
        "architect:dependencyTracking:rebuild",
    )
    assert BY_OPERATION["POST /api/v2/flows/actions/unlock"].permissions == ("architect:flow:unlock",)
    # the draft validation is optional (a warning), the flows listing is not
    assert BY_OPERATION["GET /api/v2/integrations/actions/{actionId}/draft/validation"].optional
    assert not BY_OPERATION["GET /api/v2/flows"].optional


def test_the_role_grants_one_permission_for_each_operation_a_pipeline_uses() -> None:
    role = set(role_permissions())
    for entry in OPERATIONS:
        if entry.used_by and entry.requires != "none":
            assert set(entry.grant) <= set(entry.permissions)
            assert set(entry.grant) <= role, entry.operation
    # and nothing a pipeline never calls (e.g. check-in/out needs architect:flow:edit)
    assert "architect:flow:edit" not in role


def test_deploy_doc_lists_exactly_the_role_with_the_right_optional_flags() -> None:
    # Given the OAuth role table in docs/deploy.md
    rows = {permission: (used, flag) for permission, used, flag in _ROW.findall(DEPLOY_DOC.read_text())}
    # Then it is the table's role, permission by permission
    assert sorted(rows, key=str.lower) == list(role_permissions())
    for permission, (used, flag) in rows.items():
        entries = [e for e in operations_needing(permission) if e.used_by and permission in e.grant]
        assert flag == ("optional" if all(e.optional for e in entries) else "required"), permission
        assert {u.strip() for u in used.split(",")} == {
            u for e in entries for u in e.used_by if u != "doctor"
        }, permission
