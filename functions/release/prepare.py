"""PrepareRelease: plan and validate the bundle, take leases, keep snapshots."""

from __future__ import annotations

from typing import Any

from flowops.release.steps import prepare_release

from functions.release import _wiring
from functions.release.events import PrepareEvent


@_wiring.step(PrepareEvent)
def handler(event: PrepareEvent) -> Any:
    return prepare_release(event.run, event.request, _wiring.ports(), now=_wiring.now())
