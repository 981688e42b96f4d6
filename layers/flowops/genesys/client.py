"""`GenesysClient`: the only code in flowops that speaks HTTP to Genesys Cloud.

Every request goes through one pipeline:
  rate limiter (pace under the org's limit) -> send -> retry 429 (Retry-After) and
  5xx/timeouts/resets (full-jitter backoff, bounded by attempts and elapsed time) ->
  on 401 drop the token, re-authenticate once, retry once -> map failures to typed errors
  (`errors.error_from_response`).

Time budget: `remaining_seconds` (None: unbounded) says how long the caller has left, on the
client's clock; a Lambda step sets it from `context.get_remaining_time_in_millis()`. No request is
sent and no retry wait starts unless the policy's reserve is still left afterwards, and each
request's timeout is cut to what is left: the step raises a retryable `Genesys.*` error in time
for Step Functions to retry it, instead of being killed at its timeout (`Lambda.Unknown`).

Only real endpoints (see docs genesys-api.md). `api_calls` counts every HTTP request sent to
Genesys (API and token endpoint, retries included) by "METHOD /path/template"; uploads to
presigned URLs and downloads of result files are not Genesys API calls and are not counted.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, urljoin, urlsplit

import requests
from pydantic import BaseModel, ValidationError

from flowops.clock import Clock, SystemClock
from flowops.genesys.auth import TOKEN_OPERATION, TokenHttpResponse, TokenProvider
from flowops.genesys.credentials import ClientCredentials
from flowops.genesys.errors import (
    AuthenticationError,
    FlowLockedError,
    GenesysError,
    GenesysUnavailableError,
    NotFoundError,
    OutOfTimeError,
    ServerError,
    WriteOutcomeUnknownError,
    error_from_response,
)
from flowops.genesys.models import (
    Action,
    ActionDraftValidation,
    ArchitectJob,
    ArchitectJobRegistration,
    Dependency,
    DependencyObject,
    DependencyStatus,
    ExecutionDataJob,
    ExecutionDataSettings,
    ExportJob,
    ExportJobRegistration,
    Flow,
    FlowInstance,
    FlowInstanceQuery,
    FlowVersion,
    Operation,
    Page,
    ValidateJob,
)
from flowops.genesys.objects import OrgObjectsMixin
from flowops.genesys.paging import iter_all
from flowops.genesys.ratelimit import RateLimiter
from flowops.genesys.regions import Endpoints, resolve_endpoints
from flowops.genesys.retry import RandomSource, RetryPolicy, default_random_source, parse_retry_after

logger = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")

DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)  # (connect, read) seconds
MAX_FLOWS_PAGE_SIZE = 500
MAX_INSTANCES_PAGE_SIZE = 200
MAX_ACTION_IDS_PER_REQUEST = 50
USER_AGENT = "flowops/0.1 (+requests)"
# Downloads (exports, execution data): Genesys answers a download URL with a redirect to a signed
# URL on another host. Bounded: a loop or a runaway body fails instead of hanging or filling memory.
MAX_DOWNLOAD_REDIRECTS = 5
MAX_DOWNLOAD_BYTES = 32 * 1024 * 1024
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DOWNLOADS_PATH = re.compile(r"^/api/v2/downloads/[^/]+$")
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

_NON_RETRYABLE_5XX = frozenset({501, 505})


def _is_retryable_server_status(status: int) -> bool:
    return status >= 500 and status not in _NON_RETRYABLE_5XX


def _never_sent(error: Exception) -> bool:
    """True when the connection failed before the request could reach the server."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    from urllib3.exceptions import NewConnectionError

    return isinstance(reason, NewConnectionError)


