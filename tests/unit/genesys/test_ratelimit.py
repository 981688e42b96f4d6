from __future__ import annotations

import math

from flowops.genesys.ratelimit import RateLimiter

from .fakes import (
    FakeClock,
    FakeTransport,
    MemorySchedule,
    RecordedRequest,
    Reply,
    build_client,
    flow_json,
    page_json,
)


class WindowedRateLimitServer:
    """A fake Genesys that enforces `allowed` requests per fixed `window` of the fake clock,
    answering with the real rate-limit headers, and 429 + Retry-After beyond the limit."""

    def __init__(
        self, clock: FakeClock, allowed: int = 300, window: float = 60.0, used_by_others: int = 0
    ) -> None:
        self.clock = clock
        self.allowed = allowed
        self.window = window
        self.used_by_others = used_by_others
        self.counts: dict[int, int] = {}
        self.rejected = 0
        self.served = 0

    def __call__(self, _: RecordedRequest) -> Reply:
        now = self.clock.monotonic()
        window_index = int(now // self.window)
        seconds_to_reset = (window_index + 1) * self.window - now
        count = self.counts.get(window_index, self.used_by_others)
        if count >= self.allowed:
            self.rejected += 1
            retry_after = str(math.ceil(seconds_to_reset))
            return Reply(
                429, {"code": "too.many.requests.retry.after", "status": 429}, {"Retry-After": retry_after}
            )
        self.counts[window_index] = count + 1
        self.served += 1
        return Reply(
            200,
            flow_json("f1"),
            {
                "inin-ratelimit-allowed": str(self.allowed),
                "inin-ratelimit-count": str(count + 1),
                "inin-ratelimit-reset": str(math.ceil(seconds_to_reset)),
            },
        )


def test_count_near_allowed_makes_the_next_request_wait_for_the_reset() -> None:
    # Given the server reports 299 of 300 used and a reset in 12 s
    clock = FakeClock()
    limiter = RateLimiter(clock)
    limiter.observe(
        {"inin-ratelimit-allowed": "300", "inin-ratelimit-count": "299", "inin-ratelimit-reset": "12"}
    )
    # When the next request asks to go
    limiter.acquire()
    # Then it waited until the reset
    assert clock.sleeps == [12.0]


def test_count_far_from_allowed_does_not_wait() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock)
    limiter.observe(
        {"inin-ratelimit-allowed": "300", "inin-ratelimit-count": "10", "inin-ratelimit-reset": "50"}
    )
    limiter.acquire()
    assert clock.sleeps == []


def test_bucket_spreads_requests_over_the_window() -> None:
    # Given a fresh limiter for 300/min at 90 % utilization (burst of 15)
    clock = FakeClock()
    limiter = RateLimiter(
        clock, allowed_per_window=300, window_seconds=60, utilization=0.9, burst_fraction=0.05
    )
    # When 15 + 45 requests go out back to back
    for _ in range(60):
        limiter.acquire()
    # Then the burst went at once and the rest was paced at 4.5 requests/s (45 / 4.5 = 10 s)
    assert math.isclose(sum(clock.sleeps), 10.0, rel_tol=1e-6)


def test_a_long_scan_sees_no_429_from_a_server_enforcing_300_per_minute(clock: FakeClock) -> None:
    # Given a server enforcing 300 requests per minute on the fake clock
    server = WindowedRateLimitServer(clock, allowed=300, window=60.0)
    transport = FakeTransport()
    transport.route("GET", "/api/v2/flows/f1", server)
    client = build_client(transport, clock)
    # When 2,000 calls are made back to back
    for _ in range(2000):
        client.get_flow("f1")
    # Then none was rejected, and the scan took about as long as the limit requires
    assert server.rejected == 0
    assert server.served == 2000
    minimum_minutes = 2000 / 300
    assert clock.monotonic() - 1_000.0 >= (minimum_minutes - 1) * 60
    assert client.api_calls["GET /api/v2/flows/{flowId}"] == 2000


