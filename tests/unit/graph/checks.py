"""Assertions that a graph analysis agrees with the brute-force computation."""

from __future__ import annotations

from itertools import pairwise

import networkx as nx

from flowops.graph import deployment_waves, find_cycles, impact
from tests.unit.graph.brute_force import (
    cyclic_components,
    expected_impact,
    expected_waves,
    shortest_cycle_length_through,
)


def assert_cycles_match_brute_force(graph: nx.DiGraph) -> None:
    cycles = find_cycles(graph)
    assert {frozenset(cycle.members) for cycle in cycles} == cyclic_components(graph)
    assert [cycle.members for cycle in cycles] == sorted(sorted(cycle.members) for cycle in cycles)
    on_some_cycle = {node for cycle in nx.simple_cycles(graph) for node in cycle}
    assert {node for cycle in cycles for node in cycle.members} == on_some_cycle
    for cycle in cycles:
        witness = cycle.witness
        assert witness[0] == witness[-1] == min(cycle.members)
        assert all(graph.has_edge(source, target) for source, target in pairwise(witness))
        assert set(witness) <= set(cycle.members)
        assert len(set(witness[:-1])) == len(witness) - 1, "witness must be a simple cycle"
        assert len(witness) - 1 == shortest_cycle_length_through(graph, witness[0], len(cycle.members))
        assert cycle.self_loops == sorted(node for node in cycle.members if graph.has_edge(node, node))


def assert_waves_match_brute_force(graph: nx.DiGraph) -> None:
    expected_wave, expected_in_cycle = expected_waves(graph)
    waves = deployment_waves(graph)
    actual_wave = {flow.id: wave.index for wave in waves for flow in wave.flows}
    assert actual_wave == expected_wave
    assert {flow.id for wave in waves for flow in wave.flows if flow.in_cycle} == expected_in_cycle
    assert all(wave.flows for wave in waves), "no empty waves"
    assert all(wave.flow_ids == sorted(wave.flow_ids) for wave in waves)


def assert_impact_matches_brute_force(graph: nx.DiGraph) -> None:
    for object_id in graph:
        entries = impact(graph, object_id)
        assert {entry.flow_id: entry.distance for entry in entries} == expected_impact(graph, object_id)
        for entry in entries:
            assert entry.path[0] == entry.flow_id and entry.path[-1] == object_id
            assert all(graph.has_edge(a, b) for a, b in pairwise(entry.path))
        assert [(e.distance, e.flow_id) for e in entries] == sorted((e.distance, e.flow_id) for e in entries)
