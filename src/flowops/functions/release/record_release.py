"""RecordRelease: every wave published; record versions, announce, free the leases."""

from __future__ import annotations

from typing import Any

from flowops.functions.release import _wiring
from flowops.functions.release.events import PreparedEvent
from flowops.release.steps import record_release


@_wiring.step(PreparedEvent)
def handler(event: PreparedEvent) -> Any:
    return record_release(event.run, event.prepared, event.requester, _wiring.ports())