def test_other_users_of_the_token_are_respected(clock: FakeClock) -> None:
    # Given other callers already used 280 of this window's 300 requests
    server = WindowedRateLimitServer(clock, allowed=300, window=60.0, used_by_others=280)
    transport = FakeTransport()
    transport.route("GET", "/api/v2/flows/f1", server)
    client = build_client(transport, clock)
    # When we make 400 calls
    for _ in range(400):
        client.get_flow("f1")
    # Then the server never had to reject one
    assert server.rejected == 0


def test_paging_through_a_large_org_is_paced_too(clock: FakeClock) -> None:
    server = WindowedRateLimitServer(clock, allowed=300, window=60.0)
    transport = FakeTransport()

    def flows_page(request: RecordedRequest) -> Reply:
        reply = server(request)
        number = int(request.query["pageNumber"][0])
        reply.body = page_json([flow_json(f"f{number}")], page_number=number, page_count=700, page_size=1)
        return reply

    transport.route("GET", "/api/v2/flows", flows_page)
    client = build_client(transport, clock)
    flows = list(client.iter_flows(page_size=1))
    assert len(flows) == 700
    assert server.rejected == 0


def _alternating_acquires(clock: FakeClock, schedule: MemorySchedule | None, requests: int) -> float:
    readers = [RateLimiter(clock, utilization=0.97, shared=schedule) for _ in range(2)]
    started = clock.monotonic()
    for position in range(requests):
        readers[position % 2].acquire()
    return clock.monotonic() - started


def test_readers_with_a_shared_schedule_send_at_one_budgets_rate() -> None:
    # Given two readers of 300/min at 97 %: alone, each may send 291 a minute
    interval = 60 / (0.97 * 300)
    # When they take turns for 200 requests, with and without a shared schedule
    separate = _alternating_acquires(FakeClock(), None, 200)
    shared = _alternating_acquires(FakeClock(), MemorySchedule(), 200)
    # Then apart they go twice as fast (two budgets), and sharing they go at one budget's pace
    assert separate < 105 * interval
    assert math.isclose(shared, 199 * interval, rel_tol=0.01)


def test_a_hold_by_one_reader_holds_every_reader_of_the_shared_schedule() -> None:
    clock = FakeClock()
    schedule = MemorySchedule()
    first, second = (RateLimiter(clock, shared=schedule) for _ in range(2))
    # When the first reader is told to wait 30 s (a 429's Retry-After)
    first.defer_until(30)
    # Then the second reader's next request waits for the same moment
    second.acquire()
    assert math.isclose(clock.monotonic(), 1_030.0)


def test_a_slot_further_away_than_the_caller_can_wait_is_refused_without_waiting() -> None:
    clock = FakeClock()
    schedule = MemorySchedule()
    schedule.hold_until(clock.now() + 120)
    limiter = RateLimiter(clock, shared=schedule)
    assert limiter.acquire(max_wait_seconds=60) is False
    assert clock.sleeps == []
    # and the refused slot is given up: the next request takes the one after it
    assert limiter.acquire() is True
    assert len(clock.sleeps) == 1 and math.isclose(clock.sleeps[0], 120 + 60 / (0.9 * 300), rel_tol=1e-6)


def test_at_97_percent_a_long_scan_still_sees_no_429(clock: FakeClock) -> None:
    # Given a server enforcing 300 per fixed minute and a client pacing at 97 % of it
    server = WindowedRateLimitServer(clock, allowed=300, window=60.0)
    transport = FakeTransport()
    transport.route("GET", "/api/v2/flows/f1", server)
    client = build_client(transport, clock, rate_limiter=RateLimiter(clock, utilization=0.97))
    # When 2,000 calls are made back to back
    for _ in range(2000):
        client.get_flow("f1")
    # Then none was rejected, and the rate was within 1 % of 291 a minute
    assert server.rejected == 0
    minutes = (clock.monotonic() - 1_000.0) / 60
    assert 2000 / minutes >= 0.96 * 300
