"""Signed delivery of trace payloads and the dead-letter redrive, over in-memory fakes."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest
from pydantic import SecretStr

from flowops.trace.delivery import (
    DeadLetter,
    WebhookEndpoint,
    canonical_body,
    deliver_payload,
    parse_signing_secret,
    redact_url,
    redrive_dead_letters,
)
from flowops.trace.request import DeliveryFailedError
from flowops.webhook.signature import BOUND_SIGNATURE_HEADER, SIGNATURE_HEADER, sign, sign_bound, verify

SECRET = "hook-key"
ENDPOINT = WebhookEndpoint(url="https://hooks.example/flowops?token=abc123", secret=SecretStr(SECRET))
PAYLOAD = {"trace_id": "t-1", "runs_analyzed": 3, "summary": "Trace of 3 runs — ünïcode"}


class Poster:
    def __init__(self, *statuses: int | Exception) -> None:
        self.statuses = list(statuses)
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        self.sent.append((url, body, dict(headers)))
        outcome = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


class Queue:
    def __init__(self, bodies: list[str]) -> None:
        self.messages = {f"r{i}": body for i, body in enumerate(bodies)}
        self.invisible: set[str] = set()

    def receive(self, max_messages: int) -> list[DeadLetter]:
        visible = [r for r in self.messages if r not in self.invisible][:max_messages]
        self.invisible.update(visible)  # like SQS: received messages hide for the visibility timeout
        return [DeadLetter(receipt_handle=r, body=self.messages[r]) for r in visible]

    def delete(self, receipt_handle: str) -> None:
        del self.messages[receipt_handle]


def parked(trace_id: str) -> str:
    return json.dumps({"trace_id": trace_id, "payload": {**PAYLOAD, "trace_id": trace_id}, "error": "x"})


def test_a_delivery_is_signed_over_the_canonical_body() -> None:
    # Given a configured webhook that accepts
    poster = Poster(202)
    # When a payload is delivered
    result = deliver_payload(PAYLOAD, ENDPOINT, delivery_id="t-1", timestamp=1700000000, poster=poster)
    # Then the canonical body is sent with both signatures of the inbound scheme
    ((url, body, headers),) = poster.sent
    assert url == ENDPOINT.url and body == canonical_body(PAYLOAD)
    verify(body, headers[SIGNATURE_HEADER], SECRET, header=SIGNATURE_HEADER)
    assert headers[SIGNATURE_HEADER] == sign(body, SECRET)
    assert headers[BOUND_SIGNATURE_HEADER] == sign_bound(
        body, SECRET, timestamp="1700000000", delivery_id="t-1"
    )
    assert headers["X-Flowops-Delivery"] == "t-1"
    # and the result names the endpoint without its query token
    assert result.outcome == "delivered" and result.status_code == 202
    assert result.endpoint == "https://hooks.example/flowops"


@pytest.mark.parametrize("answer", [503, 404, ConnectionError("refused with token=abc123")])
def test_a_refused_or_unreachable_webhook_is_a_failed_delivery_without_secrets(
    answer: int | Exception,
) -> None:
    # Given a webhook that refuses or cannot be reached; When delivering; Then DeliveryFailedError
    with pytest.raises(DeliveryFailedError) as raised:
        deliver_payload(PAYLOAD, ENDPOINT, delivery_id="t-1", timestamp=1, poster=Poster(answer))
    message = str(raised.value)
    assert "https://hooks.example/flowops" in message
    assert "abc123" not in message and SECRET not in message
    assert raised.value.asl_error_name == "Trace.DeliveryFailed"


def test_no_endpoint_means_not_configured() -> None:
    assert deliver_payload(PAYLOAD, None, delivery_id="t", timestamp=1).outcome == "not_configured"


def test_the_endpoint_never_shows_its_secret() -> None:
    assert SECRET not in repr(ENDPOINT) and SECRET not in str(ENDPOINT) and "abc123" not in repr(ENDPOINT)
    assert redact_url("https://user:pw@h.example:8443/p?q=1#f") == "https://h.example:8443/p"


@pytest.mark.parametrize(
    ("stored", "expected"), [("plain-key", "plain-key"), ('{"secret": "json-key"}', "json-key")]
)
def test_signing_secrets_are_plain_text_or_json(stored: str, expected: str) -> None:
    assert parse_signing_secret(stored).get_secret_value() == expected


@pytest.mark.parametrize("stored", ["", "{not json", '{"other": 1}'])
def test_unusable_signing_secrets_are_refused(stored: str) -> None:
    with pytest.raises(DeliveryFailedError):
        parse_signing_secret(stored)


def test_redrive_deletes_what_was_delivered_and_keeps_the_rest() -> None:
    # Given three parked traces, one unreadable; the webhook accepts the first and refuses the second
    queue = Queue([parked("t-1"), parked("t-2"), "not json"])
    poster = Poster(200, 500)
    # When the redrive runs
    result = redrive_dead_letters(queue, ENDPOINT, timestamp=5, poster=poster)
    # Then the delivered one is deleted, the refused and the unreadable stay for later
    assert (result.received, result.delivered, result.failed, result.unreadable) == (3, 1, 1, 1)
    assert sorted(queue.messages) == ["r1", "r2"]
    # and the redelivered body is byte for byte the canonical payload, with the trace id as delivery id
    url, body, headers = poster.sent[0]
    assert body == canonical_body({**PAYLOAD, "trace_id": "t-1"})
    assert headers["X-Flowops-Delivery"] == "t-1"


def test_redrive_without_a_webhook_refuses() -> None:
    with pytest.raises(DeliveryFailedError, match="TRACE_WEBHOOK_URL"):
        redrive_dead_letters(Queue([parked("t-1")]), None, timestamp=1)


def test_redrive_stops_at_max_messages() -> None:
    queue = Queue([parked(f"t-{i}") for i in range(25)])
    result = redrive_dead_letters(queue, ENDPOINT, timestamp=1, poster=Poster(200), max_messages=12)
    assert (result.received, result.delivered, len(queue.messages)) == (12, 12, 13)
