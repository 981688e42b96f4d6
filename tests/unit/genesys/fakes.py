"""In-memory fakes for driving `GenesysClient` without a network: a fake clock and a
`requests` transport adapter that routes requests to Python handlers."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from flowops.genesys import ClientCredentials, GenesysClient, RetryPolicy
from flowops.genesys.ratelimit import RateLimiter

CLIENT_ID = "client-0123"
CLIENT_SECRET = "s3cr3t-value-never-shown"
BASE_URL = "https://api.fake.pure.cloud"
TOKEN_URL = "https://login.fake.pure.cloud/oauth/token"


class FakeClock:
    """Time that only moves when someone sleeps (or a test advances it)."""

    def __init__(self, start: float = 1_000.0) -> None:
        self._now = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return 1_700_000_000.0 + self._now

    def monotonic(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds > 0:
            self._now += seconds

    def advance(self, seconds: float) -> None:
        self._now += seconds


class MemorySchedule:
    """The shared schedule's contract (flowops.store.rate_schedule) in memory."""

    def __init__(self) -> None:
        self.next_slot_at: float | None = None

    def reserve(self, earliest: float, interval_seconds: float) -> float:
        slot = earliest if self.next_slot_at is None else max(earliest, self.next_slot_at)
        self.next_slot_at = slot + interval_seconds
        return slot

    def hold_until(self, moment: float) -> None:
        self.next_slot_at = moment if self.next_slot_at is None else max(self.next_slot_at, moment)


class SequenceRandom:
    """A 'random' source that returns the top of the range, so backoff ceilings are visible."""

    def __init__(self) -> None:
        self.ranges: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.ranges.append((a, b))
        return b


@dataclass
class RecordedRequest:
    method: str
    url: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


Handler = Callable[[RecordedRequest], Reply]


class FakeTransport(BaseAdapter):
    """Routes each request to the first handler whose (method, path) matches.

    A handler may raise `requests.ConnectionError`/`requests.Timeout` to simulate the network.
    The token endpoint answers by default with a token that lasts `token_lifetime` seconds.
    """

    def __init__(self, token_lifetime: float = 3600.0) -> None:
        super().__init__()
        self.routes: list[tuple[str, str, Handler]] = []
        self.requests: list[RecordedRequest] = []
        self.token_lifetime = token_lifetime
        self.tokens_issued = 0
        self.valid_tokens: set[str] = set()
        self.route("POST", "/oauth/token", self._issue_token)

    def _issue_token(self, request: RecordedRequest) -> Reply:
        self.tokens_issued += 1
        token = f"token-{self.tokens_issued}"
        self.valid_tokens.add(token)
        return Reply(200, {"access_token": token, "token_type": "bearer", "expires_in": self.token_lifetime})

    def route(self, method: str, path: str, handler: Handler) -> None:
        # Newer routes win, so a test can override the default token endpoint.
        self.routes.insert(0, (method, path, handler))

    def reply(self, method: str, path: str, *replies: Reply) -> None:
        """Answer with `replies` in order, repeating the last one."""
        queue = list(replies)

        def handler(_: RecordedRequest) -> Reply:
            return queue.pop(0) if len(queue) > 1 else queue[0]

        self.route(method, path, handler)

    def calls(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        body = request.body or b""
        recorded = RecordedRequest(
            method=request.method or "",
            url=request.url or "",
            path=parts.path,
            query=parse_qs(parts.query),
            headers=dict(request.headers),
            body=body.encode() if isinstance(body, str) else body,
        )
        self.requests.append(recorded)
        for method, path, handler in self.routes:
            if method == recorded.method and path == recorded.path:
                reply = handler(recorded)
                break
        else:
            reply = Reply(
                404, {"message": f"no route {recorded.method} {recorded.path}", "code": "not.found"}
            )
        response = requests.Response()
        response.status_code = reply.status
        payload = reply.encoded()
        response._content = payload
        response._content_consumed = True  # type: ignore[attr-defined]
        response.raw = io.BytesIO(payload)
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json", **reply.headers})
        response.url = recorded.url
        response.request = request
        return response

    def close(self) -> None:
        return None


def build_client(
    transport: FakeTransport,
    clock: FakeClock,
    *,
    retry_policy: RetryPolicy | None = None,
    random_source: SequenceRandom | None = None,
    rate_limiter: RateLimiter | None = None,
) -> GenesysClient:
    session = requests.Session()
    session.mount("https://", transport)
    session.mount("http://", transport)
    return GenesysClient(
        ClientCredentials(client_id=CLIENT_ID, client_secret=CLIENT_SECRET),  # type: ignore[arg-type]
        base_url=BASE_URL,
        clock=clock,
        session=session,
        retry_policy=retry_policy,
        random_source=random_source or SequenceRandom(),
        rate_limiter=rate_limiter,
    )


def flow_json(flow_id: str, name: str = "Main IVR", **extra: Any) -> dict[str, Any]:
    return {
        "id": flow_id,
        "name": name,
        "type": "INBOUNDCALL",
        "selfUri": f"/api/v2/flows/{flow_id}",
        **extra,
    }


def page_json(
    entities: list[Any], *, page_number: int, page_count: int, page_size: int = 25
) -> dict[str, Any]:
    return {
        "entities": entities,
        "pageSize": page_size,
        "pageNumber": page_number,
        "total": page_count * page_size,
        "pageCount": page_count,
    }
