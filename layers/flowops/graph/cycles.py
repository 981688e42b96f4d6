"""Cycles of the consumes-graph, in linear time.

A graph can hold exponentially many simple cycles, so they are never enumerated. Instead
every strongly connected component (SCC) that can hold a cycle — more than one node, or one
node consuming itself — is reported once, with its sorted members and ONE concrete witness:
the shortest cycle through the component's smallest id, found by breadth-first search inside
the component. SCCs come from networkx's non-recursive Tarjan (``O(V + E)``), and the witness
searches visit each component once, so the whole pass stays ``O(V + E log E)`` (the log from
sorting successors, which makes the witness deterministic).
"""

from __future__ import annotations

from collections import deque

import networkx as nx
from pydantic import BaseModel, ConfigDict


class Cycle(BaseModel):
    """A cyclic strongly connected component.

    ``witness`` is a closed walk ``[start, ..., start]`` along consumes-edges (``[a, a]`` for a
    self-loop); ``self_loops`` lists the members that consume themselves.
    """

    model_config = ConfigDict(frozen=True)

    members: list[str]
    witness: list[str]
    self_loops: list[str]

    @property
    def is_self_loop(self) -> bool:
        return len(self.members) == 1


def shortest_cycle_through(graph: nx.DiGraph, start: str, within: set[str]) -> list[str]:
    """Shortest closed path ``[start, ..., start]`` using only nodes of ``within``.

    A self-loop on ``start`` is used only when ``within`` is just ``{start}``, so the witness of a
    larger component shows the component's nodes really are mutually reachable.
    """
    if within == {start}:
        return [start, start]
    parent: dict[str, str] = {}
    queue: deque[str] = deque([start])
    visited = {start}
    while queue:
        node = queue.popleft()
        successors = sorted(graph.successors(node))
        if node != start and start in successors:
            path = [node]
            while path[-1] != start:
                path.append(parent[path[-1]])
            path.reverse()
            path.append(start)
            return path
        for successor in successors:
            if successor in within and successor not in visited:
                visited.add(successor)
                parent[successor] = node
                queue.append(successor)
    raise ValueError(f"{start!r} is on no cycle inside the given component")


def find_cycles(graph: nx.DiGraph) -> list[Cycle]:
    """Every cyclic SCC of ``graph`` with a witness, sorted by member list."""
    cycles: list[Cycle] = []
    for component in nx.strongly_connected_components(graph):
        members = {str(node) for node in component}
        self_loops = sorted(node for node in members if graph.has_edge(node, node))
        if len(members) == 1 and not self_loops:
            continue
        start = min(members)
        cycles.append(
            Cycle(
                members=sorted(members),
                witness=shortest_cycle_through(graph, start, members),
                self_loops=self_loops,
            )
        )
    cycles.sort(key=lambda cycle: cycle.members)
    return cycles
