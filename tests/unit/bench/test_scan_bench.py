"""The scan benchmark stays runnable on a tiny org (no timing is asserted)."""

from __future__ import annotations

import pytest

from bench.scan import bench_size, format_table, main


def test_incremental_scan_rereads_only_the_republished_flow_without_429s() -> None:
    # Given a tiny simulated org on fast simulated time
    # When the benchmark runs a full scan, republishes one flow and runs an incremental scan
    result = bench_size(40, time_scale=600.0, seed=2)

    # Then the incremental scan reads one flow, reuses the rest and spends fewer calls
    assert result.incremental.read_flows == 1
    assert result.incremental.reused_flows == result.full.read_flows - 1
    assert result.incremental.api_calls < result.full.api_calls
    assert 0 < result.call_ratio < 1
    # And both scans stay under the rate limit and are counted from the HTTP responses
    assert result.full.throttled == result.incremental.throttled == 0
    assert result.full.http_requests >= result.full.api_calls
    assert result.full.simulated_seconds > 0


def test_table_lists_both_scans_and_the_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    # Given / When the command line runs one tiny size
    results = main(["--sizes", "30", "--time-scale", "600"])

    # Then it prints a full and an incremental row, the ratio and the 429 count
    output = capsys.readouterr().out
    rows = [line.split() for line in format_table(results).splitlines()]
    assert ["30", "full"] in [row[:2] for row in rows]
    assert ["30", "incremental"] in [row[:2] for row in rows]
    assert "incremental/full API calls" in output
    assert "429 responses in all scans: 0" in output
