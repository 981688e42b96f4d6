"""The dependency graph as the report's script reads it: compact, index-based JSON.

A 2,000-flow org has a few thousand nodes and around ten thousand edges, so the payload uses
arrays instead of objects (keys repeated per node would double its size):

``nodes``
    ``[id, name, type, layer, flags, cycle]`` per node, sorted by id. ``layer`` is the column of
    the layered drawing: 0 for everything that is not a deployable flow (queues, data actions,
    prompts, missing or deleted flows), ``wave + 1`` for flows, so dependencies sit left of
    their consumers. ``cycle`` indexes ``cycles`` (-1 when the node is on none).
``edges``
    ``[consumer, consumed]`` node indices ("consumer consumes consumed").
``cycles``
    member node indices per cyclic strongly connected component (the analysis' cycles).

``flags`` is a bit set (:class:`NodeFlag`), so the script needs no per-node attribute lookups.
The impact set the script computes (reverse reachability, flows only, the node itself
excluded) is the definition of :func:`flowops.graph.impact`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntFlag
from typing import Any

import networkx as nx
from pydantic import BaseModel, ConfigDict

from flowops.graph import GraphReport
from flowops.lock import LockDiff


class NodeFlag(IntFlag):
    FLOW = 1
    SCANNED = 2
    MISSING = 4
    DELETED = 8
    IN_CYCLE = 16
    CHANGED = 32  # touched by the drift since the previous lock
    PROBLEM = 64  # named by at least one problem


NodeRow = tuple[str, str, str, int, int, int]
# Node id -> the name the report shows (the id when the node has none).
NodeNames = Mapping[str, str]


class ReportGraphData(BaseModel):
    """What the report's script draws; see the module docstring for the row layouts."""

    model_config = ConfigDict(frozen=True)

    nodes: list[NodeRow]
    edges: list[tuple[int, int]]
    cycles: list[list[int]]
    waves: int

    def as_payload(self) -> dict[str, Any]:
        return {
            "nodes": [list(row) for row in self.nodes],
            "edges": [list(edge) for edge in self.edges],
            "cycles": self.cycles,
            "waves": self.waves,
        }

    def names(self) -> dict[str, str]:
        return {row[0]: row[1] for row in self.nodes}

    def with_changed(self, diff: LockDiff | None) -> ReportGraphData:
        """The same graph with the drift's changed flows flagged (stored without a diff, since
        the lock it is compared with is only known once the pointer has moved)."""
        changed = set(diff.changed_flow_ids()) if diff is not None else set()
        if not changed:
            return self
        rows = [
            (row[0], row[1], row[2], row[3], int(row[4] | NodeFlag.CHANGED), row[5])
            if row[0] in changed
            else row
            for row in self.nodes
        ]
        return self.model_copy(update={"nodes": rows})


def _flags(data: dict[str, Any]) -> int:
    flags = 0
    if data.get("is_flow"):
        flags |= NodeFlag.FLOW
    if data.get("scanned"):
        flags |= NodeFlag.SCANNED
    if data.get("missing"):
        flags |= NodeFlag.MISSING
    if data.get("deleted"):
        flags |= NodeFlag.DELETED
    return flags


def build_report_graph(graph: nx.DiGraph, analysis: GraphReport, diff: LockDiff | None) -> ReportGraphData:
    """Index the graph of the analysed lock for drawing (deterministic: nodes sorted by id)."""
    node_ids = sorted(str(node) for node in graph.nodes)
    index = {node_id: position for position, node_id in enumerate(node_ids)}
    layer_of = {flow_id: wave + 1 for wave, flow_ids in enumerate(analysis.waves) for flow_id in flow_ids}
    cycle_of = {member: number for number, cycle in enumerate(analysis.cycles) for member in cycle.members}
    changed = set(diff.changed_flow_ids()) if diff is not None else set()
    with_problem = {object_id for problem in analysis.problems for object_id in problem.object_ids}

    rows: list[NodeRow] = []
    for node_id in node_ids:
        data = graph.nodes[node_id]
        flags = _flags(data)
        if node_id in cycle_of:
            flags |= NodeFlag.IN_CYCLE
        if node_id in changed:
            flags |= NodeFlag.CHANGED
        if node_id in with_problem:
            flags |= NodeFlag.PROBLEM
        rows.append(
            (
                node_id,
                str(data.get("name") or node_id),
                str(data.get("type") or ""),
                layer_of.get(node_id, 0),
                int(flags),
                cycle_of.get(node_id, -1),
            )
        )
    edges = sorted((index[str(source)], index[str(target)]) for source, target in graph.edges)
    cycles = [[index[member] for member in cycle.members if member in index] for cycle in analysis.cycles]
    return ReportGraphData(nodes=rows, edges=edges, cycles=cycles, waves=len(analysis.waves))
