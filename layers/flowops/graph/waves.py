"""Deployment waves: the order in which flows can be (re)published, dependencies first.

What "reaches" means here: flow A must be published after flow B when there is a path of
consumes-edges from A to B on which every node is a deployable flow. Only flows are deployed;
a queue, data action or prompt is not part of any wave and does not carry an ordering through
it (two flows sharing a data action are independent; a path through an object would say
nothing about publish order). Deployable flows are flow nodes that are neither missing nor
deleted. In a lock only flows consume anything, so in practice this is reachability in the
flow-only subgraph, which is transitive: A → B → C orders A after C.

Flows that reach each other (a cycle of transfers) cannot be ordered; their strongly connected
component is condensed into one unit: its members share a wave and are flagged ``in_cycle``.
Wave numbers are "as early as possible": a unit's wave is 0 when it depends on no other unit,
else one more than the latest wave among the units it depends on. So every wave only depends
on earlier waves, and the number of waves is the length of the longest dependency chain.
"""

from __future__ import annotations

import networkx as nx
from pydantic import BaseModel, ConfigDict


class WaveFlow(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    in_cycle: bool


class DeploymentWave(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    flows: list[WaveFlow]

    @property
    def flow_ids(self) -> list[str]:
        return [flow.id for flow in self.flows]


def deployable_flows(graph: nx.DiGraph) -> list[str]:
    """Flow nodes that take part in waves (flows that are neither missing nor deleted), sorted."""
    return sorted(
        str(node)
        for node, data in graph.nodes(data=True)
        if data.get("is_flow") and not data.get("missing") and not data.get("deleted")
    )


def deployment_waves(graph: nx.DiGraph) -> list[DeploymentWave]:
    """Waves of deployable flows, dependencies first; flows inside a wave sorted by id."""
    flows = deployable_flows(graph)
    flow_set = set(flows)
    # An explicit flow-only graph: networkx subgraph views re-check the node filter on every
    # neighbour visit, which costs several times more than copying once on large orgs.
    flow_graph = nx.DiGraph()
    flow_graph.add_nodes_from(flows)
    flow_graph.add_edges_from(
        (source, target) for source in flows for target in graph.successors(source) if target in flow_set
    )
    condensed = nx.condensation(flow_graph)
    members_of: dict[int, list[str]] = {
        unit: sorted(str(node) for node in data["members"]) for unit, data in condensed.nodes(data=True)
    }

    wave_of: dict[int, int] = {}
    # Reverse topological order visits every unit after all the units it depends on.
    for unit in reversed(list(nx.topological_sort(condensed))):
        dependency_waves = [wave_of[dependency] for dependency in condensed.successors(unit)]
        wave_of[unit] = 1 + max(dependency_waves) if dependency_waves else 0

    waves: list[list[WaveFlow]] = [[] for _ in range(1 + max(wave_of.values(), default=-1))]
    for unit, members in members_of.items():
        in_cycle = len(members) > 1 or flow_graph.has_edge(members[0], members[0])
        waves[wave_of[unit]].extend(
            WaveFlow(id=member, name=str(graph.nodes[member].get("name", member)), in_cycle=in_cycle)
            for member in members
        )
    return [
        DeploymentWave(index=index, flows=sorted(flows, key=lambda flow: flow.id))
        for index, flows in enumerate(waves)
    ]
