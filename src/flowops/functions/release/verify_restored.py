"""VerifyFlowRestored: the snapshot is live again (or the created flow is gone)."""

from __future__ import annotations

from typing import Any

from flowops.functions.release import _wiring
from flowops.functions.release.events import VerifyRestoredEvent
from flowops.release.steps import verify_flow_restored


@_wiring.step(VerifyRestoredEvent)
def handler(event: VerifyRestoredEvent) -> Any:
    return verify_flow_restored(event.item, event.progress, _wiring.ports(), event.timing)
