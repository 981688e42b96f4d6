"""The dependency graph of a lock (networkx ``DiGraph``, edge "A consumes B").

- :func:`build_graph` (node/edge attributes documented in ``build.py``)
- :func:`find_cycles` — cyclic strongly connected components with one witness cycle each
- :func:`deployment_waves` — publish order over flows, dependencies first
- :func:`impact` — flows that transitively consume an object, with explaining paths
- :func:`find_problems` — missing/deleted references, unpublished or stale consumption, orphans
- :func:`analyze` — all of the above as one :class:`GraphReport`
- exports: :func:`to_node_link_json`, :func:`to_dot`, :func:`to_mermaid`

Importing this package imports networkx (~0.2 s): Lambda handlers that do not build a graph
should import ``flowops.lock`` only.
"""

from flowops.graph.build import build_graph
from flowops.graph.cycles import Cycle, find_cycles, shortest_cycle_through
from flowops.graph.export import mermaid_parts, to_dot, to_mermaid, to_node_link_json
from flowops.graph.impact import ImpactEntry, UnknownObjectError, impact
from flowops.graph.problems import (
    Problem,
    ProblemCode,
    Severity,
    failed_object_problems,
    find_problems,
    unread_flow_problems,
)
from flowops.graph.report import GraphCounts, GraphReport, analyze, missing_ids
from flowops.graph.waves import DeploymentWave, WaveFlow, deployable_flows, deployment_waves

__all__ = [
    "Cycle",
    "DeploymentWave",
    "GraphCounts",
    "GraphReport",
    "ImpactEntry",
    "Problem",
    "ProblemCode",
    "Severity",
    "UnknownObjectError",
    "WaveFlow",
    "analyze",
    "build_graph",
    "deployable_flows",
    "deployment_waves",
    "failed_object_problems",
    "find_cycles",
    "find_problems",
    "impact",
    "mermaid_parts",
    "missing_ids",
    "shortest_cycle_through",
    "to_dot",
    "to_mermaid",
    "to_node_link_json",
    "unread_flow_problems",
]
