"""RecordPreparationFailed: PrepareRelease failed; free the leases it took, record it."""

from __future__ import annotations

from typing import Any

from flowops.release.steps import record_preparation_failed

from functions.release import _wiring
from functions.release.events import PreparationFailedEvent


@_wiring.step(PreparationFailedEvent)
def handler(event: PreparationFailedEvent) -> Any:
    return record_preparation_failed(event.run, event.request, event.failure, _wiring.ports())
