"""The client's blocking wait, as the ports that poll a Genesys job (export, validate) see it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

T = TypeVar("T")


class WaitsUntil(Protocol):
    """`GenesysClient.wait_until`: poll `fetch` on the client's clock until `done`, or raise a
    GenesysError after `timeout_seconds` (fakes in tests move their own clock instead)."""

    def wait_until(
        self,
        fetch: Callable[[], T],
        done: Callable[[T], bool],
        *,
        what: str,
        poll_interval_seconds: float = 2.0,
        timeout_seconds: float = 960.0,
    ) -> T: ...
