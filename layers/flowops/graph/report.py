"""One analysis of a lock: counts, cycles, waves, missing ids and problems."""

from __future__ import annotations

import networkx as nx
from pydantic import BaseModel, ConfigDict

from flowops.graph.build import build_graph
from flowops.graph.cycles import Cycle, find_cycles
from flowops.graph.problems import (
    Problem,
    failed_object_problems,
    find_problems,
    sort_problems,
    unread_flow_problems,
)
from flowops.graph.waves import DeploymentWave, deployment_waves
from flowops.lock import Lockfile, lock_sha256


class GraphCounts(BaseModel):
    model_config = ConfigDict(frozen=True)

    flows: int
    nodes: int
    edges: int


class GraphReport(BaseModel):
    """Everything ``analyze`` finds; every list is sorted, so equal locks give equal reports.

    ``cycles`` holds one entry per cyclic strongly connected component (self-loops included);
    ``waves`` lists flow ids per deployment wave, dependencies first, and ``flows_in_cycles``
    the flows that share a wave because they reach each other; ``missing`` lists referenced ids
    that are deleted or absent from the org.
    """

    model_config = ConfigDict(frozen=True)

    org: str
    lock_sha256: str
    counts: GraphCounts
    cycles: list[Cycle]
    waves: list[list[str]]
    flows_in_cycles: list[str]
    missing: list[str]
    problems: list[Problem]

    @property
    def cycle_member_lists(self) -> list[list[str]]:
        """Cycles as plain id lists (the shape ``flowops scan --json`` prints)."""
        return [cycle.members for cycle in self.cycles]


def missing_ids(graph: nx.DiGraph) -> list[str]:
    """Ids consumed by some flow that are deleted or absent from the org, sorted."""
    return sorted(
        str(node)
        for node, data in graph.nodes(data=True)
        if (data.get("missing") or data.get("deleted")) and graph.in_degree(node) > 0
    )


def waves_as_ids(waves: list[DeploymentWave]) -> list[list[str]]:
    return [wave.flow_ids for wave in waves]


def analyze(lock: Lockfile, graph: nx.DiGraph | None = None) -> GraphReport:
    """Analyse ``lock`` (pass ``graph`` when ``build_graph(lock)`` was already called)."""
    graph = build_graph(lock) if graph is None else graph
    waves = deployment_waves(graph)
    unread_ids = {flow.id for flow in lock.flows if flow.unread is not None}
    return GraphReport(
        org=lock.org,
        lock_sha256=lock_sha256(lock),
        counts=GraphCounts(
            flows=len(lock.flows), nodes=graph.number_of_nodes(), edges=graph.number_of_edges()
        ),
        cycles=find_cycles(graph),
        waves=waves_as_ids(waves),
        flows_in_cycles=sorted(flow.id for wave in waves for flow in wave.flows if flow.in_cycle),
        missing=missing_ids(graph),
        problems=sort_problems(
            [
                *find_problems(graph),
                # A failed flow recorded as unread is reported once, as unread (with the error code).
                *failed_object_problems(
                    failed for failed in lock.failed_objects if failed.id not in unread_ids
                ),
                *unread_flow_problems(lock.flows),
            ]
        ),
    )
