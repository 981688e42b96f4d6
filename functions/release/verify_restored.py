"""VerifyFlowRestored: the snapshot is live again (or the created flow is gone)."""

from __future__ import annotations

from typing import Any

from flowops.release.steps import verify_flow_restored

from functions.release import _wiring
from functions.release.events import VerifyRestoredEvent


@_wiring.step(VerifyRestoredEvent)
def handler(event: VerifyRestoredEvent) -> Any:
    return verify_flow_restored(event.item, event.progress, _wiring.ports(), event.timing)