def _without_query(url: str) -> str:
    """A URL safe to log or put in an error: presigned signatures live in the query string."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _fill_path(template: str, path_params: Mapping[str, str] | None) -> str:
    if not path_params:
        return template
    return template.format_map({key: quote(str(value), safe="") for key, value in path_params.items()})


class GenesysClient(OrgObjectsMixin):
    """Typed access to the Genesys Cloud endpoints flowops uses."""

    def __init__(
        self,
        credentials: ClientCredentials,
        *,
        region: str | None = None,
        base_url: str | None = None,
        token_url: str | None = None,
        clock: Clock | None = None,
        session: requests.Session | None = None,
        retry_policy: RetryPolicy | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        rate_limiter: RateLimiter | None = None,
        random_source: RandomSource | None = None,
        remaining_seconds: Callable[[], float] | None = None,
    ) -> None:
        self.endpoints: Endpoints = resolve_endpoints(region=region, base_url=base_url, token_url=token_url)
        self.clock: Clock = clock or SystemClock()
        self.retry_policy = retry_policy or RetryPolicy()
        self.rate_limiter = rate_limiter or RateLimiter(self.clock)
        self._session = session or requests.Session()
        self._owns_session = session is None
        self._timeout = timeout
        self._random: RandomSource = random_source or default_random_source()
        self.remaining_seconds = remaining_seconds
        """Seconds the caller has left (a Lambda's remaining time); set per invocation."""
        self._count_lock = threading.Lock()
        self.api_calls: Counter[str] = Counter()
        self.tokens = TokenProvider(
            credentials,
            token_url=self.endpoints.token_url,
            send=self._send_token_request,
            clock=self.clock,
        )

    def __repr__(self) -> str:
        return f"GenesysClient(api={self.endpoints.api_base_url!r}, calls={self.total_api_calls})"

    @property
    def total_api_calls(self) -> int:
        with self._count_lock:
            return sum(self.api_calls.values())

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> GenesysClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transport pipeline

    def _remaining(self) -> float | None:
        return None if self.remaining_seconds is None else self.remaining_seconds()

    def _request_timeout(self, remaining: float | None) -> float | tuple[float, float]:
        """The configured (real-time) timeouts, cut to the time left on the client's clock.

        The cut is converted to real seconds when the clock runs faster than real time (local
        runs), so a slow answer is abandoned when the step's own clock says so.
        """
        if remaining is None:
            return self._timeout
        policy = self.retry_policy
        scale = float(getattr(self.clock, "scale", 1.0)) or 1.0
        cut = policy.request_timeout_seconds(float("inf"), remaining) / scale
        if isinstance(self._timeout, tuple):
            connect, read = self._timeout
            return (min(connect, cut), min(read, cut))
        return min(self._timeout, cut)

    def _count(self, operation: str) -> None:
        with self._count_lock:
            self.api_calls[operation] += 1

    def _exchange(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        headers: Mapping[str, str],
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Any = None,
        paced: bool = True,
        counted: bool = True,
        stream: bool = False,
        idempotent: bool = True,
    ) -> requests.Response:
        """Send with pacing and retries; return the final response whatever its status.

        Raises `GenesysUnavailableError` when the connection keeps failing. A final 429 or 5xx
        response is returned for the caller to map (so the error carries the body).

        A non-`idempotent` write (publish, check-in, a job upload) is resent only when it cannot
        have been applied: a 429 (refused before processing) or a connection that never opened.
        A broken connection after sending raises `WriteOutcomeUnknownError` at once, and a 5xx
        is returned at once: a gateway may answer 5xx for a request the platform applied, and a
        blind resend can publish twice or be refused (409/403) for a write that succeeded.
        """
        policy = self.retry_policy
        started = self.clock.monotonic()
        attempts = 0
        backoff_retries = 0
        while True:
            held = self.rate_limiter.held_for_seconds() if paced else 0.0
            if not policy.has_time_for_request(self._remaining(), after_seconds=held):
                raise OutOfTimeError(
                    f"no time left to wait {held:.0f}s for the rate limit and send {operation}; "
                    "the step is retried by the state machine",
                    operation=operation,
                )
            if paced and not self.rate_limiter.acquire(
                max_wait_seconds=policy.time_to_wait(self._remaining())
            ):
                # A budget shared with other processes can hold longer than this one knew.
                raise OutOfTimeError(
                    f"no time left to wait for the next shared rate-limit slot and send {operation}; "
                    "the step is retried by the state machine",
                    operation=operation,
                )
            remaining = self._remaining()
            if not policy.has_time_for_request(remaining):
                raise OutOfTimeError(
                    f"no time left to send {operation} ({remaining:.1f}s remaining, "
                    f"{policy.reserve_seconds + policy.min_request_seconds:.0f}s needed); "
                    "the step is retried by the state machine",
                    operation=operation,
                )
            if counted:
                self._count(operation)
            attempts += 1
            try:
                response = self._session.request(
                    method,
                    url,
                    headers=dict(headers),
                    params=params,
                    json=json_body,
                    data=data,
                    timeout=self._request_timeout(remaining),
                    allow_redirects=False,
                    stream=stream,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if not idempotent and not _never_sent(exc):
                    raise WriteOutcomeUnknownError(
                        f"{operation}: the connection broke after the request was sent "
                        f"({type(exc).__name__}); it may have been applied, so it is not resent",
                        operation=operation,
                    ) from None
                delay = policy.backoff_delay(backoff_retries, self._random)
                elapsed = self.clock.monotonic() - started
                if not policy.may_retry(
                    attempts_made=attempts,
                    elapsed_seconds=elapsed,
                    next_delay_seconds=delay,
                    remaining_seconds=self._remaining(),
                ):
                    raise GenesysUnavailableError(
                        f"could not reach Genesys for {operation}: {type(exc).__name__} on all "
                        f"{attempts} attempts over {elapsed:.1f}s; check network access to "
                        f"{urlsplit(url).netloc} and the Genesys status page",
                        operation=operation,
                    ) from None
                logger.warning(
                    "genesys request failed, retrying",
                    extra={"operation": operation, "error": type(exc).__name__, "delay_s": round(delay, 3)},
                )
                self.clock.sleep(delay)
                backoff_retries += 1
                continue

            if paced:
                self.rate_limiter.observe(response.headers)
            status = response.status_code
            elapsed = self.clock.monotonic() - started
            if status == 429:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                delay = policy.default_retry_after_seconds if retry_after is None else retry_after
                if not policy.may_retry(
                    attempts_made=attempts,
                    elapsed_seconds=elapsed,
                    next_delay_seconds=delay,
                    remaining_seconds=self._remaining(),
                ):
                    return response
                logger.warning(
                    "genesys rate limited, waiting Retry-After",
                    extra={
                        "operation": operation,
                        "retry_after_s": delay,
                        "correlation_id": _correlation(response),
                    },
                )
                if paced:
                    self.rate_limiter.defer_until(delay)
                response.close()
                self.clock.sleep(delay)
                continue
            if _is_retryable_server_status(status):
                if not idempotent:
                    return response
                delay = policy.backoff_delay(backoff_retries, self._random)
                if not policy.may_retry(
                    attempts_made=attempts,
                    elapsed_seconds=elapsed,
                    next_delay_seconds=delay,
                    remaining_seconds=self._remaining(),
                ):
                    return response
                logger.warning(
                    "genesys server error, retrying",
                    extra={
                        "operation": operation,
                        "status": status,
                        "delay_s": round(delay, 3),
                        "correlation_id": _correlation(response),
                    },
                )
                response.close()
                self.clock.sleep(delay)
                backoff_retries += 1
                continue
            return response

    def _send_token_request(
        self, url: str, headers: Mapping[str, str], form: Mapping[str, str]
    ) -> TokenHttpResponse:
        response = self._exchange(
            "POST",
            url,
            operation=TOKEN_OPERATION,
            headers={**headers, "User-Agent": USER_AGENT},
            data=dict(form),
            paced=False,  # the login host has its own limits; the API budget is per token
        )
        if response.status_code == 429 or _is_retryable_server_status(response.status_code):
            raise error_from_response(
                status=response.status_code,
                raw_body=response.content,
                headers=response.headers,
                operation=TOKEN_OPERATION,
                retry_after_seconds=parse_retry_after(response.headers.get("Retry-After")),
            )
        return TokenHttpResponse(status=response.status_code, body=response.content, headers=response.headers)

    def _api_request(
        self,
        method: str,
        path_template: str,
        *,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        flow_id: str | None = None,
        idempotent: bool = True,
    ) -> requests.Response:
        operation = f"{method} {path_template}"
        url = self.endpoints.api_base_url + _fill_path(path_template, path_params)
        clean_params = {key: value for key, value in (params or {}).items() if value is not None}
        response: requests.Response | None = None
        for authentication_attempt in (1, 2):
            headers = {
                "Authorization": f"Bearer {self.tokens.access_token()}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            }
            if json_body is not None:
                headers["Content-Type"] = "application/json"
            response = self._exchange(
                method,
                url,
                operation=operation,
                headers=headers,
                params=clean_params,
                json_body=json_body,
                idempotent=idempotent,
            )
            if response.status_code != 401 or authentication_attempt == 2:
                break
            # The cached token was revoked or expired early: get a fresh one and try once more.
            logger.info(
                "genesys rejected the access token, re-authenticating", extra={"operation": operation}
            )
            self.tokens.invalidate()
        assert response is not None
        if response.ok:
            return response
        error = error_from_response(
            status=response.status_code,
            raw_body=response.content,
            headers=response.headers,
            operation=operation,
            flow_id=flow_id,
            retry_after_seconds=parse_retry_after(response.headers.get("Retry-After")),
        )
        if isinstance(error, AuthenticationError) and response.status_code == 401:
            error.message += " (still rejected after re-authenticating once)"
        if isinstance(error, FlowLockedError) and error.locked_by is None and flow_id:
            self._name_lock_holder(error, flow_id)
        raise error

    def _name_lock_holder(self, error: FlowLockedError, flow_id: str) -> None:
        """The error body did not say who holds the lock: ask the flow itself."""
        try:
            holder = self.get_flow(flow_id).lock_holder
        except GenesysError:
            return
        if holder:
            error.locked_by = holder
            error.message = error.message.replace("locked by another user or client", f"locked by {holder}")

    def _get_model(
        self,
        model: type[ModelT],
        method: str,
        path_template: str,
        **kwargs: Any,
    ) -> ModelT:
        response = self._api_request(method, path_template, **kwargs)
        return _parse(model, _json_of(response, f"{method} {path_template}"), f"{method} {path_template}")

    # ------------------------------------------------------------------ transfers (absolute URLs)

    def _transfer(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        headers: Mapping[str, str],
        data: Any = None,
        idempotent: bool = True,
    ) -> requests.Response:
        absolute = urljoin(self.endpoints.api_base_url + "/", url)
        response = self._exchange(
            method,
            absolute,
            operation=operation,
            headers=headers,
            data=data,
            paced=False,
            counted=False,
            idempotent=idempotent,
        )
        if response.ok:
            return response
        raise self._transfer_error(response, absolute, operation)

    @staticmethod
    def _transfer_error(response: requests.Response, url: str, operation: str) -> GenesysError:
        target = _without_query(url)
        if _is_retryable_server_status(response.status_code) or response.status_code == 429:
            return ServerError(
                f"{operation} to {target} kept failing with HTTP {response.status_code} after retrying",
                status=response.status_code,
                operation=operation,
            )
        if response.status_code == 404:
            return NotFoundError(
                f"{operation}: {target} does not exist (HTTP 404)", status=404, operation=operation
            )
        return GenesysError(
            f"{operation} to {target} was refused with HTTP {response.status_code}; "
            "a presigned URL may have expired: register or start the job again",
            status=response.status_code,
            operation=operation,
        )

    def _is_api_origin(self, url: str) -> bool:
        api = urlsplit(self.endpoints.api_base_url)
        target = urlsplit(url)
        return (target.scheme, target.netloc) == (api.scheme, api.netloc)

    def _download(self, url: str, *, operation: str, accept: str) -> bytes:
        """GET a download URL, following redirects to signed URLs; bounded in hops and bytes.

        The Genesys token goes ONLY to the API origin (a `/api/v2/downloads/{id}` URL needs it);
        a signed URL on another host carries its own signature, and sending the bearer token
        there would hand it to the storage service (S3 even refuses a request with both).
        """
        current = urljoin(self.endpoints.api_base_url + "/", url)
        for _hop in range(MAX_DOWNLOAD_REDIRECTS + 1):
            path = urlsplit(current).path
            on_api = self._is_api_origin(current) and path.startswith("/api/")
            is_genesys_download = on_api and _DOWNLOADS_PATH.match(path)
            label = "GET /api/v2/downloads/{downloadId}" if is_genesys_download else operation
            headers = {"User-Agent": USER_AGENT, "Accept": accept}
            if on_api:
                headers["Authorization"] = f"Bearer {self.tokens.access_token()}"
            response = self._exchange(
                "GET", current, operation=label, headers=headers, paced=on_api, counted=on_api, stream=True
            )
            try:
                if response.status_code in _REDIRECT_STATUSES:
                    location = response.headers.get("Location")
                    if not location:
                        raise GenesysError(
                            f"{operation}: HTTP {response.status_code} redirect without a Location",
                            status=response.status_code,
                            operation=operation,
                        )
                    following = urljoin(current, location)
                    target = urlsplit(following)
                    if target.scheme != "https" and target.hostname not in _LOOPBACK_HOSTS:
                        raise GenesysError(
                            f"{operation}: refused a redirect to {target.scheme}://{target.netloc} "
                            "(downloads must stay on https)",
                            operation=operation,
                        )
                    current = following
                    continue
                if not response.ok:
                    if on_api:
                        raise error_from_response(
                            status=response.status_code,
                            raw_body=response.content,
                            headers=response.headers,
                            operation=label,
                            retry_after_seconds=parse_retry_after(response.headers.get("Retry-After")),
                        )
                    raise self._transfer_error(response, current, operation)
                return _bounded_body(response, operation)
            finally:
                response.close()
        raise GenesysError(
            f"{operation}: more than {MAX_DOWNLOAD_REDIRECTS} redirects "
            f"(ending at {_without_query(current)})",
            operation=operation,
        )

    # ------------------------------------------------------------------ flows

    def list_flows_page(
        self,
        *,
        page_number: int = 1,
        page_size: int = MAX_FLOWS_PAGE_SIZE,
        flow_types: Sequence[str] | None = None,
        name: str | None = None,
        ids: Sequence[str] | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        include_deleted: bool | None = None,
        division_ids: Sequence[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
    ) -> Page[Flow]:
        """`GET /api/v2/flows` (no definitions in this listing)."""
        params: dict[str, Any] = {
            "pageNumber": page_number,
            "pageSize": min(page_size, MAX_FLOWS_PAGE_SIZE),
            "type": [flow_type.lower() for flow_type in flow_types] if flow_types else None,
            "name": name,
            "id": list(ids) if ids else None,
            "sortBy": sort_by,
            "sortOrder": sort_order,
            "deleted": None if include_deleted is None else str(include_deleted).lower(),
            "divisionId": list(division_ids) if division_ids else None,
            **(extra_params or {}),
        }
        return self._get_model(Page[Flow], "GET", "/api/v2/flows", params=params)

    def iter_flows(self, *, page_size: int = MAX_FLOWS_PAGE_SIZE, **filters: Any) -> Iterator[Flow]:
        return iter_all(
            lambda number: self.list_flows_page(page_number=number, page_size=page_size, **filters)
        )

    def get_flow(self, flow_id: str) -> Flow:
        return self._get_model(Flow, "GET", "/api/v2/flows/{flowId}", path_params={"flowId": flow_id})

    def list_flow_versions_page(
        self, flow_id: str, *, page_number: int = 1, page_size: int = 100
    ) -> Page[FlowVersion]:
        return self._get_model(
            Page[FlowVersion],
            "GET",
            "/api/v2/flows/{flowId}/versions",
            path_params={"flowId": flow_id},
            params={"pageNumber": page_number, "pageSize": page_size},
        )

    def iter_flow_versions(self, flow_id: str, *, page_size: int = 100) -> Iterator[FlowVersion]:
        return iter_all(
            lambda number: self.list_flow_versions_page(flow_id, page_number=number, page_size=page_size)
        )

    def get_flow_version(self, flow_id: str, version_id: str) -> FlowVersion:
        return self._get_model(
            FlowVersion,
            "GET",
            "/api/v2/flows/{flowId}/versions/{versionId}",
            path_params={"flowId": flow_id, "versionId": version_id},
        )

    def get_flow_version_configuration(self, flow_id: str, version_id: str) -> dict[str, Any]:
        """The untyped Architect flow document of one version."""
        operation = "GET /api/v2/flows/{flowId}/versions/{versionId}/configuration"
        response = self._api_request(
            "GET",
            "/api/v2/flows/{flowId}/versions/{versionId}/configuration",
            path_params={"flowId": flow_id, "versionId": version_id},
        )
        return _json_object(response, operation)

    def get_flow_latest_configuration(self, flow_id: str) -> dict[str, Any]:
        operation = "GET /api/v2/flows/{flowId}/latestconfiguration"
        response = self._api_request(
            "GET", "/api/v2/flows/{flowId}/latestconfiguration", path_params={"flowId": flow_id}
        )
        return _json_object(response, operation)

    # Lifecycle actions: all take the flow id as the `flow` query parameter.

    def publish_flow(self, flow_id: str, *, version: str | None = None) -> Operation:
        """Asynchronous: poll `get_flow(...).current_operation` until complete."""
        return self._get_model(
            Operation,
            "POST",
            "/api/v2/flows/actions/publish",
            params={"flow": flow_id, "version": version},
            flow_id=flow_id,
            idempotent=False,  # a resend publishes again (or meets 409): callers check the flow
        )

    def checkin_flow(self, flow_id: str) -> Operation:
        return self._get_model(
            Operation,
            "POST",
            "/api/v2/flows/actions/checkin",
            params={"flow": flow_id},
            flow_id=flow_id,
            idempotent=False,
        )

    def checkout_flow(self, flow_id: str) -> Flow:
        return self._get_model(
            Flow, "POST", "/api/v2/flows/actions/checkout", params={"flow": flow_id}, flow_id=flow_id
        )

    def unlock_flow(self, flow_id: str) -> Flow:
        return self._get_model(
            Flow, "POST", "/api/v2/flows/actions/unlock", params={"flow": flow_id}, flow_id=flow_id
        )

    def revert_flow(self, flow_id: str) -> Flow:
        return self._get_model(
            Flow, "POST", "/api/v2/flows/actions/revert", params={"flow": flow_id}, flow_id=flow_id
        )

    def delete_flow(self, flow_id: str) -> None:
        """`DELETE /api/v2/flows/{flowId}` (what Terraform's destroy calls). A flow already gone
        answers 404 (`NotFoundError`): the caller decides whether that counts as done."""
        self._api_request(
            "DELETE", "/api/v2/flows/{flowId}", path_params={"flowId": flow_id}, flow_id=flow_id
        )

    # ------------------------------------------------------------------ architect jobs (deploy YAML)

    def register_architect_job(self, *, create_stubs: bool | None = None) -> ArchitectJobRegistration:
        body = {"createStubs": create_stubs} if create_stubs is not None else None
        return self._get_model(ArchitectJobRegistration, "POST", "/api/v2/flows/jobs", json_body=body)

    def upload_architect_job_file(
        self, registration: ArchitectJobRegistration, flow_yaml: str | bytes
    ) -> None:
        """PUT the YAML to the presigned URL with exactly the headers Genesys returned (no auth)."""
        payload = flow_yaml.encode("utf-8") if isinstance(flow_yaml, str) else flow_yaml
        self._transfer(
            "PUT",
            registration.presigned_url,
            operation="PUT architect job file",
            headers=registration.headers,
            data=payload,
            # A presigned URL takes one upload: a resend after a lost answer meets 403. Callers
            # read the job's status instead (`Registered` = the upload never arrived).
            idempotent=False,
        )

    def deploy_flow_yaml(
        self, flow_yaml: str | bytes, *, create_stubs: bool | None = None
    ) -> ArchitectJobRegistration:
        """Register a job and upload the YAML; poll `get_architect_job(registration.id)` next."""
        registration = self.register_architect_job(create_stubs=create_stubs)
        self.upload_architect_job_file(registration, flow_yaml)
        return registration

    def get_architect_job(self, job_id: str) -> ArchitectJob:
        return self._get_model(
            ArchitectJob,
            "GET",
            "/api/v2/flows/jobs/{jobId}",
            path_params={"jobId": job_id},
            params={"expand": "messages"},
        )

    # ------------------------------------------------------------------ export / validate jobs

    def start_export_job(
        self,
        flow_id: str,
        version: str,
        *,
        file_name: str | None = None,
        export_type: str = "Yaml",
    ) -> ExportJobRegistration:
        item: dict[str, Any] = {"flow": {"id": flow_id, "version": version}, "exportType": export_type}
        if file_name:
            item["fileName"] = file_name
        return self._get_model(
            ExportJobRegistration, "POST", "/api/v2/flows/export/jobs", json_body={"flows": [item]}
        )

    def get_export_job(self, job_id: str) -> ExportJob:
        return self._get_model(
            ExportJob,
            "GET",
            "/api/v2/flows/export/jobs/{jobId}",
            path_params={"jobId": job_id},
            params={"expand": "messages"},
        )

    def download_export(self, download_url: str) -> str:
        """The exported flow YAML from an export job's `downloadUrl` (redirects followed)."""
        body = self._download(download_url, operation="GET export download", accept="*/*")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise GenesysError(
                "the export download is not UTF-8 text (a zip of several flows?)",
                operation="GET export download",
            ) from None

    def start_validate_job(self, flows: Sequence[tuple[str, str | None]]) -> ValidateJob:
        """Validate stored flow versions: `flows` is (flow id, version or None for latest)."""
        items = [
            {"flow": {"id": flow_id, **({"version": version} if version else {})}}
            for flow_id, version in flows
        ]
        return self._get_model(ValidateJob, "POST", "/api/v2/flows/validate/jobs", json_body={"flows": items})

    def get_validate_job(self, job_id: str) -> ValidateJob:
        return self._get_model(
            ValidateJob,
            "GET",
            "/api/v2/flows/validate/jobs/{jobId}",
            path_params={"jobId": job_id},
            params={"expand": "messages"},
        )

    # ------------------------------------------------------------------ dependency tracking

    def get_dependency_tracking_status(self) -> DependencyStatus:
        return self._get_model(DependencyStatus, "GET", "/api/v2/architect/dependencytracking/build")

    def rebuild_dependency_tracking(self) -> None:
        """Starts an asynchronous rebuild; poll `get_dependency_tracking_status`."""
        self._api_request("POST", "/api/v2/architect/dependencytracking/build")

    def list_consumed_resources_page(
        self,
        object_id: str,
        *,
        version: str,
        object_type: str,
        resource_types: Sequence[str] | None = None,
        page_number: int = 1,
        page_size: int = 100,
    ) -> Page[Dependency]:
        """What one version of an object (e.g. a flow's published version) uses."""
        return self._get_model(
            Page[Dependency],
            "GET",
            "/api/v2/architect/dependencytracking/consumedresources",
            params={
                "id": object_id,
                "version": version,
                "objectType": object_type,
                "resourceType": list(resource_types) if resource_types else None,
                "pageNumber": page_number,
                "pageSize": page_size,
            },
        )

    def iter_consumed_resources(
        self, object_id: str, *, version: str, object_type: str, resource_types: Sequence[str] | None = None
    ) -> Iterator[Dependency]:
        return iter_all(
            lambda number: self.list_consumed_resources_page(
                object_id,
                version=version,
                object_type=object_type,
                resource_types=resource_types,
                page_number=number,
            )
        )

    def list_consuming_resources_page(
        self,
        object_id: str,
        *,
        object_type: str,
        version: str | None = None,
        resource_types: Sequence[str] | None = None,
        flow_filter: str | None = None,
        page_number: int = 1,
        page_size: int = 100,
    ) -> Page[Dependency]:
        """Who uses an object; `flow_filter` is `checkedIn` or `published`."""
        return self._get_model(
            Page[Dependency],
            "GET",
            "/api/v2/architect/dependencytracking/consumingresources",
            params={
                "id": object_id,
                "objectType": object_type,
                "version": version,
                "resourceType": list(resource_types) if resource_types else None,
                "flowFilter": flow_filter,
                "pageNumber": page_number,
                "pageSize": page_size,
            },
        )

    def iter_consuming_resources(
        self,
        object_id: str,
        *,
        object_type: str,
        version: str | None = None,
        resource_types: Sequence[str] | None = None,
        flow_filter: str | None = None,
    ) -> Iterator[Dependency]:
        return iter_all(
            lambda number: self.list_consuming_resources_page(
                object_id,
                object_type=object_type,
                version=version,
                resource_types=resource_types,
                flow_filter=flow_filter,
                page_number=number,
            )
        )

    def get_dependency_object(
        self,
        object_id: str,
        *,
        object_type: str,
        version: str | None = None,
        consumed_resources: bool = False,
        consuming_resources: bool = False,
    ) -> DependencyObject:
        return self._get_model(
            DependencyObject,
            "GET",
            "/api/v2/architect/dependencytracking/object",
            params={
                "id": object_id,
                "objectType": object_type,
                "version": version,
                "consumedResources": str(consumed_resources).lower(),
                "consumingResources": str(consuming_resources).lower(),
            },
        )

    # ------------------------------------------------------------------ execution data

    def get_execution_data_settings(self) -> ExecutionDataSettings:
        return self._get_model(ExecutionDataSettings, "GET", "/api/v2/flows/instances/settings/executiondata")

    def query_flow_instances(
        self, query: FlowInstanceQuery, *, page_size: int = MAX_INSTANCES_PAGE_SIZE
    ) -> Page[FlowInstance]:
        """At most 200 rows per call and no guarantee they are the newest: slice by time."""
        return self._get_model(
            Page[FlowInstance],
            "POST",
            "/api/v2/flows/instances/query",
            params={"pageSize": min(page_size, MAX_INSTANCES_PAGE_SIZE)},
            json_body=query.to_api(),
        )

    def start_execution_data_job(self, instance_ids: Sequence[str]) -> ExecutionDataJob:
        return self._get_model(
            ExecutionDataJob, "POST", "/api/v2/flows/instances/jobs", json_body={"ids": list(instance_ids)}
        )

    def get_execution_data_job(self, job_id: str) -> ExecutionDataJob:
        return self._get_model(
            ExecutionDataJob, "GET", "/api/v2/flows/instances/jobs/{jobId}", path_params={"jobId": job_id}
        )

    def download_execution_data(self, download_uri: str) -> dict[str, Any]:
        """One instance's execution document (`flow{...}` + `execution[...]`) from its downloadUri."""
        operation = "GET execution data download"
        body = self._download(download_uri, operation=operation, accept="application/json")
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise GenesysError(f"{operation}: the document is not JSON", operation=operation) from None
        if not isinstance(document, dict):
            raise GenesysError(f"{operation}: expected a JSON object", operation=operation)
        return document

    # ------------------------------------------------------------------ data actions

    def list_actions_page(
        self, *, ids: Sequence[str] | None = None, page_number: int = 1, page_size: int = 100
    ) -> Page[Action]:
        if ids and len(ids) > MAX_ACTION_IDS_PER_REQUEST:
            raise ValueError(f"at most {MAX_ACTION_IDS_PER_REQUEST} action ids per request, got {len(ids)}")
        return self._get_model(
            Page[Action],
            "GET",
            "/api/v2/integrations/actions",
            params={"ids": ",".join(ids) if ids else None, "pageNumber": page_number, "pageSize": page_size},
        )

    def iter_actions(self, *, ids: Sequence[str] | None = None, page_size: int = 100) -> Iterator[Action]:
        if ids and len(ids) > MAX_ACTION_IDS_PER_REQUEST:
            chunks = [
                ids[i : i + MAX_ACTION_IDS_PER_REQUEST]
                for i in range(0, len(ids), MAX_ACTION_IDS_PER_REQUEST)
            ]
            return (
                action for chunk in chunks for action in self.iter_actions(ids=chunk, page_size=page_size)
            )
        return iter_all(
            lambda number: self.list_actions_page(ids=ids, page_number=number, page_size=page_size)
        )

    def get_action(self, action_id: str) -> Action:
        return self._get_model(
            Action, "GET", "/api/v2/integrations/actions/{actionId}", path_params={"actionId": action_id}
        )

    def get_action_draft_validation(self, action_id: str) -> ActionDraftValidation:
        return self._get_model(
            ActionDraftValidation,
            "GET",
            "/api/v2/integrations/actions/{actionId}/draft/validation",
            path_params={"actionId": action_id},
        )

    # ------------------------------------------------------------------ blocking waits (CLI, local runs)

    def wait_until(
        self,
        fetch: Callable[[], T],
        done: Callable[[T], bool],
        *,
        what: str,
        poll_interval_seconds: float = 2.0,
        timeout_seconds: float = 960.0,
    ) -> T:
        """Poll `fetch` on the client's clock until `done`; GenesysError after `timeout_seconds`.

        Step Functions does its own waiting (Wait states); this is for the CLI and local runs.
        """
        deadline = self.clock.monotonic() + timeout_seconds
        while True:
            result = fetch()
            if done(result):
                return result
            if self.clock.monotonic() + poll_interval_seconds > deadline:
                raise GenesysError(f"{what} did not finish within {timeout_seconds:.0f}s")
            if not self.retry_policy.has_time_for_request(
                self._remaining(), after_seconds=poll_interval_seconds
            ):
                raise OutOfTimeError(f"{what} had not finished when the time left ran out; retry the step")
            self.clock.sleep(poll_interval_seconds)


def _bounded_body(response: requests.Response, operation: str) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > MAX_DOWNLOAD_BYTES:
        raise GenesysError(
            f"{operation}: the download is {int(declared)} bytes, over the {MAX_DOWNLOAD_BYTES} byte limit",
            operation=operation,
        )
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=65536):
        size += len(chunk)
        if size > MAX_DOWNLOAD_BYTES:
            raise GenesysError(
                f"{operation}: the download exceeds the {MAX_DOWNLOAD_BYTES} byte limit", operation=operation
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _correlation(response: requests.Response) -> str | None:
    return response.headers.get("inin-correlation-id")


def _json_of(response: requests.Response, operation: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise GenesysError(
            f"Genesys answered {operation} with HTTP {response.status_code} but the body is not JSON",
            status=response.status_code,
            correlation_id=_correlation(response),
            operation=operation,
        ) from None


def _json_object(response: requests.Response, operation: str) -> dict[str, Any]:
    document = _json_of(response, operation)
    if not isinstance(document, dict):
        raise GenesysError(
            f"expected a JSON object from {operation}, got {type(document).__name__}", operation=operation
        )
    return document


def _parse(model: type[ModelT], document: Any, operation: str) -> ModelT:
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}"
            for error in exc.errors()[:5]
        )
        raise GenesysError(
            f"unexpected response shape from {operation}: {problems}", operation=operation
        ) from None
