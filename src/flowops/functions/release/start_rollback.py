"""StartFlowRollback: redeploy a flow's snapshot, or delete a flow the release created."""

from __future__ import annotations

from typing import Any

from flowops.functions.release import _wiring
from flowops.functions.release.events import StartRollbackEvent
from flowops.release.steps import start_flow_rollback


@_wiring.step(StartRollbackEvent)
def handler(event: StartRollbackEvent) -> Any:
    return start_flow_rollback(event.run, event.item, event.timing, _wiring.ports(), now=_wiring.now())
