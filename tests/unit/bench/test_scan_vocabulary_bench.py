"""The vocabulary benchmark stays runnable on a tiny org (ratios are checked, never timings)."""

from __future__ import annotations

import pytest

from bench.scan_vocabulary import bench_size, main


def test_filtering_vocabulary_shrinks_the_lock_without_costing_calls() -> None:
    # Given a tiny simulated org answering realistic vocabulary
    # When it is scanned with every type kept and with the filter, in the same run
    result = bench_size(30, time_scale=600.0, seed=3)
    # Then the filtered lock is much smaller and has fewer edges, for no more API calls
    assert result.lock_ratio < 0.5 and result.edge_ratio < 0.5
    assert result.filtered.api_calls <= result.unfiltered.api_calls
    assert result.bytes_ratio < 1


def test_the_table_prints_both_scans_and_the_ratios(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--sizes", "20", "--time-scale", "600"])
    output = capsys.readouterr().out
    assert "unfiltered" in output and "filtered / unfiltered" in output
