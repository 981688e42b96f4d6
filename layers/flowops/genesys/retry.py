"""When to retry a Genesys request, and how long to wait first.

- 429: wait exactly the `Retry-After` the platform sends (it knows when the window resets).
- 5xx, timeouts, connection resets: exponential backoff with FULL jitter,
  `uniform(0, min(max_delay, base_delay * 2**retry_number))`, which spreads concurrent
  Lambdas apart instead of having them retry in lock-step.
- Bounded twice: by `max_attempts` and by `max_elapsed_seconds` measured on the injected
  clock; a wait that would overrun the elapsed budget is not started.
- Bounded by the caller's remaining time too (a Lambda's `get_remaining_time_in_millis()`): no
  wait starts, and no request is sent, unless `reserve_seconds` would still be left after it for
  the step to report the retryable error; a request's read timeout is cut to what is left. A
  Lambda killed at its timeout reports nothing Step Functions can match (`Lambda.Unknown`).
"""

from __future__ import annotations

import random
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class RandomSource(Protocol):
    def uniform(self, a: float, b: float) -> float: ...


class RetryPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_attempts: int = Field(default=6, ge=1, description="total tries, the first one included")
    base_delay_seconds: float = Field(default=0.5, gt=0)
    max_delay_seconds: float = Field(default=20.0, gt=0)
    max_elapsed_seconds: float = Field(
        default=120.0, gt=0, description="no new wait starts that would end past this budget"
    )
    default_retry_after_seconds: float = Field(
        default=1.0, ge=0, description="wait for a 429 that lacks a usable Retry-After"
    )
    reserve_seconds: float = Field(
        default=5.0, ge=0, description="remaining time kept back for the step to report and return"
    )
    min_request_seconds: float = Field(
        default=2.0, gt=0, description="no request is sent with less time than this for its answer"
    )

    def backoff_delay(self, retry_number: int, rng: RandomSource) -> float:
        """Full-jitter delay before retry number `retry_number` (0 for the first retry)."""
        ceiling = min(self.max_delay_seconds, self.base_delay_seconds * 2.0 ** min(retry_number, 62))
        return rng.uniform(0.0, ceiling)

    def may_retry(
        self,
        *,
        attempts_made: int,
        elapsed_seconds: float,
        next_delay_seconds: float,
        remaining_seconds: float | None = None,
    ) -> bool:
        return (
            attempts_made < self.max_attempts
            and elapsed_seconds + next_delay_seconds <= self.max_elapsed_seconds
            and self.has_time_for_request(remaining_seconds, after_seconds=next_delay_seconds)
        )

    def has_time_for_request(self, remaining_seconds: float | None, *, after_seconds: float = 0.0) -> bool:
        """Whether a request started `after_seconds` from now still leaves the reserve untouched."""
        if remaining_seconds is None:
            return True
        return remaining_seconds - after_seconds >= self.reserve_seconds + self.min_request_seconds

    def time_to_wait(self, remaining_seconds: float | None) -> float | None:
        """The longest wait before a request that still leaves the reserve untouched (None: no limit)."""
        if remaining_seconds is None:
            return None
        return remaining_seconds - self.reserve_seconds - self.min_request_seconds

    def request_timeout_seconds(self, configured: float, remaining_seconds: float | None) -> float:
        """The read timeout of the next request: the configured one, cut so the reserve is kept."""
        if remaining_seconds is None:
            return configured
        return max(self.min_request_seconds, min(configured, remaining_seconds - self.reserve_seconds))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header (Genesys sends delta-seconds), None if unusable."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def default_random_source() -> RandomSource:
    return random.Random()
