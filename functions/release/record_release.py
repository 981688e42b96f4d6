"""RecordRelease: every wave published; record versions, announce, free the leases."""

from __future__ import annotations

from typing import Any

from flowops.release.steps import record_release

from functions.release import _wiring
from functions.release.events import PreparedEvent


@_wiring.step(PreparedEvent)
def handler(event: PreparedEvent) -> Any:
    return record_release(event.run, event.prepared, event.requester, _wiring.ports())
