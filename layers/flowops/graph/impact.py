"""Impact of changing an object: every flow that consumes it, directly or through other flows.

A reverse breadth-first search from the object over consumes-edges finds each consumer at its
shortest distance; the BFS parents give the explaining path ``[flow, ..., object]`` (each step
"consumes" the next). Predecessors are visited in sorted order so that, among equally short
paths, the same one is reported on every run. The object itself is not listed as its own
consumer, even when it sits on a cycle.
"""

from __future__ import annotations

from collections import deque

import networkx as nx
from pydantic import BaseModel, ConfigDict


class UnknownObjectError(KeyError):
    """The object id is not a node of the graph (not in the lock)."""

    def __init__(self, object_id: str) -> None:
        super().__init__(object_id)
        self.object_id = object_id

    def __str__(self) -> str:
        return f"object {self.object_id!r} is not in the lock: no flow consumes it and no scan recorded it"


class ImpactEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    flow_id: str
    name: str
    path: list[str]

    @property
    def distance(self) -> int:
        """Number of consumes-steps from the flow to the object (1 = direct consumer)."""
        return len(self.path) - 1


def impact(graph: nx.DiGraph, object_id: str) -> list[ImpactEntry]:
    """Flows that transitively consume ``object_id``, nearest first (then by flow id).

    Raises :class:`UnknownObjectError` when the id is not in the graph.
    """
    if object_id not in graph:
        raise UnknownObjectError(object_id)
    toward_object: dict[str, str] = {}
    queue: deque[str] = deque([object_id])
    seen = {object_id}
    entries: list[ImpactEntry] = []
    while queue:
        node = queue.popleft()
        for consumer in sorted(graph.predecessors(node)):
            if consumer in seen:
                continue
            seen.add(consumer)
            toward_object[consumer] = node
            queue.append(consumer)
            if graph.nodes[consumer].get("is_flow"):
                path = [consumer]
                while path[-1] != object_id:
                    path.append(toward_object[path[-1]])
                entries.append(
                    ImpactEntry(
                        flow_id=consumer, name=str(graph.nodes[consumer].get("name", consumer)), path=path
                    )
                )
    # BFS discovers consumers in nondecreasing distance, and in sorted order within a level only
    # per parent; sort explicitly for a stable report.
    entries.sort(key=lambda entry: (entry.distance, entry.flow_id))
    return entries
