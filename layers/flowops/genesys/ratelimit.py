"""Client-side pacing that keeps a long scan under the org's rate limit.

Genesys allows a number of requests per window per budget — per token by default (300/minute,
docs/genesys-limits.md) — and reports its view on every response: `inin-ratelimit-allowed`,
`inin-ratelimit-count` (requests counted in the current window) and `inin-ratelimit-reset`
(seconds until the window resets). Three mechanisms keep us from ever seeing a 429 in steady state:

1. A token bucket refilled at `utilization * allowed / window` per second with a small
   burst, so requests are spread over the window instead of front-loaded. The burst never
   exceeds the headroom `1 - utilization` leaves, so burst + one window of refill fits the window.
2. A guard on the server's own count: once `count` comes within `reserve` of `allowed`, the
   next request waits until the reported reset. The server's count includes requests made
   by other users of the same budget, which the bucket cannot see.
3. When the budget is shared by several processes (a per-client or per-org limit, and the scan's
   concurrent page readers), a `SharedSchedule`: one schedule of send slots, `window /
   (utilization * allowed)` apart, that every process reserves its slots from
   (`flowops.store.rate_schedule` keeps it in DynamoDB). A hold (guard or 429) moves the shared
   schedule too, so every process waits for the same reset.

All time reading and sleeping goes through the injected `Clock`; the shared schedule is kept in
the clock's wall time (`Clock.now`), the one time that processes on different hosts share.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from typing import Protocol

from flowops.clock import Clock

ALLOWED_HEADER = "inin-ratelimit-allowed"
COUNT_HEADER = "inin-ratelimit-count"
RESET_HEADER = "inin-ratelimit-reset"

DEFAULT_ALLOWED_PER_WINDOW = 300
DEFAULT_WINDOW_SECONDS = 60.0


def _header_number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


class SharedSchedule(Protocol):
    """Send slots of a budget shared by several processes, in wall time (`Clock.now`)."""

    def reserve(self, earliest: float, interval_seconds: float) -> float:
        """Reserve the next slot starting no earlier than `earliest`; the slot after it starts
        `interval_seconds` later. Returns the reserved slot's start."""
        ...

    def hold_until(self, moment: float) -> None:
        """No slot starts before `moment` (the budget's window resets then)."""
        ...


