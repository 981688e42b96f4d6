"""PrepareRelease: plan and validate the bundle, take leases, keep snapshots."""

from __future__ import annotations

from typing import Any

from flowops.functions.release import _wiring
from flowops.functions.release.events import PrepareEvent
from flowops.release.steps import prepare_release


@_wiring.step(PrepareEvent)
def handler(event: PrepareEvent) -> Any:
    return prepare_release(event.run, event.request, _wiring.ports(), now=_wiring.now())
