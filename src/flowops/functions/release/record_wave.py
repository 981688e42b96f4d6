"""RecordWave: keep a wave's results; a publish wave with a failure raises Release.WaveFailed."""

from __future__ import annotations

from typing import Any

from flowops.functions.release import _wiring
from flowops.functions.release.events import RecordWaveEvent
from flowops.release.steps import record_wave


@_wiring.step(RecordWaveEvent)
def handler(event: RecordWaveEvent) -> Any:
    return record_wave(event.run, event.wave, event.results, _wiring.ports(), rollback=event.rollback)
