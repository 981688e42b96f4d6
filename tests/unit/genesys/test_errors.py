from __future__ import annotations

import logging

import pytest

from flowops.genesys import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FlowLockedError,
    ForbiddenError,
    GenesysClient,
    GenesysError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    as_step_functions_error,
)
from flowops.genesys.errors import error_from_response

from .fakes import CLIENT_SECRET, FakeTransport, Reply, flow_json

OPERATION = "POST /api/v2/flows/actions/publish"


def _error(status: int, body: dict[str, object] | None, **kwargs: object) -> GenesysError:
    import json

    return error_from_response(
        status=status,
        raw_body=json.dumps(body).encode() if body is not None else b"",
        headers={"inin-correlation-id": "corr-1"},
        operation=str(kwargs.pop("operation", OPERATION)),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("status", "expected_type", "asl_name", "retryable"),
    [
        (400, BadRequestError, "Genesys.BadRequest", False),
        (401, AuthenticationError, "Genesys.Auth", False),
        (403, ForbiddenError, "Genesys.Forbidden", False),
        (404, NotFoundError, "Genesys.NotFound", False),
        (409, ConflictError, "Genesys.Conflict", False),
        (429, RateLimitedError, "Genesys.RateLimited", True),
        (500, ServerError, "Genesys.ServerError", True),
        (503, ServerError, "Genesys.ServerError", True),
    ],
)
def test_each_status_maps_to_a_typed_error(
    status: int, expected_type: type[GenesysError], asl_name: str, retryable: bool
) -> None:
    # Given a Genesys error body
    body = {"message": "something failed", "code": "some.code", "status": status, "contextId": "ctx"}
    # When mapped
    error = _error(status, body)
    # Then the type, ASL name, retryability and context are right
    assert type(error) is expected_type
    assert error.asl_error_name == asl_name
    assert error.retryable is retryable
    assert (error.status, error.code, error.correlation_id) == (status, "some.code", "corr-1")
    assert "something failed" in str(error) and OPERATION in str(error)


def test_forbidden_names_the_permission_from_message_params() -> None:
    body = {
        "message": "Unable to perform the requested action. You are missing the following permission(s): ...",
        "code": "missing.any.permissions",
        "status": 403,
        "messageParams": {"permissions": "[architect:flow:publish]"},
    }
    error = _error(403, body)
    assert isinstance(error, ForbiddenError)
    assert error.missing_permission == "architect:flow:publish"
    assert "architect:flow:publish" in str(error)


def test_forbidden_names_the_permission_from_the_message() -> None:
    error = _error(403, {"message": "missing permission architect:dependencyTracking:view", "status": 403})
    assert isinstance(error, ForbiddenError)
    assert error.missing_permission == "architect:dependencyTracking:view"


def test_forbidden_falls_back_to_the_endpoint_permission() -> None:
    error = _error(
        403, {"message": "Forbidden", "status": 403}, operation="POST /api/v2/flows/instances/query"
    )
    assert isinstance(error, ForbiddenError)
    assert error.missing_permission == "architect:flowInstance:search"
    assert "add architect:flowInstance:search to the OAuth client's role" in str(error)


def test_lock_error_names_who_from_the_body() -> None:
    body = {
        "message": "Flow is locked by another user",
        "code": "flow.locked",
        "status": 409,
        "messageParams": {"lockedUser": {"id": "u-7", "name": "Ada Lovelace"}},
    }
    error = _error(409, body, flow_id="f1")
    assert isinstance(error, FlowLockedError)
    assert error.locked_by == "Ada Lovelace (u-7)"
    assert error.asl_error_name == "Genesys.Locked"
    assert "flow f1 is locked by Ada Lovelace (u-7)" in str(error)


def test_lock_error_names_the_client_holding_the_lock() -> None:
    body = {
        "message": "Flow locked",
        "code": "architect.flow.locked",
        "status": 409,
        "messageParams": {"lockedClient": {"id": "c-1", "name": "CI pipeline"}},
    }
    error = _error(409, body, flow_id="f1")
    assert isinstance(error, FlowLockedError)
    assert error.locked_by == "client CI pipeline (c-1)"


def test_lock_holder_is_looked_up_on_the_flow_when_the_body_does_not_say(
    client: GenesysClient, transport: FakeTransport
) -> None:
    # Given a publish refused because of a lock, with no holder in the error body
    transport.reply(
        "POST",
        "/api/v2/flows/actions/publish",
        Reply(409, {"message": "The flow is locked", "code": "flow.locked", "status": 409}),
    )
    transport.reply(
        "GET",
        "/api/v2/flows/f1",
        Reply(200, flow_json("f1", lockedUser={"id": "u-9", "name": "Grace Hopper"})),
    )
    # When publishing
    with pytest.raises(FlowLockedError) as caught:
        client.publish_flow("f1")
    # Then the error names who holds the lock, read from the flow
    assert caught.value.locked_by == "Grace Hopper (u-9)"
    assert "locked by Grace Hopper (u-9)" in str(caught.value)


