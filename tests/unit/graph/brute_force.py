"""Independent, obviously-correct (and slow) computations to check flowops.graph against.

Everything here works from plain reachability by depth-first search, never from SCC code.
"""

from __future__ import annotations

from collections import deque
from functools import cache

import networkx as nx


def reachable(graph: nx.DiGraph, start: str, allowed: set[str] | None = None) -> set[str]:
    """Nodes reachable from ``start`` by one or more edges, stepping only on ``allowed`` nodes."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        node = stack.pop()
        for successor in graph.successors(node):
            if (allowed is None or successor in allowed) and successor not in seen:
                seen.add(successor)
                stack.append(successor)
    return seen


def cyclic_components(graph: nx.DiGraph) -> set[frozenset[str]]:
    """Groups of mutually reachable nodes that hold a cycle (two or more nodes, or a self-loop)."""
    reach = {node: reachable(graph, node) for node in graph}
    components = set()
    for node in graph:
        if node in reach[node]:
            components.add(frozenset({node} | {other for other in reach[node] if node in reach[other]}))
    return components


def shortest_cycle_length_through(graph: nx.DiGraph, start: str, component_size: int) -> int:
    """Edges in the shortest simple cycle through ``start`` (self-loops only count for 1-node components)."""
    lengths = [
        len(cycle)
        for cycle in nx.simple_cycles(graph)
        if start in cycle and (len(cycle) > 1 or component_size == 1)
    ]
    return min(lengths)


def deployable(graph: nx.DiGraph) -> set[str]:
    return {
        node
        for node, data in graph.nodes(data=True)
        if data.get("is_flow") and not data.get("missing") and not data.get("deleted")
    }


def expected_waves(graph: nx.DiGraph) -> tuple[dict[str, int], set[str]]:
    """Wave per deployable flow (as-early-as-possible over "reaches through flows") and the
    flows in a cycle."""
    flows = deployable(graph)
    reach = {flow: reachable(graph, flow, allowed=flows) for flow in flows}

    @cache
    def wave(flow: str) -> int:
        strictly_after = [other for other in reach[flow] if flow not in reach[other]]
        return 1 + max(wave(other) for other in strictly_after) if strictly_after else 0

    in_cycle = {flow for flow in flows if flow in reach[flow]}
    return {flow: wave(flow) for flow in flows}, in_cycle


def expected_impact(graph: nx.DiGraph, object_id: str) -> dict[str, int]:
    """Flow → shortest number of consumes-steps to ``object_id``, for every flow that reaches it."""
    distance = {object_id: 0}
    queue = deque([object_id])
    while queue:
        node = queue.popleft()
        for consumer in graph.predecessors(node):
            if consumer not in distance:
                distance[consumer] = distance[node] + 1
                queue.append(consumer)
    return {
        node: steps
        for node, steps in distance.items()
        if node != object_id and graph.nodes[node].get("is_flow")
    }
