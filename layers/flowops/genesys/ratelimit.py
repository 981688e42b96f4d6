"""Client-side pacing that keeps a long scan under the org's rate limit.

Genesys allows a number of requests per window per token (300/minute by default) and
reports its view on every response: `inin-ratelimit-allowed`, `inin-ratelimit-count`
(requests counted in the current window) and `inin-ratelimit-reset` (seconds until the
window resets). Two mechanisms keep us from ever seeing a 429 in steady state:

1. A token bucket refilled at `utilization * allowed / window` per second with a small
   burst, so requests are spread over the window instead of front-loaded.
2. A guard on the server's own count: once `count` comes within `reserve` of `allowed`, the
   next request waits until the reported reset. The server's count includes requests made
   by other holders of the same token (concurrent Lambdas), which the bucket cannot see.

All time reading and sleeping goes through the injected `Clock`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping

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


class RateLimiter:
    """Thread-safe pacing for one token's request budget."""

    def __init__(
        self,
        clock: Clock,
        *,
        allowed_per_window: int = DEFAULT_ALLOWED_PER_WINDOW,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        utilization: float = 0.9,
        burst_fraction: float = 0.05,
    ) -> None:
        if not 0 < utilization <= 1:
            raise ValueError(f"utilization must be in (0, 1], got {utilization}")
        self._clock = clock
        self._window_seconds = window_seconds
        self._utilization = utilization
        self._burst_fraction = burst_fraction
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
    def _capacity(self) -> int:
        return max(1, int(self._allowed * self._burst_fraction))

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

    def acquire(self) -> None:
        """Reserve the next send slot and wait (on the clock) until it comes.

        Reservations are made under the lock and waited out of it, so concurrent callers queue
        up behind each other instead of re-checking in a loop.
        """
        with self._lock:
            now = self._clock.monotonic()
            send_at = self._reserve_slot(now)
        wait = send_at - now
        if wait > 0:
            self.total_wait_seconds += wait
            self._clock.sleep(wait)

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
