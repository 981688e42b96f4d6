"""flowops.graph against brute force on small random graphs (≤ 8 nodes)."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.graph.checks import (
    assert_cycles_match_brute_force,
    assert_impact_matches_brute_force,
    assert_waves_match_brute_force,
)

NODE_IDS = [f"n{index}" for index in range(8)]


@st.composite
def small_graphs(draw: st.DrawFn) -> nx.DiGraph:
    """Random graphs with self-loops and nodes of every kind. Unlike a lock, objects may have
    out-edges here, so the "only through flows" rule of the waves is exercised too."""
    nodes = draw(st.lists(st.sampled_from(NODE_IDS), min_size=1, max_size=8, unique=True))
    graph = nx.DiGraph()
    for node in nodes:
        graph.add_node(
            node,
            name=node.upper(),
            is_flow=draw(st.integers(0, 3)) > 0,  # mostly flows, some objects
            missing=draw(st.integers(0, 5)) == 0,
            deleted=draw(st.integers(0, 5)) == 0,
        )
    edges = draw(
        st.lists(st.tuples(st.sampled_from(nodes), st.sampled_from(nodes)), max_size=16, unique=True)
    )
    graph.add_edges_from(edges, version="1.0")
    return graph


@settings(max_examples=200, deadline=None)
@given(graph=small_graphs())
def test_cycles_equal_mutual_reachability_with_shortest_witnesses(graph: nx.DiGraph) -> None:
    assert_cycles_match_brute_force(graph)


@settings(max_examples=200, deadline=None)
@given(graph=small_graphs())
def test_waves_equal_brute_force_ordering_over_flows(graph: nx.DiGraph) -> None:
    assert_waves_match_brute_force(graph)


@settings(max_examples=200, deadline=None)
@given(graph=small_graphs())
def test_impact_equals_reverse_reachability_with_shortest_paths(graph: nx.DiGraph) -> None:
    assert_impact_matches_brute_force(graph)
