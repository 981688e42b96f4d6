"""The graph benchmark stays runnable (tiny sizes, bounded budget)."""

from __future__ import annotations

import pytest

from bench.graph import enumerate_simple_cycles, generate_lock, main
from flowops.graph import build_graph


def test_generated_orgs_have_the_requested_size_and_are_reproducible() -> None:
    lock = generate_lock(500, seed=3, transfers_per_flow=1.2)
    graph = build_graph(lock)
    assert graph.number_of_nodes() == 500
    assert lock == generate_lock(500, seed=3, transfers_per_flow=1.2)


def test_naive_enumeration_stops_at_its_budget() -> None:
    graph = build_graph(generate_lock(2000, seed=7, transfers_per_flow=1.5))
    result = enumerate_simple_cycles(graph, budget_seconds=0.2)
    assert not result.finished and result.cycles > 0 and result.seconds < 5


def test_main_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--sizes", "200", "--naive-budget", "0.2"])
    output = capsys.readouterr().out
    assert "naive/analyze" in output
    assert any(line.strip().startswith("200 ") for line in output.splitlines())


def test_the_fair_peers_find_the_same_cyclic_components_as_find_cycles() -> None:
    from bench.graph import networkx_peer, rustworkx_graph, rustworkx_peer
    from flowops.graph import find_cycles

    graph = build_graph(generate_lock(2000, seed=7, transfers_per_flow=1.5))
    expected = len(find_cycles(graph))
    assert expected > 0
    assert networkx_peer(graph) == expected == rustworkx_peer(rustworkx_graph(graph))