class RateLimiter:
    """Thread-safe pacing for one request budget (a token's, or with `shared` one that several
    processes share)."""

    def __init__(
        self,
        clock: Clock,
        *,
        allowed_per_window: int = DEFAULT_ALLOWED_PER_WINDOW,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        utilization: float = 0.9,
        burst_fraction: float = 0.05,
        shared: SharedSchedule | None = None,
    ) -> None:
        if not 0 < utilization <= 1:
            raise ValueError(f"utilization must be in (0, 1], got {utilization}")
        self._clock = clock
        self._window_seconds = window_seconds
        self._utilization = utilization
        self._burst_fraction = burst_fraction
        self._shared = shared
        self._lock = threading.Lock()
        self._allowed = allowed_per_window
        self._tokens = float(self._capacity)
        self._refilled_at = clock.monotonic()
        # Server-reported state of the current window.
        self._server_count: int | None = None
        self._window_resets_at: float | None = None
        # No request may start before this moment (after a 429 or when the window is used up).
        self._hold_until = 0.0
        self.total_wait_seconds = 0.0

    @property
    def allowed_per_window(self) -> int:
        return self._allowed

    @property
    def _rate_per_second(self) -> float:
        return self._utilization * self._allowed / self._window_seconds

    @property
    def utilization(self) -> float:
        return self._utilization

    @property
    def shared(self) -> SharedSchedule | None:
        return self._shared

    @property
    def _capacity(self) -> int:
        return max(1, int(self._allowed * min(self._burst_fraction, 1 - self._utilization)))

    @property
    def _reserve(self) -> int:
        # Headroom left for other users of the same token when we stop and wait for the reset.
        return max(1, math.ceil(self._allowed * (1 - self._utilization) / 2))

    def held_for_seconds(self) -> float:
        """How long every request is held (after a 429, or until the window resets): a caller with
        less time than that left should not queue up at all."""
        with self._lock:
            now = self._clock.monotonic()
            held_until = self._hold_until
            if (
                self._server_count is not None
                and self._window_resets_at is not None
                and now < self._window_resets_at
                and self._server_count >= self._allowed - self._reserve
            ):
                held_until = max(held_until, self._window_resets_at)
            return max(0.0, held_until - now)

    def acquire(self, max_wait_seconds: float | None = None) -> bool:
        """Reserve the next send slot and wait (on the clock) until it comes.

        Reservations are made under the lock and waited out of it, so concurrent callers queue
        up behind each other instead of re-checking in a loop. With a shared schedule the slot is
        the later of this process's own and the shared schedule's next one.

        Returns False, without waiting, when the slot is more than `max_wait_seconds` away (the
        caller's time would run out first); the reserved slot is then given up.
        """
        with self._lock:
            now = self._clock.monotonic()
            send_at = self._reserve_slot(now)
            interval = 1.0 / self._rate_per_second
        if self._shared is not None:
            wall_now = self._clock.now()
            slot = self._shared.reserve(wall_now + (send_at - now), interval)
            send_at = max(send_at, now + (slot - wall_now))
        wait = send_at - now
        if max_wait_seconds is not None and wait > max_wait_seconds:
            return False
        if wait > 0:
            self.total_wait_seconds += wait
            self._clock.sleep(wait)
        return True

    def _reserve_slot(self, now: float) -> float:
        if self._window_resets_at is not None and now >= self._window_resets_at:
            # The window the server told us about is over: its count no longer applies.
            self._server_count = None
            self._window_resets_at = None
        start = max(now, self._hold_until)
        if (
            self._server_count is not None
            and self._window_resets_at is not None
            and self._server_count >= self._allowed - self._reserve
        ):
            # Nearly out of budget in this window: nobody goes before it resets.
            self._hold_until = max(self._hold_until, self._window_resets_at)
            start = max(start, self._window_resets_at)
            self._server_count = None
            self._window_resets_at = None
            self._hold_shared(self._hold_until)
        if start > self._refilled_at:
            self._tokens = min(
                float(self._capacity), self._tokens + (start - self._refilled_at) * self._rate_per_second
            )
            self._refilled_at = start
        self._tokens -= 1.0
        if self._server_count is not None:
            self._server_count += 1
        # A negative balance is a debt paid back at the refill rate.
        return start + max(0.0, -self._tokens) / self._rate_per_second

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn the server's view of the window from a response's headers."""
        allowed = _header_number(headers, ALLOWED_HEADER)
        count = _header_number(headers, COUNT_HEADER)
        reset = _header_number(headers, RESET_HEADER)
        with self._lock:
            if allowed is not None and allowed >= 1 and int(allowed) != self._allowed:
                self._allowed = int(allowed)
                self._tokens = min(self._tokens, float(self._capacity))
            if count is not None and reset is not None:
                self._server_count = int(count)
                # A reset of 0 means "now"; still wait a tiny moment so the new window has begun.
                self._window_resets_at = self._clock.monotonic() + max(reset, 0.001)

    def defer_until(self, seconds_from_now: float) -> None:
        """Hold every request for `seconds_from_now` (after a 429 told us to)."""
        with self._lock:
            self._hold_until = max(self._hold_until, self._clock.monotonic() + seconds_from_now)
            self._server_count = None
            self._window_resets_at = None
            self._hold_shared(self._hold_until)

    def _hold_shared(self, until_monotonic: float) -> None:
        """Move the shared schedule to the same moment (called under the lock: one short write)."""
        if self._shared is not None:
            self._shared.hold_until(self._clock.now() + (until_monotonic - self._clock.monotonic()))
