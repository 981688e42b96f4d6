"""Typed Genesys Cloud errors, built in ONE place (`error_from_response`).

Every error carries what an operator needs to act on it (HTTP status, Genesys error code,
the `inin-correlation-id` to quote to Genesys support, the missing permission or the lock
holder) and what a machine needs to react to it: `retryable` and `asl_error_name`, the
error name Step Functions Retry/Catch blocks match on (see `as_step_functions_error`).

No message, str or repr ever contains a token, a client secret or a presigned URL's query
string: messages are built only from status, code, message text, path templates and ids.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from flowops.genesys.permissions import permissions_for
from flowops.stepfunctions import as_step_functions_error as _named_after_asl_error

CORRELATION_ID_HEADER = "inin-correlation-id"


class ErrorBody(BaseModel):
    """The error document every Genesys 4xx/5xx carries (unknown fields kept)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, alias_generator=to_camel)

    message: str | None = None
    code: str | None = None
    status: int | None = None
    message_params: dict[str, Any] | None = None
    context_id: str | None = None
    details: list[dict[str, Any]] | None = None
    errors: list[dict[str, Any]] | None = None


class GenesysError(Exception):
    """Base of every error raised by `flowops.genesys`."""

    asl_error_name: ClassVar[str] = "Genesys.Error"
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        correlation_id: str | None = None,
        operation: str | None = None,
        body: ErrorBody | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.correlation_id = correlation_id
        self.operation = operation
        self.body = body

    def __str__(self) -> str:
        context = [
            f"{label}={value}"
            for label, value in (
                ("operation", self.operation),
                ("status", self.status),
                ("code", self.code),
                ("correlation_id", self.correlation_id),
            )
            if value is not None
        ]
        return f"{self.message} ({', '.join(context)})" if context else self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, status={self.status!r}, "
            f"code={self.code!r}, correlation_id={self.correlation_id!r})"
        )


class ConfigurationError(GenesysError):
    """The client is configured wrongly (region, base URL, secret shape): fix the config."""

    asl_error_name = "Genesys.Configuration"


class AuthenticationError(GenesysError):
    """The platform refused our identity: bad client credentials or a rejected token."""

    asl_error_name = "Genesys.Auth"


class TokenExpiredError(AuthenticationError):
    """An API call answered 401 with a token we believed valid; re-authenticating may help.

    The client handles this itself (drop token, re-authenticate once, retry once), so callers
    only see it when they use the token provider directly.
    """

    asl_error_name = "Genesys.Auth.TokenExpired"
    retryable = True


class BadRequestError(GenesysError):
    """The request was rejected as invalid (400): retrying the same request cannot help."""

    asl_error_name = "Genesys.BadRequest"


class ForbiddenError(GenesysError):
    """The OAuth client lacks a permission (403).

    `missing_permissions` names what the platform asked for (any one of them is enough when the
    body said "at least one of"), `missing_permission` the first of them; both are empty when
    neither the body nor the permission table (`flowops.genesys.permissions`) knows.
    """

    asl_error_name = "Genesys.Forbidden"

    def __init__(
        self,
        message: str,
        *,
        missing_permission: str | None = None,
        missing_permissions: tuple[str, ...] = (),
        **context: Any,
    ) -> None:
        super().__init__(message, **context)
        self.missing_permissions = missing_permissions or (
            (missing_permission,) if missing_permission else ()
        )
        self.missing_permission = missing_permission or next(iter(self.missing_permissions), None)


class NotFoundError(GenesysError):
    asl_error_name = "Genesys.NotFound"


class ConflictError(GenesysError):
    """409 that is not a lock, e.g. a data action version mismatch."""

    asl_error_name = "Genesys.Conflict"


class FlowLockedError(ConflictError):
    """The flow is locked (checked out) by someone else; `locked_by` names who when known."""

    asl_error_name = "Genesys.Locked"

    def __init__(
        self,
        message: str,
        *,
        flow_id: str | None = None,
        locked_by: str | None = None,
        **context: Any,
    ) -> None:
        super().__init__(message, **context)
        self.flow_id = flow_id
        self.locked_by = locked_by


