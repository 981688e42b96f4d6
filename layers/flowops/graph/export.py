"""Exports of the consumes-graph: node-link JSON, Graphviz DOT and Mermaid.

All three are deterministic (nodes and edges in sorted order) so an unchanged org exports
byte-identical artifacts. Names come from the org and can hold anything, so every label is
escaped for its format, and Mermaid gets generated node ids (``n0``, ``n1`` ... in sorted id
order) because Genesys ids and names are not valid Mermaid identifiers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import networkx as nx

from flowops.graph.cycles import Cycle, find_cycles


def _ordered_copy(graph: nx.DiGraph) -> nx.DiGraph:
    ordered = nx.DiGraph(**graph.graph)
    ordered.add_nodes_from(sorted(graph.nodes(data=True), key=lambda item: str(item[0])))
    ordered.add_edges_from(sorted(graph.edges(data=True), key=lambda item: (str(item[0]), str(item[1]))))
    return ordered


def to_node_link_json(graph: nx.DiGraph, *, indent: int | None = None) -> str:
    """networkx node-link JSON (``nodes`` and ``edges`` keys), sorted and key-sorted."""
    data = nx.node_link_data(_ordered_copy(graph), edges="edges")
    return json.dumps(data, sort_keys=True, indent=indent, ensure_ascii=False)


def _cycle_nodes_and_edges(
    graph: nx.DiGraph, cycles: Iterable[Cycle] | None
) -> tuple[set[str], set[tuple[str, str]]]:
    members_of_cycles = [set(cycle.members) for cycle in (find_cycles(graph) if cycles is None else cycles)]
    nodes = set().union(*members_of_cycles) if members_of_cycles else set()
    edges = {
        (str(source), str(target))
        for members in members_of_cycles
        for source, target in graph.subgraph(members).edges()
    }
    return nodes, edges


def _node_label(node: str, data: dict[str, Any]) -> str:
    version = data.get("published_version")
    label = f"{data.get('name') or node}\n{data.get('type', '')}"
    if version is not None:
        label += f" v{version}"
    if data.get("deleted"):
        label += " (deleted)"
    elif data.get("missing"):
        label += " (missing)"
    return label


def _dot_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n")
    return f'"{escaped}"'


def to_dot(graph: nx.DiGraph, cycles: Iterable[Cycle] | None = None) -> str:
    """Graphviz DOT: flows as boxes, other objects as ellipses, deleted/missing dashed,
    members and edges of cycles in red (``cycles`` defaults to :func:`find_cycles`)."""
    cycle_nodes, cycle_edges = _cycle_nodes_and_edges(graph, cycles)
    lines = [
        "digraph flowops {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for node, data in sorted(graph.nodes(data=True), key=lambda item: str(item[0])):
        node_id = str(node)
        attributes = [f"label={_dot_quote(_node_label(node_id, data))}"]
        attributes.append("shape=box" if data.get("is_flow") else "shape=ellipse")
        styles = []
        if data.get("deleted") or data.get("missing"):
            styles.append("dashed")
            attributes.append('color="gray40"')
        if node_id in cycle_nodes:
            styles.append("filled")
            attributes.append('color="red"')
            attributes.append('fillcolor="#ffdddd"')
        if styles:
            attributes.append(f"style={_dot_quote(','.join(styles))}")
        lines.append(f"  {_dot_quote(node_id)} [{', '.join(attributes)}];")
    for source, target, data in sorted(graph.edges(data=True), key=lambda item: (str(item[0]), str(item[1]))):
        attributes = []
        if data.get("version") is not None:
            attributes.append(f"label={_dot_quote(str(data['version']))}")
        if (str(source), str(target)) in cycle_edges:
            attributes.append('color="red"')
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"  {_dot_quote(str(source))} -> {_dot_quote(str(target))}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    # Inside a quoted Mermaid label only '"' breaks parsing; '#' starts an entity code, so it is
    # encoded first, then the quote and angle brackets (labels may be rendered as HTML).
    return (
        text.replace("#", "#35;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("\r", "")
        .replace("\n", "<br/>")
    )


def to_mermaid(graph: nx.DiGraph, cycles: Iterable[Cycle] | None = None) -> str:
    """Mermaid ``graph LR``: flows as rectangles, objects as stadiums, cycle members highlighted."""
    cycle_nodes, _ = _cycle_nodes_and_edges(graph, cycles)
    ordered_nodes = sorted(graph.nodes(data=True), key=lambda item: str(item[0]))
    mermaid_id = {str(node): f"n{index}" for index, (node, _) in enumerate(ordered_nodes)}
    lines = ["graph LR"]
    for node, data in ordered_nodes:
        node_id = str(node)
        label = _mermaid_text(_node_label(node_id, data))
        shape = f'["{label}"]' if data.get("is_flow") else f'(["{label}"])'
        lines.append(f"  {mermaid_id[node_id]}{shape}")
    for source, target, data in sorted(graph.edges(data=True), key=lambda item: (str(item[0]), str(item[1]))):
        version = data.get("version")
        arrow = f'-->|"{_mermaid_text(str(version))}"|' if version is not None else "-->"
        lines.append(f"  {mermaid_id[str(source)]} {arrow} {mermaid_id[str(target)]}")

    lines.append("  classDef cycle fill:#ffdddd,stroke:#cc0000,stroke-width:2px;")
    lines.append("  classDef gone stroke-dasharray:4 3,color:#666666;")
    classes = {
        "cycle": [mermaid_id[node] for node in sorted(cycle_nodes)],
        "gone": [
            mermaid_id[str(node)]
            for node, data in ordered_nodes
            if data.get("deleted") or data.get("missing")
        ],
    }
    for class_name, members in classes.items():
        if members:
            lines.append(f"  class {','.join(members)} {class_name};")
    return "\n".join(lines) + "\n"


# Mermaid's own limits (mermaid.initialize defaults, also what GitHub renders with): a diagram
# over either is refused with "Maximum text size in diagram exceeded" / "Too many edges".
MERMAID_MAX_EDGES = 500
MERMAID_MAX_TEXT = 50_000


def mermaid_parts(
    graph: nx.DiGraph,
    cycles: Iterable[Cycle] | None = None,
    *,
    max_edges: int = MERMAID_MAX_EDGES,
    max_text: int = MERMAID_MAX_TEXT,
) -> list[str]:
    """The graph as Mermaid diagrams that each stay within Mermaid's limits.

    One diagram when the whole graph fits. Otherwise subgraphs, one connected component after
    another (largest first), cut into runs of edges in a stable order; every edge is in exactly
    one part and a node is repeated in every part that has one of its edges (isolated nodes go
    to the part of their component). A part whose text is still too long is halved until it
    fits or holds a single edge."""
    cycle_list = list(find_cycles(graph) if cycles is None else cycles)
    whole = to_mermaid(graph, cycle_list)
    if graph.number_of_edges() <= max_edges and len(whole) <= max_text:
        return [whole]
    components = sorted(
        (sorted(str(node) for node in component) for component in nx.weakly_connected_components(graph)),
        key=lambda nodes: (-len(nodes), nodes[0]),
    )
    chunks: list[tuple[list[tuple[str, str]], list[str]]] = []
    current_edges: list[tuple[str, str]] = []
    current_nodes: list[str] = []
    for nodes in components:
        edges = sorted((str(s), str(t)) for s, t in graph.subgraph(nodes).edges())
        if not edges:
            current_nodes += nodes
            continue
        for edge in edges:
            if len(current_edges) >= max_edges:
                chunks.append((current_edges, current_nodes))
                current_edges, current_nodes = [], []
            current_edges.append(edge)
        current_nodes += [node for node in nodes if graph.degree(node) == 0]
    if current_edges or current_nodes:
        chunks.append((current_edges, current_nodes))

    parts: list[str] = []
    pending = list(reversed(chunks))
    while pending:
        edges, isolated = pending.pop()
        sub = nx.DiGraph()
        for source, target in edges:
            sub.add_node(source, **graph.nodes[source])
            sub.add_node(target, **graph.nodes[target])
            sub.add_edge(source, target, **graph.edges[source, target])
        for node in isolated:
            sub.add_node(node, **graph.nodes[node])
        text = to_mermaid(sub, [cycle for cycle in cycle_list if set(cycle.members) <= set(sub.nodes)])
        if len(text) > max_text and len(edges) > 1:
            half = len(edges) // 2
            pending.append((edges[half:], []))
            pending.append((edges[:half], isolated))
            continue
        parts.append(text)
    return parts
