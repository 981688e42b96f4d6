"""RecordNotApproved: rejected or not approved in time; nothing was deployed."""

from __future__ import annotations

from typing import Any

from flowops.functions.release import _wiring
from flowops.functions.release.events import NotApprovedEvent
from flowops.release.steps import record_not_approved


@_wiring.step(NotApprovedEvent)
def handler(event: NotApprovedEvent) -> Any:
    return record_not_approved(event.run, event.prepared, event.failure, event.requester, _wiring.ports())
