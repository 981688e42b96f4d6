"""The small HTTP toolkit of the simulator: requests, responses, routing, Genesys error bodies,
paging envelopes and timestamps.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from flowops.local.simulator.access import OAuthClient
    from flowops.local.simulator.model import Principal
    from flowops.local.simulator.state import SimulatorState

JSON_TYPE = "application/json; charset=UTF-8"


def iso(epoch_seconds: float | None) -> str | None:
    """ISO-8601 UTC with milliseconds and Z, the way Genesys writes dates."""
    if epoch_seconds is None:
        return None
    return (
        datetime.fromtimestamp(epoch_seconds, tz=UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def parse_iso(text: str) -> float:
    """Epoch seconds of an ISO-8601 date (Z or offset; a bare date means midnight UTC)."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def epoch_ms(epoch_seconds: float | None) -> int | None:
    return None if epoch_seconds is None else int(epoch_seconds * 1000)


def compact(document: dict[str, Any]) -> dict[str, Any]:
    """Drop None values: Genesys omits absent fields instead of sending null."""
    return {key: value for key, value in document.items() if value is not None}


class ApiError(Exception):
    """An error answer with the Genesys error body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        message_params: dict[str, Any] | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.message_params = message_params or {}
        self.details = details or []
        self.headers = headers or {}

    def body(self, correlation_id: str) -> dict[str, Any]:
        return {
            "message": self.message,
            "code": self.code,
            "status": self.status,
            "messageParams": self.message_params,
            "contextId": correlation_id,
            "details": self.details,
            "errors": [],
        }


class RateLimitedError(ApiError):
    """The normalized 429 every Platform API resource answers since November 2021 (Genesys
    developer forum, "Normalized Platform API 429 responses"): `Retry-After` and a body of
    message, code, status, contextId, details and errors — no messageParams."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            429,
            "too.many.requests.retry.after",
            f"Rate limit exceeded the maximum. Retry the request in [{retry_after_seconds}] seconds",
            headers={"Retry-After": str(retry_after_seconds)},
        )

    def body(self, correlation_id: str) -> dict[str, Any]:
        body = super().body(correlation_id)
        del body["messageParams"]
        return body


def not_found(message: str = "The requested resource was not found.") -> ApiError:
    return ApiError(404, "not.found", message)


def bad_request(message: str, **params: Any) -> ApiError:
    return ApiError(400, "bad.request", message, message_params=params)


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes/str -> raw
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSON_TYPE

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body, separators=(",", ":")).encode("utf-8")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    state: SimulatorState
    path_params: dict[str, str] = field(default_factory=dict)
    principal: Principal | None = None
    client: OAuthClient | None = None  # the OAuth client of the bearer token (api routes)
    required_permissions: tuple[str, ...] = ()  # the matched route's (named by division 403s)
    base_url: str = ""

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def args(self, name: str) -> list[str]:
        """A multi-valued query parameter: repeated (`type=a&type=b`) or comma separated."""
        return [
            part.strip() for value in self.query.get(name, []) for part in value.split(",") if part.strip()
        ]

    def int_arg(self, name: str, default: int, *, minimum: int = 1, maximum: int | None = None) -> int:
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad_request(
                f"Value [{raw}] was not valid for parameter [{name}].", parameter=name
            ) from None
        if value < minimum or (maximum is not None and value > maximum):
            limit = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            raise bad_request(
                f"Value [{value}] was not valid for parameter [{name}]. It must be {limit}.", parameter=name
            )
        return value

    def bool_arg(self, name: str, default: bool = False) -> bool:
        raw = self.arg(name)
        return default if raw is None else raw.strip().lower() == "true"

    def json(self, *, required: bool = True) -> Any:
        """The JSON body. Without `required`, an empty body and a JSON `null` (what the SDK and
        Terraform send for an optional body) both read as `{}`."""
        if not required and self.body.strip() in (b"", b"null"):
            return {}
        if not self.body.strip():
            if required:
                raise bad_request("The request body is required.")
            return {}
        try:
            return json.loads(self.body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise bad_request(
                "The request could not be understood by the server due to malformed syntax."
            ) from None


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # "/api/v2/flows/{flowId}"
    handler: Handler
    kind: str = "api"  # api (bearer auth + rate limit) | oauth | presigned | admin
    # What the SDK documents for the operation ("Requires ANY/ALL permissions"): checked for
    # every api route before the handler runs (403 otherwise, see src/flowops/local/simulator/access.py).
    permissions: tuple[str, ...] = ()
    requires: str = "any"  # any | all | none

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        return re.compile(f"^{regex}$")


class Router:
    def __init__(self, routes: Iterable[Route]) -> None:
        # Literal segments win over parameters (`/flows/jobs` before `/flows/{flowId}`).
        self._routes = sorted(
            ((route, route.pattern) for route in routes), key=lambda item: item[0].template.count("{")
        )

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route, pattern in self._routes:
            if route.method != method:
                continue
            found = pattern.match(path)
            if found:
                return route, found.groupdict()
        return None

    def path_exists(self, path: str) -> bool:
        return any(pattern.match(path) for _, pattern in self._routes)


def paged(
    request: Request, items: list[Any], *, default_size: int = 25, max_size: int = 500
) -> dict[str, Any]:
    """The Genesys paging envelope over `items` (already filtered and sorted)."""
    page_size = request.int_arg("pageSize", default_size, maximum=max_size)
    page_number = request.int_arg("pageNumber", 1)
    total = len(items)
    page_count = (total + page_size - 1) // page_size
    start = (page_number - 1) * page_size
    kept = [
        (key, value)
        for key, values in request.query.items()
        if key not in {"pageSize", "pageNumber"}
        for value in values
    ]

    def uri(number: int) -> str:
        return f"{request.path}?{urlencode([*kept, ('pageSize', page_size), ('pageNumber', number)])}"

    return compact(
        {
            "entities": items[start : start + page_size],
            "pageSize": page_size,
            "pageNumber": page_number,
            "total": total,
            "pageCount": page_count,
            "firstUri": uri(1),
            "selfUri": uri(page_number),
            "nextUri": uri(page_number + 1) if page_number < page_count else None,
            "previousUri": uri(page_number - 1) if page_number > 1 else None,
            "lastUri": uri(max(page_count, 1)),
        }
    )


def new_correlation_id() -> str:
    return str(uuid.uuid4())
