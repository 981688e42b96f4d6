"""Time as flowops sees it.

The Genesys client, its rate limiter and the simulator all read time through a `Clock`, so
that the local runtime can run on accelerated time: a `ScaledClock(60)` makes one real second
count as one simulated minute on both sides of the wire, which keeps rate-limit, backoff and
polling behaviour identical while tests stay fast.
"""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime
from typing import Protocol

MAX_TIMESTAMP_CHARS = 64


def read_timestamp(value: object) -> datetime | None:
    """A date-time Genesys wrote (ISO 8601 with `Z` or an offset) as an aware datetime; a zone-less
    stamp is read as UTC (Genesys writes UTC), never as local time. Anything else — not a string,
    longer than MAX_TIMESTAMP_CHARS, not a date — is None."""
    if not isinstance(value, str) or not value or len(value) > MAX_TIMESTAMP_CHARS:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (wall time, possibly simulated)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a monotonic scale (possibly simulated)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...


class SystemClock:
    """Real time."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ScaledClock:
    """Simulated time running `scale` times faster than real time from a fixed origin."""

    def __init__(self, scale: float = 1.0, origin: float | None = None) -> None:
        if scale <= 0:
            raise ValueError(f"clock scale must be positive, got {scale}")
        self.scale = scale
        self._real_origin = time.monotonic()
        self._wall_origin = time.time() if origin is None else origin

    def monotonic(self) -> float:
        return (time.monotonic() - self._real_origin) * self.scale

    def now(self) -> float:
        return self._wall_origin + self.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.scale)


@functools.cache
def process_clock(scale: float = 1.0) -> SystemClock | ScaledClock:
    """This process's clock at `scale` (one instance per scale): every client of a process reads
    the same simulated wall time, which a schedule shared between them (the scan's page readers
    in the local runtime's threads) needs. Real time (scale 1) is the system clock."""
    return SystemClock() if scale == 1.0 else ScaledClock(scale)
