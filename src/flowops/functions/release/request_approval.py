"""WaitForApproval: keep the task token for `flowops approve`; the release waits for it."""

from __future__ import annotations

from typing import Any

from flowops.functions.release import _wiring
from flowops.functions.release.events import ApprovalEvent
from flowops.release.steps import request_approval


@_wiring.step(ApprovalEvent)
def handler(event: ApprovalEvent) -> Any:
    return request_approval(event.run, event.prepared, event.token, event.requester, _wiring.ports())
