from __future__ import annotations

import logging

import pytest
import requests

from flowops.genesys import (
    GenesysClient,
    GenesysUnavailableError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
)
from flowops.genesys.retry import parse_retry_after

from .fakes import FakeClock, FakeTransport, RecordedRequest, Reply, SequenceRandom, build_client, flow_json

RATE_LIMITED = {
    "code": "too.many.requests.retry.after",
    "status": 429,
    "message": "Rate limit exceeded the maximum. Retry the request in [7] seconds",
}


def test_429_waits_exactly_retry_after_then_succeeds(
    client: GenesysClient, transport: FakeTransport, clock: FakeClock
) -> None:
    # Given the API rate-limits once with Retry-After: 7
    transport.reply(
        "GET", "/api/v2/flows/f1", Reply(429, RATE_LIMITED, {"Retry-After": "7"}), Reply(200, flow_json("f1"))
    )
    # When calling
    flow = client.get_flow("f1")
    # Then the client slept exactly 7 s (on the fake clock) and retried once
    assert flow.id == "f1"
    assert clock.sleeps == [7.0]
    assert client.api_calls["GET /api/v2/flows/{flowId}"] == 2


def test_persistent_429_becomes_rate_limited_error(transport: FakeTransport, clock: FakeClock) -> None:
    client = build_client(transport, clock, retry_policy=RetryPolicy(max_attempts=3))
    transport.reply("GET", "/api/v2/flows/f1", Reply(429, RATE_LIMITED, {"Retry-After": "2"}))
    with pytest.raises(RateLimitedError) as caught:
        client.get_flow("f1")
    assert caught.value.retryable and caught.value.asl_error_name == "Genesys.RateLimited"
    assert caught.value.retry_after_seconds == 2.0
    assert len(transport.calls("GET", "/api/v2/flows/f1")) == 3


def test_5xx_storm_backs_off_with_full_jitter_then_raises_server_error(
    transport: FakeTransport, clock: FakeClock
) -> None:
    # Given an API that keeps answering 503
    rng = SequenceRandom()
    policy = RetryPolicy(
        max_attempts=5, base_delay_seconds=0.5, max_delay_seconds=3.0, max_elapsed_seconds=1000
    )
    client = build_client(transport, clock, retry_policy=policy, random_source=rng)
    transport.reply(
        "GET",
        "/api/v2/flows/f1",
        Reply(
            503,
            {"message": "Service Unavailable", "code": "service.unavailable", "status": 503},
            {"inin-correlation-id": "corr-503"},
        ),
    )
    # When calling
    with pytest.raises(ServerError) as caught:
        client.get_flow("f1")
    # Then each wait was drawn from [0, min(cap, base * 2**n)] (full jitter)
    assert rng.ranges == [(0.0, 0.5), (0.0, 1.0), (0.0, 2.0), (0.0, 3.0), (0.0, 3.0)]
    assert clock.sleeps == [0.5, 1.0, 2.0, 3.0]
    # And the error is clear, retryable for Step Functions, and carries the correlation id
    error = caught.value
    assert "503" in str(error) and "after retrying" in str(error) and "corr-503" in str(error)
    assert error.retryable and error.asl_error_name == "Genesys.ServerError"
    assert error.correlation_id == "corr-503"
    assert len(transport.calls("GET", "/api/v2/flows/f1")) == 5


def test_retries_stop_at_the_total_elapsed_budget(transport: FakeTransport, clock: FakeClock) -> None:
    # Given a generous attempt count but only 10 s of total budget
    policy = RetryPolicy(
        max_attempts=100, base_delay_seconds=1.0, max_delay_seconds=4.0, max_elapsed_seconds=10.0
    )
    client = build_client(transport, clock, retry_policy=policy)
    transport.reply("GET", "/api/v2/flows/f1", Reply(500, {"message": "boom"}))
    started = clock.monotonic()
    with pytest.raises(ServerError):
        client.get_flow("f1")
    # Then no wait was started that would overrun the budget
    assert clock.monotonic() - started <= 10.0
    assert clock.sleeps == [1.0, 2.0, 4.0]


def test_connection_reset_is_retried(
    client: GenesysClient, transport: FakeTransport, clock: FakeClock
) -> None:
    failures = iter(
        [requests.ConnectionError("connection reset by peer"), requests.Timeout("read timed out")]
    )

    def flaky(_: RecordedRequest) -> Reply:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return Reply(200, flow_json("f1"))

    transport.route("GET", "/api/v2/flows/f1", flaky)
    assert client.get_flow("f1").id == "f1"
    assert len(clock.sleeps) == 2
    assert len(transport.calls("GET", "/api/v2/flows/f1")) == 3


def test_unreachable_genesys_is_unavailable_after_retries(transport: FakeTransport, clock: FakeClock) -> None:
    client = build_client(transport, clock, retry_policy=RetryPolicy(max_attempts=3))

    def down(_: RecordedRequest) -> Reply:
        raise requests.ConnectionError("connection refused")

    transport.route("GET", "/api/v2/flows/f1", down)
    with pytest.raises(GenesysUnavailableError) as caught:
        client.get_flow("f1")
    assert "ConnectionError" in str(caught.value) and "3 attempts" in str(caught.value)
    assert caught.value.retryable and caught.value.asl_error_name == "Genesys.Unavailable"


def test_4xx_is_never_retried(client: GenesysClient, transport: FakeTransport, clock: FakeClock) -> None:
    transport.reply(
        "GET", "/api/v2/flows/f1", Reply(400, {"message": "bad", "code": "bad.request", "status": 400})
    )
    with pytest.raises(Exception) as caught:
        client.get_flow("f1")
    assert not getattr(caught.value, "retryable", True)
    assert clock.sleeps == []
    assert len(transport.calls("GET", "/api/v2/flows/f1")) == 1


def test_retry_logs_never_contain_the_token(
    client: GenesysClient, transport: FakeTransport, caplog: pytest.LogCaptureFixture
) -> None:
    transport.reply("GET", "/api/v2/flows/f1", Reply(503, {"message": "x"}), Reply(200, flow_json("f1")))
    with caplog.at_level(logging.DEBUG):
        client.get_flow("f1")
    logged = " ".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert "retrying" in logged
    assert "token-1" not in logged


@pytest.mark.parametrize(
    ("header", "expected"), [("7", 7.0), (" 0 ", 0.0), ("soon", None), ("-1", None), (None, None)]
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected
