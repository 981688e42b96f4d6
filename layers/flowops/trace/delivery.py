"""Delivering trace reports to an observability webhook, and redriving the dead letters.

The body is canonical JSON (sorted keys, compact) so that the bytes signed at first delivery and
at a redrive are the same. It is signed with the scheme of inbound webhooks
(`flowops.webhook.signature`): `X-Hub-Signature-256: sha256=<hmac>` over the body, plus the
bound signature over timestamp, delivery id and body. The delivery id is the trace id, so a
receiver can drop a duplicate (a redrive of a delivery whose answer was lost).

Retries with backoff belong to the state machine (Retry on `Trace.DeliveryFailed`); after the
last one it sends the payload to the SQS dead-letter queue. `redrive_dead_letters` posts those
messages again and deletes each one only once the webhook accepted it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from flowops.trace.request import DeliveryFailedError
from flowops.webhook.signature import signed_headers

USER_AGENT = "flowops-trace/1"
DEFAULT_TIMEOUT_SECONDS = 10.0


def canonical_body(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def redact_url(url: str) -> str:
    """The URL without user info, query or fragment: tokens there never reach a message."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class WebhookEndpoint(BaseModel):
    """Where and how to deliver. The secret is a SecretStr: it never shows in a repr."""

    model_config = ConfigDict(frozen=True)

    url: str = Field(pattern=r"^https?://")
    secret: SecretStr
    timeout_seconds: float = Field(default=DEFAULT_TIMEOUT_SECONDS, gt=0, le=60)

    def __repr__(self) -> str:
        return f"WebhookEndpoint(url={redact_url(self.url)!r})"

    __str__ = __repr__


class HttpPoster(Protocol):
    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        """POST and return the HTTP status; raise OSError-like errors when unreachable."""
        ...


class RequestsPoster:
    """HttpPoster over `requests` (no redirects: a signed body goes only where configured)."""

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        import requests

        response = requests.post(
            url, data=body, headers=dict(headers), timeout=timeout, allow_redirects=False
        )
        return int(response.status_code)


class DeliveryResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: str = Field(description="delivered | not_configured")
    status_code: int | None = None
    delivery_id: str
    endpoint: str | None = Field(default=None, description="redacted URL")


def deliver_payload(
    payload: Mapping[str, Any],
    endpoint: WebhookEndpoint | None,
    *,
    delivery_id: str,
    timestamp: int,
    poster: HttpPoster | None = None,
) -> DeliveryResult:
    """POST one signed payload; DeliveryFailedError unless the webhook answers 2xx."""
    if endpoint is None:
        return DeliveryResult(outcome="not_configured", delivery_id=delivery_id)
    body = canonical_body(payload)
    headers = {
        **signed_headers(body, endpoint.secret, delivery_id=delivery_id, timestamp=timestamp),
        "User-Agent": USER_AGENT,
    }
    target = redact_url(endpoint.url)
    try:
        status = (poster or RequestsPoster()).post(endpoint.url, body, headers, endpoint.timeout_seconds)
    except Exception as error:
        raise DeliveryFailedError(
            f"observability webhook {target} unreachable: {type(error).__name__}"
        ) from None
    if not 200 <= status < 300:
        raise DeliveryFailedError(f"observability webhook {target} answered HTTP {status}")
    return DeliveryResult(outcome="delivered", status_code=status, delivery_id=delivery_id, endpoint=target)


def parse_signing_secret(secret_string: str) -> SecretStr:
    """The signing secret from a Secrets Manager SecretString: plain text or {"secret": "..."}."""
    text = secret_string.strip()
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            raise DeliveryFailedError("the trace webhook secret is not valid JSON") from None
        value = document.get("secret") if isinstance(document, dict) else None
        if not isinstance(value, str) or not value:
            raise DeliveryFailedError('the trace webhook secret JSON has no non-empty "secret" field')
        return SecretStr(value)
    if not text:
        raise DeliveryFailedError("the trace webhook secret is empty")
    return SecretStr(text)


# --------------------------------------------------------------------------- dead letters


class DeadLetter(BaseModel):
    model_config = ConfigDict(frozen=True)

    receipt_handle: str
    body: str

    def __repr__(self) -> str:
        return f"DeadLetter(body_chars={len(self.body)})"


class DeadLetterQueue(Protocol):
    def receive(self, max_messages: int) -> Sequence[DeadLetter]: ...

    def delete(self, receipt_handle: str) -> None: ...


class SqsDeadLetterQueue:
    """DeadLetterQueue over an SQS queue URL (boto3 client injected)."""

    def __init__(self, queue_url: str, sqs_client: Any, *, visibility_timeout: int = 60) -> None:
        self.queue_url = queue_url
        self._sqs = sqs_client
        self._visibility_timeout = visibility_timeout

    def receive(self, max_messages: int) -> list[DeadLetter]:
        response = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(10, max_messages)),
            VisibilityTimeout=self._visibility_timeout,
            WaitTimeSeconds=0,
        )
        return [
            DeadLetter(receipt_handle=str(message["ReceiptHandle"]), body=str(message["Body"]))
            for message in response.get("Messages", [])
        ]

    def delete(self, receipt_handle: str) -> None:
        self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt_handle)


class RedrivenDelivery(BaseModel):
    trace_id: str | None
    outcome: str = Field(description="delivered | failed | unreadable")
    detail: str = ""


class RedriveResult(BaseModel):
    received: int = 0
    delivered: int = 0
    failed: int = 0
    unreadable: int = 0
    deliveries: list[RedrivenDelivery] = Field(default_factory=list)


def redrive_dead_letters(
    queue: DeadLetterQueue,
    endpoint: WebhookEndpoint | None,
    *,
    timestamp: int,
    poster: HttpPoster | None = None,
    max_messages: int = 100,
) -> RedriveResult:
    """Post every parked trace again; delete a message only after the webhook accepted it.

    A message that fails again stays in the queue (invisible for the visibility timeout, so one
    redrive does not spin on it); an unreadable one stays too, for a person to look at.
    """
    if endpoint is None:
        raise DeliveryFailedError(
            "no observability webhook is configured (TRACE_WEBHOOK_URL): nothing to redrive to"
        )
    result = RedriveResult()
    while result.received < max_messages:
        batch = queue.receive(min(10, max_messages - result.received))
        if not batch:
            break
        for letter in batch:
            result.received += 1
            try:
                message = json.loads(letter.body)
                payload = message["payload"]
                trace_id = str(message["trace_id"])
                if not isinstance(payload, dict):
                    raise TypeError("payload is not an object")
            except (ValueError, KeyError, TypeError) as error:
                result.unreadable += 1
                result.deliveries.append(
                    RedrivenDelivery(trace_id=None, outcome="unreadable", detail=str(error))
                )
                continue
            try:
                deliver_payload(payload, endpoint, delivery_id=trace_id, timestamp=timestamp, poster=poster)
            except DeliveryFailedError as error:
                result.failed += 1
                result.deliveries.append(
                    RedrivenDelivery(trace_id=trace_id, outcome="failed", detail=str(error))
                )
                continue
            queue.delete(letter.receipt_handle)
            result.delivered += 1
            result.deliveries.append(RedrivenDelivery(trace_id=trace_id, outcome="delivered"))
    return result
