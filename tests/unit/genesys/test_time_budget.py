"""The client honours its caller's remaining time (a Lambda's `get_remaining_time_in_millis`).

It never starts a wait or a request that would leave less than the policy's reserve, cuts each
request's timeout to what is left, and ends with the RETRYABLE error the state machine retries,
instead of being killed by Lambda mid-retry (which Step Functions only sees as `Lambda.Unknown`).
"""

from __future__ import annotations

from typing import Any

import pytest

from flowops.genesys import GenesysClient, RateLimitedError, RateLimiter, RetryPolicy, ServerError
from flowops.genesys.errors import OutOfTimeError

from .fakes import FakeClock, FakeTransport, MemorySchedule, Reply, build_client, flow_json

SERVER_ERROR = {"message": "Service Unavailable", "code": "service.unavailable", "status": 503}
RATE_LIMITED = {"message": "Rate limit exceeded", "code": "too.many.requests.retry.after", "status": 429}


class TimeoutRecordingTransport(FakeTransport):
    def __init__(self) -> None:
        super().__init__()
        self.timeouts: list[Any] = []

    def send(self, request: Any, **kwargs: Any) -> Any:
        self.timeouts.append(kwargs.get("timeout"))
        return super().send(request, **kwargs)


def _budgeted(client: GenesysClient, clock: FakeClock, seconds: float) -> GenesysClient:
    deadline = clock.monotonic() + seconds
    client.remaining_seconds = lambda: deadline - clock.monotonic()
    return client


def test_server_errors_stop_retrying_with_the_reserve_left_and_raise_the_retryable_error(
    transport: FakeTransport, clock: FakeClock
) -> None:
    # Given a 60 s Lambda whose client would otherwise retry 503s for up to 120 s
    policy = RetryPolicy(max_attempts=20, base_delay_seconds=8, max_delay_seconds=20, max_elapsed_seconds=120)
    client = _budgeted(build_client(transport, clock, retry_policy=policy), clock, 60)
    transport.reply("GET", "/api/v2/flows/f1", Reply(503, SERVER_ERROR))
    started = clock.monotonic()
    # When Genesys keeps failing
    with pytest.raises(ServerError) as caught:
        client.get_flow("f1")
    # Then the client gave up while the reserve plus one request's time were still left
    spent = clock.monotonic() - started
    assert spent <= 60 - policy.reserve_seconds
    assert sum(clock.sleeps) == spent
    # And the error is the retryable one the state machine retries
    assert caught.value.retryable and caught.value.asl_error_name == "Genesys.ServerError"


def test_a_retry_after_longer_than_the_time_left_is_not_waited(
    transport: FakeTransport, clock: FakeClock
) -> None:
    # Given 20 s left and a 429 asking to come back in 30 s
    client = _budgeted(build_client(transport, clock), clock, 20)
    transport.reply(
        "GET",
        "/api/v2/flows/f1",
        Reply(429, RATE_LIMITED, {"Retry-After": "30"}),
        Reply(200, flow_json("f1")),
    )
    # When calling
    with pytest.raises(RateLimitedError) as caught:
        client.get_flow("f1")
    # Then it did not sleep past its budget and reports the rate limit (retried by the machine)
    assert clock.sleeps == []
    assert caught.value.asl_error_name == "Genesys.RateLimited"


def test_no_request_is_sent_without_time_for_its_answer(transport: FakeTransport, clock: FakeClock) -> None:
    # Given a step with less than the reserve plus one request's time left
    policy = RetryPolicy()
    client = _budgeted(build_client(transport, clock), clock, policy.reserve_seconds + 1)
    transport.reply("GET", "/api/v2/flows/f1", Reply(200, flow_json("f1")))
    # When it calls Genesys
    with pytest.raises(OutOfTimeError) as caught:
        client.get_flow("f1")
    # Then nothing was sent and the error is retryable as Genesys.Unavailable
    assert transport.calls("GET", "/api/v2/flows/f1") == []
    assert caught.value.retryable and caught.value.asl_error_name == "Genesys.Unavailable"


def test_each_request_timeout_is_cut_to_the_time_left(clock: FakeClock) -> None:
    # Given a client whose read timeout is 30 s, with 20 s left
    transport = TimeoutRecordingTransport()
    client = _budgeted(build_client(transport, clock), clock, 20)
    transport.reply("GET", "/api/v2/flows/f1", Reply(200, flow_json("f1")))
    # When it calls Genesys
    client.get_flow("f1")
    # Then no request may outlast the time left minus the reserve
    policy = client.retry_policy
    assert transport.timeouts
    assert all(max(timeout) <= 20 - policy.reserve_seconds for timeout in transport.timeouts)


def test_without_a_budget_the_policy_alone_bounds_retries(transport: FakeTransport, clock: FakeClock) -> None:
    # Given no remaining-time source (the CLI)
    client = build_client(transport, clock, retry_policy=RetryPolicy(max_attempts=3))
    transport.reply("GET", "/api/v2/flows/f1", Reply(503, SERVER_ERROR))
    # Then the attempts budget applies as before
    with pytest.raises(ServerError):
        client.get_flow("f1")
    assert len(transport.calls("GET", "/api/v2/flows/f1")) == 3


def test_a_rate_limit_hold_longer_than_the_time_left_is_not_queued_for(
    transport: FakeTransport, clock: FakeClock
) -> None:
    # Given a client held 40 s by an earlier 429, with 30 s left
    client = _budgeted(build_client(transport, clock), clock, 30)
    client.rate_limiter.defer_until(40)
    transport.reply("GET", "/api/v2/flows/f1", Reply(200, flow_json("f1")))
    # When it calls Genesys
    with pytest.raises(OutOfTimeError):
        client.get_flow("f1")
    # Then it neither waited nor sent
    assert clock.sleeps == [] and transport.calls("GET", "/api/v2/flows/f1") == []


def test_a_shared_schedule_held_longer_than_the_time_left_is_not_queued_for(
    transport: FakeTransport, clock: FakeClock
) -> None:
    # Given another reader of a shared budget held the schedule 40 s (its 429), and 30 s left here
    schedule = MemorySchedule()
    schedule.hold_until(clock.now() + 40)
    client = _budgeted(
        build_client(transport, clock, rate_limiter=RateLimiter(clock, shared=schedule)), clock, 30
    )
    transport.reply("GET", "/api/v2/flows/f1", Reply(200, flow_json("f1")))
    # When it calls Genesys (this client itself knows of no hold)
    with pytest.raises(OutOfTimeError):
        client.get_flow("f1")
    # Then it neither waited nor sent: the step is retried by the state machine in time
    assert clock.sleeps == [] and transport.calls("GET", "/api/v2/flows/f1") == []