def test_other_conflicts_are_not_locks() -> None:
    error = _error(409, {"message": "version 3 does not match the current version 4", "status": 409})
    assert type(error) is ConflictError


def test_non_json_error_body_still_maps() -> None:
    from flowops.genesys.errors import error_from_response as map_error

    error = map_error(
        status=502, raw_body=b"<html>Bad Gateway</html>", headers={}, operation="GET /api/v2/flows"
    )
    assert isinstance(error, ServerError)
    assert error.code is None


def test_step_functions_error_type_is_the_asl_name() -> None:
    # Given a typed error
    error = _error(429, {"message": "slow down", "status": 429})
    # When converted for a Lambda handler to raise
    converted = as_step_functions_error(error)
    # Then its class name is what Retry/Catch match, and it is still the same kind of error
    assert type(converted).__name__ == "Genesys.RateLimited"
    assert isinstance(converted, RateLimitedError)
    assert str(converted) == str(error) and converted.correlation_id == "corr-1"


def test_secrets_never_reach_errors_or_logs(
    client: GenesysClient, transport: FakeTransport, caplog: pytest.LogCaptureFixture
) -> None:
    # Given every kind of failure in turn
    failures = [
        Reply(400, {"message": "bad"}),
        Reply(401, {"message": "no"}),
        Reply(403, {"message": "forbidden"}),
        Reply(404, {"message": "missing"}),
        Reply(409, {"message": "locked", "code": "flow.locked"}),
        Reply(500, {"message": "boom"}),
    ]
    errors: list[GenesysError] = []
    with caplog.at_level(logging.DEBUG):
        for failure in failures:
            transport.reply("GET", "/api/v2/flows/f1", failure)
            with pytest.raises(GenesysError) as caught:
                client.get_flow("f1")
            errors.append(caught.value)
    # Then neither the client secret nor any issued token appears anywhere
    texts = [str(e) for e in errors] + [repr(e) for e in errors] + [repr(client), repr(client.tokens)]
    texts += [f"{r.getMessage()} {r.__dict__}" for r in caplog.records]
    issued = [f"token-{n}" for n in range(1, transport.tokens_issued + 1)]
    for text in texts:
        assert CLIENT_SECRET not in text
        for token in issued:
            assert token not in text


def test_forbidden_names_every_permission_of_a_real_any_of_body() -> None:
    # Given the real body of a 403 for an operation that accepts any of two permissions
    body = {
        "message": "Unable to perform the requested action. You must have at least one of the "
        "following permissions assigned: [integrations:action:view, bridge:actions:view]",
        "code": "missing.any.permissions",
        "status": 403,
        "messageParams": {},
        "contextId": "ctx",
        "details": [],
        "errors": [],
    }
    # When mapped
    error = _error(403, body, operation="GET /api/v2/integrations/actions")
    # Then both are named, as alternatives
    assert isinstance(error, ForbiddenError)
    assert error.missing_permissions == ("integrations:action:view", "bridge:actions:view")
    assert "integrations:action:view or bridge:actions:view" in str(error)


def test_forbidden_names_the_permission_of_a_real_missing_permissions_body() -> None:
    body = {
        "message": "Unable to perform the requested action. You are missing the following permission(s): "
        "integrations:action:edit",
        "code": "missing.permissions",
        "status": 403,
    }
    error = _error(403, body, operation="GET /api/v2/integrations/actions/{actionId}/draft/validation")
    assert isinstance(error, ForbiddenError)
    assert error.missing_permission == "integrations:action:edit"


@pytest.mark.parametrize(
    ("operation", "permission"),
    [
        ("GET /api/v2/flows/instances/settings/executiondata", "architect:flowinstanceexecutiondata:view"),
        ("POST /api/v2/architect/dependencytracking/build", "architect:dependencyTracking:rebuild"),
        ("POST /api/v2/flows/actions/unlock", "architect:flow:unlock"),
        ("GET /api/v2/integrations/actions/{actionId}/draft/validation", "integrations:action:edit"),
    ],
)
def test_the_fallback_permission_is_the_one_the_sdk_documents(operation: str, permission: str) -> None:
    # Given a 403 whose body names no permission
    error = _error(403, {"message": "Forbidden", "status": 403}, operation=operation)
    # Then the permission table's (the SDK docs') permission is named
    assert isinstance(error, ForbiddenError)
    assert error.missing_permission == permission


@pytest.mark.parametrize(
    "code", ["flow.not.locked", "flow.unlocked", "architect.flow.lock.not.held", "flow.no.lock"]
)
def test_a_code_about_a_missing_lock_is_not_a_lock_held_by_someone(code: str) -> None:
    # Given the answer to a check-in of a flow nobody checked out
    body = {"message": "Flow 'Main' must be checked out before it can be checked in.", "code": code}
    # When mapped
    error = _error(400, body, operation="POST /api/v2/flows/actions/checkin", flow_id="f1")
    # Then it is a plain bad request, never "locked by another user"
    assert type(error) is BadRequestError
    assert "locked by" not in str(error)
