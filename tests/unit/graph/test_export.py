"""Exports: node-link JSON, DOT, Mermaid."""

from __future__ import annotations

import json
import re

import networkx as nx

from flowops.graph import build_graph, to_dot, to_mermaid, to_node_link_json
from flowops.lock import LockedDependency, LockedFlow, LockedObject, Lockfile
from tests.unit.lock.org_files import load_org_lock

TRICKY_NAME = 'Say "hi" \\ <b>#1</b>\nnext'


def _tricky_lock() -> Lockfile:
    return Lockfile(
        org="dev",
        flows=[
            LockedFlow(
                id="f-1",
                name=TRICKY_NAME,
                type="INBOUNDCALL",
                published_version="2.0",
                consumes=[
                    LockedDependency(id="f-1", type="INBOUNDCALLFLOW"),
                    LockedDependency(id="q 1", type="QUEUE"),
                ],
            )
        ],
        objects=[LockedObject(id="q 1", type="QUEUE", name="Queue", deleted=True)],
    )


def test_node_link_json_round_trips_and_is_deterministic() -> None:
    # Given the same lock built twice / When exported / Then byte-identical and loadable by networkx
    lock = load_org_lock("nested_cycles")
    exported = to_node_link_json(build_graph(lock))
    assert exported == to_node_link_json(build_graph(lock))
    restored = nx.node_link_graph(json.loads(exported), edges="edges")
    assert nx.utils.graphs_equal(restored, build_graph(lock))
    assert [node["id"] for node in json.loads(exported)["nodes"]] == sorted(build_graph(lock).nodes)


def test_dot_escapes_labels_and_highlights_cycles() -> None:
    dot = to_dot(build_graph(_tricky_lock()))

    assert dot.startswith("digraph flowops {") and dot.rstrip().endswith("}")
    assert r'label="Say \"hi\" \\ <b>#1</b>\nnext\nINBOUNDCALLFLOW v2.0"' in dot
    assert '"f-1" -> "f-1" [color="red"];' in dot
    flow_line = next(line for line in dot.splitlines() if line.strip().startswith('"f-1" ['))
    assert 'fillcolor="#ffdddd"' in flow_line and "shape=box" in flow_line
    queue_line = next(line for line in dot.splitlines() if line.strip().startswith('"q 1" ['))
    assert "dashed" in queue_line and "(deleted)" in queue_line and "shape=ellipse" in queue_line
    # every quote inside a label is escaped: unescaped quotes come in pairs per attribute
    for line in dot.splitlines():
        assert len(re.findall(r'(?<!\\)"', line)) % 2 == 0


def test_mermaid_uses_safe_ids_and_escaped_labels() -> None:
    mermaid = to_mermaid(build_graph(_tricky_lock()))
    lines = mermaid.splitlines()

    assert lines[0] == "graph LR"
    assert (
        lines[1] == '  n0["Say #quot;hi#quot; \\ #lt;b#gt;#35;1#lt;/b#gt;<br/>next<br/>INBOUNDCALLFLOW v2.0"]'
    )
    assert lines[2] == '  n1(["Queue<br/>QUEUE (deleted)"])'
    assert "  n0 --> n0" in lines and "  n0 --> n1" in lines
    assert "  class n0 cycle;" in lines and "  class n1 gone;" in lines
    # no raw id (with its space) leaks into the diagram
    assert "q 1" not in mermaid


def test_mermaid_edge_labels_carry_versions() -> None:
    mermaid = to_mermaid(build_graph(load_org_lock("diamond")))
    assert '-->|"7"|' in mermaid
    assert to_mermaid(build_graph(load_org_lock("diamond"))) == mermaid
