"""RecordRolledBack: ROLLED_BACK when every flow was restored, else ROLLBACK_FAILED."""

from __future__ import annotations

from typing import Any

from flowops.functions.release import _wiring
from flowops.functions.release.events import RolledBackEvent
from flowops.release.steps import record_rolled_back


@_wiring.step(RolledBackEvent)
def handler(event: RolledBackEvent) -> Any:
    return record_rolled_back(event.run, event.prepared, event.rollback, event.requester, _wiring.ports())
