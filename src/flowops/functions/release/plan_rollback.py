"""PlanRollback: what each flow the release may have changed needs (from the live org)."""

from __future__ import annotations

from typing import Any

from flowops.functions.release import _wiring
from flowops.functions.release.events import PlanRollbackEvent
from flowops.release.steps import plan_rollback


@_wiring.step(PlanRollbackEvent)
def handler(event: PlanRollbackEvent) -> Any:
    return plan_rollback(event.run, event.prepared, event.failure, event.requester, _wiring.ports())
