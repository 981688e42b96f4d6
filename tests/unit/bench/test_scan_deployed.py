"""The scan's page readers under each rate model, as deployed (small orgs; no timing is asserted:
rates are in the simulator's own time, which a slow machine only lowers)."""

from __future__ import annotations

import pytest

from bench.scan_deployed import deployed_full_scan, main

FLOWS, PAGE_SIZE = 80, 20  # four pages: one per reader
# Time scales low enough that this loaded machine keeps up with the requests the model allows
# (in one process, ~30 requests a real second here): a machine that falls behind only lowers
# the rates, which would fail the parallel-budget assertion, never the 429 ones.


def test_readers_under_a_per_token_limit_read_in_parallel_without_429() -> None:
    # Given a limit of 60/min counted per token, and the Map's four readers with a token each
    result = deployed_full_scan(
        FLOWS, "token", time_scale=5, seed=3, per_minute=60, readers=4, page_size=PAGE_SIZE
    )
    # Then the Map read faster than one budget allows (the tokens' budgets add up), and no token's
    # budget was overdrawn
    assert result.throttled == 0
    assert result.map_rate_per_minute > 1.5 * 60
    assert result.http_requests >= result.api_calls > FLOWS / 2


def test_readers_under_a_per_client_limit_share_one_budget_without_429() -> None:
    # Given a limit of 240/min for every token of the OAuth client (the schedule in moto)
    result = deployed_full_scan(
        FLOWS, "client", time_scale=5, seed=3, per_minute=240, readers=4, page_size=PAGE_SIZE
    )
    # Then the four readers together stayed within ONE budget (the first slot comes at once, hence
    # a rate a hair over it across a short Map), and none met a 429
    assert result.throttled == 0
    assert result.map_rate_per_minute <= 1.05 * 240
    assert result.schedule_store == "moto"
    assert result.http_requests >= result.api_calls > FLOWS / 2


def test_the_command_prints_both_models(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--flows", "40", "--time-scale", "10", "--per-minute", "600", "--schedule", "memory"])
    output = capsys.readouterr().out
    assert "429 responses: 0 (must be 0)" in output
    assert " token " in output and " client " in output