class RateLimitedError(GenesysError):
    """Still 429 after the retries the policy allows."""

    asl_error_name = "Genesys.RateLimited"
    retryable = True

    def __init__(self, message: str, *, retry_after_seconds: float | None = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.retry_after_seconds = retry_after_seconds


class ServerError(GenesysError):
    """Still 5xx after the retries the policy allows."""

    asl_error_name = "Genesys.ServerError"
    retryable = True


class GenesysUnavailableError(GenesysError):
    """Connection failures or timeouts after the retries the policy allows."""

    asl_error_name = "Genesys.Unavailable"
    retryable = True


class WriteOutcomeUnknownError(GenesysUnavailableError):
    """A write that must not be repeated blindly (publish, check-in, a job's upload) lost its answer.

    The request may or may not have been applied. The client does not resend it; the caller
    reads the state (the flow's currentOperation and published version, the job's status) and
    decides. Reported as `Genesys.Unavailable`, so a retried step does that check first.
    """


class OutOfTimeError(GenesysUnavailableError):
    """The Lambda's remaining time is too short for another request or wait: stop early, with time
    left to report this, so the state machine retries the step (as `Genesys.Unavailable`) instead
    of Lambda killing it."""


_PERMISSION_PATTERN = re.compile(r"\b[A-Za-z]+:[A-Za-z]+:[A-Za-z*]+\b")
# A flow held by someone else. Deliberately NOT any code containing "lock": `flow.not.locked`
# (check-in of a flow nobody checked out) is a plain bad request, not a lock held by another.
_LOCK_MESSAGE_PATTERN = re.compile(r"\b(is|are|currently) locked\b|\blocked by\b", re.IGNORECASE)
_NOT_LOCKED_PATTERN = re.compile(r"not[._ ]locked|unlocked|lock[._ ]not|no[._ ]lock", re.IGNORECASE)
# Keys under which a lock holder has been seen in messageParams / details.
_LOCK_USER_KEYS = ("lockedUser", "lockedBy", "lockedUserName", "userName", "user")
_LOCK_CLIENT_KEYS = ("lockedClient", "lockedClientName", "clientName", "client")
_MAX_MESSAGE_CHARS = 500


def parse_error_body(raw: bytes | str | None) -> ErrorBody | None:
    """The error document of a response, or None when the body is not one (HTML, empty)."""
    if not raw:
        return None
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(document, dict):
        return None
    try:
        return ErrorBody.model_validate(document)
    except ValidationError:
        return None


def find_missing_permissions(body: ErrorBody | None, operation: str | None) -> tuple[str, ...]:
    """The permissions a 403 names (messageParams first, then the message, e.g. "You are missing
    the following permission(s): a" or "... at least one of the following permissions assigned:
    [a, b]"), else the permissions the permission table says the operation needs."""
    if body is not None:
        for value in (body.message_params or {}).values():
            found = tuple(dict.fromkeys(_PERMISSION_PATTERN.findall(str(value))))
            if found:
                return found
        if body.message:
            found = tuple(dict.fromkeys(_PERMISSION_PATTERN.findall(body.message)))
            if found:
                return found
    entry = permissions_for(operation) if operation is not None else None
    return entry.permissions if entry is not None else ()


def find_missing_permission(body: ErrorBody | None, operation: str | None) -> str | None:
    """The first permission `find_missing_permissions` finds."""
    return next(iter(find_missing_permissions(body, operation)), None)


def _describe_lock_holder(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, Mapping):
        name = value.get("name") or value.get("username") or value.get("email")
        identifier = value.get("id")
        if name and identifier:
            return f"{name} ({identifier})"
        if name or identifier:
            return str(name or identifier)
    return None


def find_lock_holder(body: ErrorBody | None) -> str | None:
    """Who holds a flow lock, when the error body says so: "user X using client Y"."""
    if body is None:
        return None
    candidates: list[Mapping[str, Any]] = []
    if body.message_params:
        candidates.append(body.message_params)
    candidates.append(body.model_extra or {})
    candidates.extend(detail for detail in body.details or [] if isinstance(detail, Mapping))
    for mapping in candidates:
        user = next(
            (found for key in _LOCK_USER_KEYS if (found := _describe_lock_holder(mapping.get(key)))), None
        )
        client = next(
            (found for key in _LOCK_CLIENT_KEYS if (found := _describe_lock_holder(mapping.get(key)))), None
        )
        if user and client:
            return f"{user} using client {client}"
        if user:
            return user
        if client:
            return f"client {client}"
    return None


def _is_lock_error(body: ErrorBody | None) -> bool:
    """Held by someone else: a code saying "locked" (not "not locked"), or a message saying so."""
    if body is None:
        return False
    code = body.code or ""
    message = body.message or ""
    if _NOT_LOCKED_PATTERN.search(code) or _NOT_LOCKED_PATTERN.search(message):
        return False
    return "locked" in code.lower() or bool(_LOCK_MESSAGE_PATTERN.search(message))


def _short(text: str | None) -> str:
    if not text:
        return ""
    return text if len(text) <= _MAX_MESSAGE_CHARS else text[:_MAX_MESSAGE_CHARS] + "..."


def error_from_response(
    *,
    status: int,
    raw_body: bytes | str | None,
    headers: Mapping[str, str],
    operation: str,
    flow_id: str | None = None,
    retry_after_seconds: float | None = None,
) -> GenesysError:
    """THE mapping from a failed Genesys response to a typed error.

    `operation` is "METHOD /path/template" (never a concrete URL, which could carry a
    presigned signature); `flow_id` lets a lock error name the flow.
    """
    body = parse_error_body(raw_body)
    correlation_id = headers.get(CORRELATION_ID_HEADER) or (body.context_id if body else None)
    code = body.code if body else None
    platform_message = _short(body.message if body else None)
    context: dict[str, Any] = {
        "status": status,
        "code": code,
        "correlation_id": correlation_id,
        "operation": operation,
        "body": body,
    }
    detail = f": {platform_message}" if platform_message else ""

    if status == 401:
        return AuthenticationError(
            f"Genesys rejected the access token for {operation}{detail}; "
            "check that the OAuth client is active and its role grants are in place",
            **context,
        )
    if status == 403:
        permissions = find_missing_permissions(body, operation)
        any_of = len(permissions) > 1 and "at least one" in (platform_message or "").lower()
        named = (" or " if any_of else ", ").join(permissions)
        hint = (
            f"add {named} to the OAuth client's role (and the division of the object, if it is "
            "not in one of the role's divisions)"
            if permissions
            else "check the OAuth client's role and division grants"
        )
        return ForbiddenError(
            f"Genesys refused {operation}: the OAuth client lacks permission {named or 'unknown'}"
            f"{detail}; {hint}",
            missing_permissions=permissions,
            **context,
        )
    if status == 404:
        return NotFoundError(f"Genesys has no such resource for {operation}{detail}", **context)
    if status == 429:
        return RateLimitedError(
            f"Genesys rate limit still exceeded for {operation} after retrying{detail}; "
            "lower the scan concurrency or raise the org's limit",
            retry_after_seconds=retry_after_seconds,
            **context,
        )
    if status in (400, 409, 423) and _is_lock_error(body):
        holder = find_lock_holder(body)
        who = f"locked by {holder}" if holder else "locked by another user or client"
        target = f"flow {flow_id}" if flow_id else "the flow"
        return FlowLockedError(
            f"{target} is {who}{detail}; ask them to check it in, or unlock it "
            "(POST /api/v2/flows/actions/unlock needs architect:flow:unlock)",
            flow_id=flow_id,
            locked_by=holder,
            **context,
        )
    if status == 409:
        return ConflictError(f"Genesys reported a conflict for {operation}{detail}", **context)
    if 400 <= status < 500:
        return BadRequestError(f"Genesys rejected {operation} as invalid{detail}", **context)
    if status >= 500:
        return ServerError(
            f"Genesys kept failing with HTTP {status} for {operation} after retrying{detail}",
            **context,
        )
    return GenesysError(f"unexpected HTTP {status} from Genesys for {operation}{detail}", **context)


def as_step_functions_error(error: GenesysError) -> GenesysError:
    """The same error as an instance of a class NAMED after `asl_error_name`.

    Lambda reports `type(exc).__name__` as the error type Step Functions matches in Retry and
    Catch, so a handler that re-raises this (`raise as_step_functions_error(e) from e`) lets the
    state machine match "Genesys.RateLimited" etc. See `flowops.stepfunctions`.
    """
    converted = _named_after_asl_error(error)
    assert isinstance(converted, GenesysError)  # the named class derives from the original
    return converted
