"""The webhook API over real HTTP on 127.0.0.1, in front of the real webhook handler.

`flowops local up` serves it so a user can `curl` the local cloud, or point a real Git server's
webhook at it, exactly as a CI system talks to the deployed REST API:

    with LocalWebhookServer(cloud) as server:      # cloud: a started flowops.local.runtime LocalCloud
        requests.post(server.publish_url, data=body, headers=signed_headers(...))

Each request is translated into the API Gateway REST proxy event the deployed function receives
(method, path, resource, headers + multiValueHeaders, query string, body as text or base64,
requestContext) and the webhook function of the synthesized stack is invoked through the local
Lambda service, so the handler runs in-process with the function's own environment overlay (see
`flowops.local.runtime.lambdas`) and every call is recorded in `cloud.runner.invocations`. The proxy
response is written back as is.

What API Gateway answers itself, before the function, is mimicked here (the deployed API is
`infra/constructs/webhook_api.py`):
- only the documented route exists (no proxy resource): any other path, or another method on
  `/publish`, is `403 {"message":"Missing Authentication Token"}`;
- payloads over API Gateway's 10 MB quota: `413 {"message":"Request Too Long"}` (the function's
  own, much smaller `WEBHOOK_MAX_BODY_BYTES` limit then answers 413 for everything above it, as
  in the cloud);
- a function error or a malformed proxy response: `502 {"message":"Internal server error"}`.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

if TYPE_CHECKING:
    from flowops.local.runtime.cloud import LocalCloud

WEBHOOK_HANDLER = "flowops.functions.webhook.api.handler"
# Stage of the deployed API (infra/constructs/webhook_api.py): `/v1/publish` is accepted as well,
# so a URL copied from the deployed stack's output works against the local one after the host.
STAGE = "v1"
# The routes the webhook API documents (docs/openapi/webhook.yaml); a test keeps them in step.
ROUTES: Mapping[str, frozenset[str]] = {"/publish": frozenset({"POST"})}
API_GATEWAY_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
# Only ever used by the local emulation, whose webhook secret does not exist until it is created;
# the same value `flowops publish` creates (src/flowops/cli/publish.py), documented in docs/webhook.md.
LOCAL_WEBHOOK_SECRET = "flowops-local-webhook-secret"
DEFAULT_LOCAL_ENVIRONMENTS: tuple[str, ...] = ("dev",)
_LOCAL_API_ID = "local"
_JSON = "application/json"

_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_MISSING_TOKEN_HEADERS = {"x-amzn-ErrorType": "MissingAuthenticationTokenException"}

# Not under "flowops": that logger is the handlers' powertools logger (JSON, Lambda context).
logger = logging.getLogger("flowops.local.webhook_server")


class WebhookFunctionMissingError(RuntimeError):
    """The synthesized stack has no function whose handler is the webhook handler."""


class WebhookServerError(RuntimeError):
    """The server could not start (port taken, cloud not started)."""


class ProxyResponse(BaseModel):
    """What a Lambda proxy integration must return; anything else is a 502 at API Gateway."""

    model_config = ConfigDict(extra="ignore")

    status_code: int = Field(alias="statusCode", ge=100, le=599)
    headers: dict[str, str] | None = None
    multi_value_headers: dict[str, list[str]] | None = Field(default=None, alias="multiValueHeaders")
    body: str | None = None
    is_base64_encoded: bool = Field(default=False, alias="isBase64Encoded")

    def body_bytes(self) -> bytes:
        if self.body is None:
            return b""
        if self.is_base64_encoded:
            return base64.b64decode(self.body, validate=True)
        return self.body.encode("utf-8")

    def header_pairs(self) -> list[tuple[str, str]]:
        """`multiValueHeaders` and `headers` merged as API Gateway does (multi-values first)."""
        pairs: list[tuple[str, str]] = []
        seen: set[str] = set()
        for name, values in (self.multi_value_headers or {}).items():
            seen.add(name.lower())
            pairs.extend((name, value) for value in values)
        for name, value in (self.headers or {}).items():
            if name.lower() not in seen:
                pairs.append((name, value))
        return pairs


class ReceivedRequest(BaseModel):
    """One HTTP request as the server read it, before it becomes a proxy event."""

    model_config = ConfigDict(frozen=True)

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str


def proxy_event(request: ReceivedRequest, *, resource: str, request_id: str, now: float) -> dict[str, Any]:
    """The API Gateway REST proxy event API Gateway builds for `request` on `resource`.

    Header names keep the case they were sent with (`headers` holds the last value of a repeated
    header, `multiValueHeaders` all of them); the body is text when it is UTF-8, else base64
    with `isBase64Encoded` (the handler verifies the HMAC over the decoded bytes either way).
    """
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    query_pairs = parse_qsl(request.query, keep_blank_values=True)
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in query_pairs:
        query[name] = value
        multi_query.setdefault(name, []).append(value)
    body: str | None
    encoded = False
    if not request.body:
        body = None
    else:
        try:
            body = request.body.decode("utf-8")
        except UnicodeDecodeError:
            body = base64.b64encode(request.body).decode("ascii")
            encoded = True
    user_agent = headers.get("User-Agent") or headers.get("user-agent")
    host = next((value for name, value in request.headers if name.lower() == "host"), "127.0.0.1")
    return {
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": _LOCAL_API_ID,
            "resourceId": resource.strip("/") or "root",
            "resourcePath": resource,
            "httpMethod": request.method,
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "path": f"/{STAGE}{request.path}",
            "protocol": "HTTP/1.1",
            "stage": STAGE,
            "domainPrefix": _LOCAL_API_ID,
            "domainName": host,
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": request.source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": user_agent,
                "user": None,
            },
        },
        "body": body,
        "isBase64Encoded": encoded,
    }


def _gateway_answer(status: int, message: str, **headers: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """An answer API Gateway gives by itself: `{"message": ...}`, the function never runs."""
    return status, [("Content-Type", _JSON), *headers.items()], json.dumps({"message": message}).encode()


class _RequestTooLarge(Exception):
    pass


class _MalformedBody(Exception):
    pass


class LocalWebhookServer:
    """A ThreadingHTTPServer on 127.0.0.1 that fronts the webhook function of a LocalCloud."""

    def __init__(
        self,
        cloud: LocalCloud,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        secret: str = LOCAL_WEBHOOK_SECRET,
        environments: tuple[str, ...] = DEFAULT_LOCAL_ENVIRONMENTS,
        max_payload_bytes: int = API_GATEWAY_MAX_PAYLOAD_BYTES,
    ) -> None:
        self.cloud = cloud
        self.host = host
        self.port = port
        self.max_payload_bytes = max_payload_bytes
        self._secret = secret
        self._environments = environments
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # One warm "container": Lambda never runs two invocations in one process, and the handler
        # keeps per-process state (the powertools resolver's current event). Requests arrive on
        # several threads here, so they enter the function one at a time.
        self._container = threading.Lock()
        self.function_name, self.function_environment = self._webhook_function()

    def __repr__(self) -> str:  # never shows the secret
        return (
            f"LocalWebhookServer(url={self.url if self._httpd else None!r}, function={self.function_name!r})"
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> LocalWebhookServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> LocalWebhookServer:
        if self._httpd is not None:
            return self
        self._prepare_cloud()
        try:
            httpd = ThreadingHTTPServer((self.host, self.port), _handler_class(self))
        except OSError as error:
            raise WebhookServerError(f"cannot listen on {self.host}:{self.port}: {error}") from error
        httpd.daemon_threads = True
        self._httpd = httpd
        self.port = int(httpd.server_address[1])
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="local-webhook", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close the socket and wait for the serving thread (bounded)."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def publish_url(self) -> str:
        return f"{self.url}/publish"

    # -- set-up ------------------------------------------------------------------------------

    def _webhook_function(self) -> tuple[str, dict[str, str]]:
        matches = [
            resource
            for resource in self.cloud.resources.of_type("AWS::Lambda::Function")
            if resource.properties.get("Handler") == WEBHOOK_HANDLER
        ]
        if not matches:
            raise WebhookFunctionMissingError(
                f"the synthesized stack has no Lambda function with handler {WEBHOOK_HANDLER}; "
                "the webhook API (infra/constructs/webhook_api.py, WebhookApiConstruct) must be part of "
                "FlowopsStack for the local webhook endpoint to serve it"
            )
        if len(matches) > 1:
            names = sorted(resource.logical_id for resource in matches)
            raise WebhookFunctionMissingError(
                f"more than one function has handler {WEBHOOK_HANDLER}: {names}"
            )
        function = matches[0]
        return function.ref, self.cloud.function_environment(function.logical_id)

    def _prepare_cloud(self) -> None:
        """The pieces a deployed stack gets from its operator: the shared secret, environments.

        Both are created only when missing, so a secret or substitutions set up on purpose
        (or by `flowops publish`, which creates the same local secret) are left alone.
        """
        secrets = self.cloud.client("secretsmanager")
        secret_id = self.function_environment.get("WEBHOOK_SECRET_ID", "")
        if not secret_id:
            raise WebhookFunctionMissingError(
                "the webhook function has no WEBHOOK_SECRET_ID in its environment"
            )
        try:
            secrets.describe_secret(SecretId=secret_id)
        except secrets.exceptions.ResourceNotFoundException:
            secrets.create_secret(Name=secret_id, SecretString=self._secret)
        bucket = self.function_environment.get("ARTIFACTS_BUCKET")
        org = self.function_environment.get("FLOWOPS_ORG", "dev")
        if bucket:
            from flowops.store import ArtifactStore
            from flowops.webhook.lookup import substitutions_key

            artifacts = ArtifactStore(bucket, self.cloud.client("s3"))
            for environment in self._environments:
                key = substitutions_key(org, environment)
                if not artifacts.exists(key):
                    artifacts.put_json(key, {})

    # -- one request -------------------------------------------------------------------------

    def respond(self, request: ReceivedRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        """Status, headers and body API Gateway + the function answer `request` with."""
        request_id = str(uuid.uuid4())
        resource = self._resource_for(request.path)
        if resource is None or request.method not in ROUTES[resource]:
            # API Gateway REST answers unknown resources and undefined methods alike.
            return _gateway_answer(403, "Missing Authentication Token", **_MISSING_TOKEN_HEADERS)
        # The event's `path` never carries the stage (API Gateway strips it from execute-api URLs).
        event = proxy_event(
            request.model_copy(update={"path": resource}),
            resource=resource,
            request_id=request_id,
            now=time.time(),
        )
        status, headers, body = self._invoke(event)
        return status, [*headers, ("x-amzn-RequestId", request_id)], body

    def _resource_for(self, path: str) -> str | None:
        stageless = path.removeprefix(f"/{STAGE}") if path.startswith(f"/{STAGE}/") else path
        return stageless if stageless in ROUTES else None

    def _invoke(self, event: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        with self._container:
            answer = self.cloud.client("lambda").invoke(
                FunctionName=self.function_name, Payload=json.dumps(event).encode("utf-8")
            )
        payload = answer["Payload"].read()
        if answer.get("FunctionError"):
            logger.error("webhook function failed: %s", _error_type(payload))
            return _gateway_answer(502, "Internal server error")
        try:
            response = ProxyResponse.model_validate_json(payload or b"null")
            body = response.body_bytes()
        except (ValidationError, binascii.Error, ValueError):
            logger.error("webhook function returned a malformed proxy response")
            return _gateway_answer(502, "Internal server error")
        headers = response.header_pairs()
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", _JSON))  # API Gateway's default for proxy responses
        return response.status_code, headers, body


def _error_type(payload: bytes) -> str:
    try:
        return str(json.loads(payload).get("errorType", "unknown"))
    except (ValueError, AttributeError):
        return "unknown"


def _handler_class(server: LocalWebhookServer) -> type[BaseHTTPRequestHandler]:
    class WebhookRequestHandler(BaseHTTPRequestHandler):
        # HTTP/1.1 keeps connections alive for Git servers and `requests` sessions; every
        # answer carries Content-Length, so the framing is always explicit.
        protocol_version = "HTTP/1.1"

        def version_string(self) -> str:
            return "flowops-local-apigateway"

        def do_request(self) -> None:
            try:
                body = self._read_body()
            except _RequestTooLarge:
                # The rest of the body is never read: close instead of draining up to 10 MB.
                self.close_connection = True
                self._send(*_gateway_answer(413, "Request Too Long"))
                return
            except _MalformedBody:
                self.close_connection = True
                self._send(*_gateway_answer(400, "Bad Request"))
                return
            target = urlsplit(self.path)
            request = ReceivedRequest(
                method=self.command,
                path=target.path or "/",
                query=target.query,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
            )
            try:
                status, headers, payload = server.respond(request)
            except Exception:
                # The local Lambda service itself failed: API Gateway's answer to an integration failure.
                logger.exception("local webhook invocation failed")
                status, headers, payload = _gateway_answer(502, "Internal server error")
            self._send(status, headers, payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_request

        def _read_body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                return self._read_chunked()
            length_text = self.headers.get("Content-Length")
            if not length_text:
                return b""
            # ASCII digits only, as HTTP defines it: int() would also read "١٢", "+5" or " 1_0 ".
            if not length_text.isascii() or not length_text.strip().isdigit():
                raise _MalformedBody
            length = int(length_text)
            if length > server.max_payload_bytes:
                raise _RequestTooLarge
            return self.rfile.read(length)

        def _read_chunked(self) -> bytes:
            chunks: list[bytes] = []
            total = 0
            while True:
                size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
                # Hex digits only: int() also takes "-5" (and read(-5) reads to the end of the
                # stream, unbounded) or "1_0".
                if _CHUNK_SIZE.fullmatch(size_line) is None:
                    raise _MalformedBody
                size = int(size_line, 16)
                if size == 0:
                    while self.rfile.readline(1024).strip():  # trailers, then the final CRLF
                        pass
                    return b"".join(chunks)
                total += size
                if total > server.max_payload_bytes:
                    raise _RequestTooLarge
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)  # the CRLF after each chunk

        def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            # One access line per request at INFO (method, path, status); never headers or bodies.
            logger.info("%s %s", self.address_string(), format % args)

    return WebhookRequestHandler


__all__ = [
    "API_GATEWAY_MAX_PAYLOAD_BYTES",
    "LOCAL_WEBHOOK_SECRET",
    "ROUTES",
    "WEBHOOK_HANDLER",
    "LocalWebhookServer",
    "ProxyResponse",
    "ReceivedRequest",
    "WebhookFunctionMissingError",
    "WebhookServerError",
    "proxy_event",
]
