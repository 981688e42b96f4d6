"""The router of the API Gateway handlers (REST API, Lambda proxy integration): the webhook's
`POST /publish` and `POST /release`, and `POST /git/push`.

It answers as powertools' `APIGatewayRestResolver` answered these handlers: a route matches its
method and its path with any trailing slashes; an error raised by a route, or an unknown route
(`RouteNotFoundError`), goes to the handler registered for the nearest class along the error's
MRO, and an error no handler takes propagates; the result has `statusCode`, `body`,
`isBase64Encoded` and `multiValueHeaders`. Importing the resolver cost each of these handlers
about 0.5 s of cold start (`python -m bench.cold_start`); they need none of its other features
(CORS, compression, validation, OpenAPI, middlewares).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from flowops.webhook.errors import InvalidRequestError

APPLICATION_JSON = "application/json"

ErrorT = TypeVar("ErrorT", bound=Exception)


class RequestBody(Protocol):
    """What `raw_body` readers need of a request (also powertools' `APIGatewayProxyEvent`)."""

    @property
    def body(self) -> str | None: ...

    @property
    def is_base64_encoded(self) -> bool | None: ...


def raw_body(request: RequestBody) -> bytes:
    """The body exactly as the sender signed it (API Gateway base64-encodes binary media types)."""
    body = request.body or ""
    if not request.is_base64_encoded:
        try:
            return body.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate escaped into the event's JSON: no sender could have signed it.
            raise InvalidRequestError("the body is not UTF-8 text") from None
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequestError("the body is marked base64-encoded but is not valid base64") from None


@dataclass(frozen=True)
class Request:
    """One proxy-integration request: header names lower-cased (of two spellings of one name the
    later wins), as powertools' event gave them."""

    method: str
    path: str
    headers: dict[str, str]
    body: str | None
    is_base64_encoded: bool | None

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Request:
        return cls(
            method=event["httpMethod"].upper(),
            path=event["path"],
            headers={name.lower(): value for name, value in (event.get("headers") or {}).items()},
            body=event.get("body"),
            is_base64_encoded=event.get("isBase64Encoded"),
        )


@dataclass(frozen=True)
class Response:
    status_code: int
    body: str
    content_type: str = APPLICATION_JSON

    def proxy_result(self) -> dict[str, Any]:
        """The Lambda proxy integration's answer."""
        return {
            "statusCode": self.status_code,
            "body": self.body,
            "isBase64Encoded": False,
            "multiValueHeaders": {"Content-Type": [self.content_type]},
        }


class RouteNotFoundError(Exception):
    """No route has this method and path."""

    def __init__(self, method: str, path: str) -> None:
        super().__init__(f"no route for {method} {path}")
        self.method = method
        self.path = path


Route = Callable[[Request], Response]


class Router:
    """POST routes by path and error handlers by exception class."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Route]] = []
        self._error_handlers: dict[type[Exception], Callable[[Any], Response]] = {}

    def post(self, path: str) -> Callable[[Route], Route]:
        def register(route: Route) -> Route:
            self._routes.append(("POST", re.compile(f"^{re.escape(path.rstrip('/'))}/*$"), route))
            return route

        return register

    def exception_handler(
        self, error_class: type[ErrorT]
    ) -> Callable[[Callable[[ErrorT], Response]], Callable[[ErrorT], Response]]:
        def register(handle: Callable[[ErrorT], Response]) -> Callable[[ErrorT], Response]:
            self._error_handlers[error_class] = handle
            return handle

        return register

    def resolve(self, event: Mapping[str, Any]) -> dict[str, Any]:
        request = Request.from_event(event)
        try:
            return self._route(request)(request).proxy_result()
        except Exception as error:
            handle = next(
                (self._error_handlers[cls] for cls in type(error).__mro__ if cls in self._error_handlers),
                None,
            )
            if handle is None:
                raise
            return handle(error).proxy_result()

    def _route(self, request: Request) -> Route:
        for method, pattern, route in self._routes:
            if method == request.method and pattern.match(request.path):
                return route
        raise RouteNotFoundError(request.method, request.path)
