"""RecordPreparationFailed: PrepareRelease failed; free the leases it took, record it."""

from __future__ import annotations

from typing import Any

from flowops.functions.release import _wiring
from flowops.functions.release.events import PreparationFailedEvent
from flowops.release.steps import record_preparation_failed


@_wiring.step(PreparationFailedEvent)
def handler(event: PreparationFailedEvent) -> Any:
    return record_preparation_failed(event.run, event.request, event.failure, _wiring.ports())
