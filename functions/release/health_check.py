"""CheckFlowHealth: the planned flow publishes a new version that validates."""

from __future__ import annotations

from typing import Any

from flowops.release.steps import check_flow_health

from functions.release import _wiring
from functions.release.events import HealthEvent


@_wiring.step(HealthEvent)
def handler(event: HealthEvent) -> Any:
    return check_flow_health(event.item, event.progress, event.timing, _wiring.ports())
