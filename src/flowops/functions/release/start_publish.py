"""StartFlowPublish: deploy one flow's YAML through the Architect jobs API."""

from __future__ import annotations

from typing import Any

from flowops.functions.release import _wiring
from flowops.functions.release.events import StartFlowEvent
from flowops.release.steps import start_flow_publish


@_wiring.step(StartFlowEvent)
def handler(event: StartFlowEvent) -> Any:
    return start_flow_publish(event.run, event.item, event.timing, _wiring.ports(), now=_wiring.now())
