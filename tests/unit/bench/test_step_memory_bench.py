"""bench.step_memory in its small mode: each whole-org step runs in its own interpreter and
its peak resident memory is measured against the bare interpreter with the same imports."""

from __future__ import annotations

import pytest

from bench import step_memory


@pytest.mark.timeout(180)
def test_each_step_peak_is_measured_in_a_fresh_interpreter_above_its_imports() -> None:
    # When a small org goes through BuildLock and ReportScan
    rows = step_memory.measure(600, seed=1)
    # Then each step's peak includes the interpreter and imports and the step's own work
    for step in step_memory.STEPS:
        assert rows[step] >= rows["imports"] > 10 * 2**20, step
    # and the per-scan artifacts were written (pages, analysis, report graph, drift, report)
    assert rows["scan_artifacts"] > 0
