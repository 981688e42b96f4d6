"""The Genesys Cloud simulator: a real HTTP server on 127.0.0.1.

Same paths, envelopes, status codes, headers and error bodies as the real API (see
/work/shared/docs/genesys-api.md), so the flowops client cannot tell the difference:

    with SimulatorServer(generate_org(200, seed=1), clock=ScaledClock(60)) as sim:
        base_url = sim.url   # GENESYS_BASE_URL; the token endpoint is {url}/oauth/token

Every request of the API passes, in order: connection-reset fault → latency fault → bearer
token check (401) → rate limit in simulated time (429; per token, OAuth client or org as
configured, docs/genesys-limits.md) → 5xx fault → the route.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import math
import secrets
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flowops.clock import Clock
from flowops.local.simulator import (
    admin,
    api_dependencies,
    api_downloads,
    api_executions,
    api_flows,
    api_integrations,
    api_objects,
)
from flowops.local.simulator.access import OAuthClient, permission_error, with_sdk_permissions
from flowops.local.simulator.faults import LOST_ANSWER_TARGETS, Faults
from flowops.local.simulator.model import Org, Principal
from flowops.local.simulator.state import (
    RATE_WINDOW_SECONDS,
    RateWindow,
    SimulatorSettings,
    SimulatorState,
    Token,
)
from flowops.local.simulator.web import (
    JSON_TYPE,
    ApiError,
    RateLimitedError,
    Request,
    Response,
    Route,
    Router,
    new_correlation_id,
)

MAX_BODY_BYTES = 20 * 1024 * 1024


def _oauth_error(status: int, error: str, description: str) -> Response:
    return Response(
        status=status, body={"error": error, "description": description, "error_description": description}
    )


def issue_token(request: Request) -> Response:
    """POST /oauth/token (the login host): client-credentials grant with HTTP Basic auth."""
    state = request.state
    settings = state.settings
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return _oauth_error(401, "invalid_client", "client authentication is required (HTTP Basic)")
    try:
        client_id, _, client_secret = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return _oauth_error(401, "invalid_client", "malformed client credentials")
    form = parse_qs(request.body.decode("utf-8", "replace"))
    grant_type = (form.get("grant_type") or [""])[0]
    if grant_type != "client_credentials":
        return _oauth_error(
            400, "unsupported_grant_type", f"grant type {grant_type or '(none)'!r} is not supported"
        )
    # compare_digest (inside oauth_client): constant time, as a real login host would.
    if state.oauth_client(client_id, client_secret) is None:
        return _oauth_error(401, "invalid_client", "authentication failed")
    lifetime = settings.token_ttl_seconds
    if state.faults.token_lifetime_seconds is not None:
        lifetime = min(lifetime, state.faults.token_lifetime_seconds)
    token = Token(secrets.token_urlsafe(32), client_id, state.now(), lifetime)
    state.tokens[token.value] = token
    return Response(body={"access_token": token.value, "token_type": "bearer", "expires_in": int(lifetime)})


ROUTES: list[Route] = [
    with_sdk_permissions(route)
    for route in (
        Route("POST", "/oauth/token", issue_token, kind="oauth"),
        *api_flows.ROUTES,
        *api_dependencies.ROUTES,
        *api_executions.ROUTES,
        *api_integrations.ROUTES,
        *api_objects.ROUTES,
        *api_downloads.ROUTES,
        *admin.ROUTES,
    )
]


class _ResetConnection(Exception):
    """The connection-reset fault: close the socket without writing an answer."""


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer
    protocol_version = "HTTP/1.1"
    server_version = "GenesysCloudSimulator/1.0"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle plus delayed
        # ACKs add ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        # Quiet by default; request lines never contain secrets, but tests do not want the noise.
        if self.server.simulator.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        simulator = self.server.simulator
        correlation_id = new_correlation_id()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_BODY_BYTES)) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            method=method,
            path=parts.path.rstrip("/") or "/",
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            state=simulator.state,
            base_url=simulator.url,
        )
        try:
            response = simulator.dispatch(request, correlation_id)
        except _ResetConnection:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        payload = response.encoded()
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("inin-correlation-id", correlation_id)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(payload)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    simulator: SimulatorServer


class SimulatorServer:
    """A running simulated org. `start()`/`stop()` or use it as a context manager."""

    def __init__(
        self,
        org: Org,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        faults: Faults | str | None = None,
        client_id: str = "local",
        client_secret: str = "local",  # noqa: S107 - the documented local-only default
        token_ttl_seconds: float = 86_400.0,
        rate_limit_per_minute: int = 300,
        rate_limit_scope: str = "token",
        verbose: bool = False,
    ) -> None:
        parsed_faults = Faults.parse(faults) if isinstance(faults, str) else faults
        # By name: a field added to SimulatorSettings must not shift the others (architect_job_seconds
        # once received the rate-limit scope here).
        settings = SimulatorSettings(
            client_id=client_id,
            client_secret=client_secret,
            token_ttl_seconds=token_ttl_seconds,
            rate_limit_per_minute=rate_limit_per_minute,
            rate_limit_scope=rate_limit_scope,
        )
        self.state = SimulatorState(org, clock=clock, faults=parsed_faults, settings=settings)
        self.verbose = verbose
        self.router = Router(ROUTES)
        # Binding here (not in start) makes "port in use" fail fast, before any thread exists.
        self._http = _HttpServer((host, port), _Handler)
        self._http.simulator = self
        # The storage host signed download URLs point to (S3 in a real org): another port, so
        # a client following the redirect is talking to ANOTHER host and must not send its token.
        self._storage = _HttpServer((host, 0), _Handler)
        self._storage.simulator = self
        self.state.storage_url = f"http://{self._storage.server_address[0]}:{self._storage.server_address[1]}"
        self._thread: threading.Thread | None = None
        self._storage_thread: threading.Thread | None = None

    def __repr__(self) -> str:  # no credentials in reprs
        return f"SimulatorServer(url={self.url!r}, flows={len(self.org.flows)})"

    @property
    def org(self) -> Org:
        return self.state.org

    @property
    def port(self) -> int:
        return int(self._http.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._http.server_address[0]}:{self.port}"

    @property
    def base_url(self) -> str:
        """GENESYS_BASE_URL for the client (same as `url`)."""
        return self.url

    def start(self) -> SimulatorServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._http.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="genesys-simulator",
                daemon=True,
            )
            self._thread.start()
        if self._storage_thread is None:
            self._storage_thread = threading.Thread(
                target=self._storage.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="genesys-simulator-storage",
                daemon=True,
            )
            self._storage_thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until `stop()` (or KeyboardInterrupt)."""
        if self._storage_thread is None:
            self._storage_thread = threading.Thread(
                target=self._storage.serve_forever, name="genesys-simulator-storage", daemon=True
            )
            self._storage_thread.start()
        self._http.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        if self._thread is not None:
            self._http.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        if self._storage_thread is not None:
            self._storage.shutdown()
            self._storage_thread.join(timeout=5)
            self._storage_thread = None
        self._http.server_close()
        self._storage.server_close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def set_faults(self, faults: Faults | str) -> None:
        with self.state.lock:
            self.state.set_faults(Faults.parse(faults) if isinstance(faults, str) else faults)

    def counters(self) -> dict[str, int]:
        with self.state.lock:
            return dict(self.state.counters)

    # ---- request pipeline ------------------------------------------------------------------
    def dispatch(self, request: Request, correlation_id: str) -> Response:
        state = self.state
        matched = self.router.match(request.method, request.path)
        route = matched[0] if matched else None
        if route is not None:
            request.path_params = matched[1] if matched else {}
            request.required_permissions = route.permissions
        genesys_facing = route is None or route.kind in {"api", "oauth"}
        if genesys_facing and request.path != "/" and not request.path.startswith("/__sim"):
            with state.lock:
                reset = state.random().random() < state.faults.reset_rate
                latency = state.faults.latency_seconds
            if reset:
                raise _ResetConnection
            if latency > 0:
                state.clock.sleep(latency)  # outside the lock: other clients keep going
        with state.lock:
            state.advance()
            if route is None or route.kind != "admin":
                state.counters[f"{request.method} {route.template if route else '<unmatched>'}"] += 1
            headers: dict[str, str] = {}
            try:
                if route is None:
                    raise ApiError(
                        404, "not.found", f"The requested resource [{request.path}] was not found."
                    )
                if route.kind == "api":
                    request.principal, request.client = self._authenticate(request)
                    headers = self._rate_limit(request)
                    refused = permission_error(route.permissions, route.requires, request.client)
                    if refused is not None:
                        raise refused
                    if state.random().random() < state.faults.server_error_rate:
                        raise ApiError(
                            503,
                            "service.unavailable",
                            "Service Unavailable: the server is temporarily unable to handle the request.",
                        )
                response = route.handler(request)
            except ApiError as error:
                response = Response(
                    status=error.status, body=error.body(correlation_id), headers=error.headers
                )
            response.headers = {**headers, **response.headers}
            if response.body is None and response.status != 202:
                response.content_type = JSON_TYPE
            answer_lost = (
                request.method in {"POST", "PUT", "DELETE"}
                and route is not None
                and route.kind in {"api", "presigned"}
                and response.status < 400
                and self._loses_answer(route.template)
            )
        if answer_lost:
            raise _ResetConnection  # the write is applied; its answer never arrives
        return response

    def _loses_answer(self, template: str) -> bool:
        """The `lost-answer` fault (called under the state lock, for an applied write)."""
        faults = self.state.faults
        for target in sorted(faults.lost_answer_once):
            if LOST_ANSWER_TARGETS[target] == template:
                faults.lost_answer_once.discard(target)
                return True
        return faults.lost_answer_rate > 0 and self.state.random().random() < faults.lost_answer_rate

    def _authenticate(self, request: Request) -> tuple[Principal, OAuthClient]:
        state = self.state
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiError(
                401,
                "authentication.required",
                "No authentication bearer token specified in authorization header.",
            )
        token = state.tokens.get(value.strip())
        if token is None:
            raise ApiError(401, "bad.credentials", "Invalid login credentials.")
        lifetime = token.lifetime
        if state.faults.token_lifetime_seconds is not None:
            lifetime = min(lifetime, state.faults.token_lifetime_seconds)
        if state.now() - token.issued_at >= lifetime:
            raise ApiError(401, "bad.credentials", "Invalid login credentials.")
        client = state.oauth_client(token.client_id)
        if client is None:  # the org file's client was removed while its token lived
            raise ApiError(401, "bad.credentials", "Invalid login credentials.")
        return Principal("", "", client.client_id, client.name), client

    def _rate_limit(self, request: Request) -> dict[str, str]:
        """Count the request in its budget's fixed window; over the limit → the normalized 429.

        The budget is the access token's, the OAuth client's or the org's (`rate_limit_scope`).
        A 429 carries `Retry-After` and the normalized body Genesys announced for every 429
        (message, code, status, contextId, details, errors — no messageParams); its example shows
        no `inin-ratelimit-*` headers, so neither does this one.
        """
        state = self.state
        scope = state.settings.rate_limit_scope
        if scope == "org":
            budget = "org"
        elif scope == "client":
            budget = f"client:{request.client.client_id if request.client else ''}"
        else:
            budget = "token:" + request.headers["authorization"].partition(" ")[2].strip()
        now = state.now()
        window = state.rate_windows.get(budget)
        if window is None or now - window.started_at >= RATE_WINDOW_SECONDS:
            window = state.rate_windows[budget] = RateWindow(started_at=now)
        window.count += 1
        allowed = state.faults.rate_limit_override or state.settings.rate_limit_per_minute
        reset_in = max(1, math.ceil(window.started_at + RATE_WINDOW_SECONDS - now))
        if window.count > allowed:
            state.counters["429 rate limited"] += 1
            raise RateLimitedError(reset_in)
        return {
            "inin-ratelimit-allowed": str(allowed),
            "inin-ratelimit-count": str(window.count),
            "inin-ratelimit-reset": str(reset_in),
        }
