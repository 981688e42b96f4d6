"""CheckFlowHealth: the planned flow publishes a new version that validates."""

from __future__ import annotations

from typing import Any

from flowops.functions.release import _wiring
from flowops.functions.release.events import HealthEvent
from flowops.release.steps import check_flow_health


@_wiring.step(HealthEvent)
def handler(event: HealthEvent) -> Any:
    return check_flow_health(event.item, event.progress, event.timing, _wiring.ports())
