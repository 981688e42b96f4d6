"""CheckFlowJob: one poll of a flow's publish or rollback job."""

from __future__ import annotations

from typing import Any

from flowops.functions.release import _wiring
from flowops.functions.release.events import CheckJobEvent
from flowops.release.steps import check_flow_job


@_wiring.step(CheckJobEvent)
def handler(event: CheckJobEvent) -> Any:
    return check_flow_job(
        event.progress, event.timing, _wiring.ports(), now=_wiring.now(), rollback=event.rollback
    )
