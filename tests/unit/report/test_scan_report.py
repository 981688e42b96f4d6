"""The scan report's HTML: self-contained, escaped, complete, and small enough for big orgs."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from bench.graph import generate_lock
from flowops.graph import analyze, build_graph, impact
from flowops.local.simulator.executions import generate_flow_runs
from flowops.lock import LockedDependency, LockedFlow, LockedObject, Lockfile, diff_locks
from flowops.report import NodeFlag, ReportGraphData, build_report_graph, embed_json, render_scan_report
from flowops.trace import analyze_runs, parse_execution_document
from tests.unit.lock.org_files import load_org_lock
from tests.unit.report.reports import GENERATED_AT, embedded_payload, report_for

HOSTILE_NAME = '</script><script>alert("x")</script><img src=x onerror=alert(1)> & "quoted" \u2028'


def _hostile_lock() -> Lockfile:
    return Lockfile(
        org="evil<org>",
        flows=[
            LockedFlow(
                id="flow-evil",
                name=HOSTILE_NAME,
                type="INBOUNDCALL",
                published_version="1.0",
                consumes=[LockedDependency(id="queue-<q>", type="QUEUE", name="Q <b>bold</b>")],
            ),
            LockedFlow(
                id="flow-front",
                name="Front",
                type="INBOUNDCALL",
                published_version="1.0",
                consumes=[LockedDependency(id="flow-evil", type="INBOUNDCALLFLOW")],
            ),
        ],
        objects=[LockedObject(id="queue-<q>", name="Q <b>bold</b>", type="QUEUE", deleted=True)],
    )


def test_report_is_self_contained_and_pins_its_only_script_and_style() -> None:
    # Given the report of an org with cycles
    document = report_for(load_org_lock("nested_cycles"))

    # Then nothing in it points outside the file: the only URL is the SVG namespace name
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", document))
    assert urls <= {"http://www.w3.org/2000/svg"}
    assert not re.search(r"\b(src|href)\s*=\s*[\"'](?!#)", document), "only in-page anchors may be linked"
    assert "@import" not in document and "url(" not in document

    # And the Content-Security-Policy forbids fetching and allows exactly the inline script/style
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', document)
    assert policy is not None
    assert "default-src 'none'" in policy.group(1)
    scripts = re.findall(r"<script>(.*?)</script>", document, re.DOTALL)
    styles = re.findall(r"<style>(.*?)</style>", document, re.DOTALL)
    assert len(scripts) == 1 and len(styles) == 1
    for body in (scripts[0], styles[0]):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy.group(1)


def test_names_are_escaped_everywhere_and_survive_the_json_block_unchanged() -> None:
    # Given flow, object and org names that try to break out of HTML and of the script block
    lock = _hostile_lock()

    # When the report is rendered
    document = report_for(lock, title="Report <script>")

    # Then no markup from the names reaches the page: two script elements only, both ours
    assert document.count("<script") == 2
    assert "<img" not in document and "<b>bold" not in document
    assert "&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)" in document  # the problems/waves text
    assert "<title>Report &lt;script&gt;</title>" in document
    # And the script reads the names back exactly as they are in the lock
    names = {row[0]: row[1] for row in embedded_payload(document)["nodes"]}
    assert names["flow-evil"] == HOSTILE_NAME
    assert names["queue-<q>"] == "Q <b>bold</b>"


def test_embed_json_escapes_what_could_close_the_block() -> None:
    # Given text containing a script end tag, a comment opener and a line separator
    text = embed_json({"name": "</script><!-- \u2028 &"})

    # Then none of them appear literally
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text


def test_payload_marks_layers_cycles_and_flags_like_the_analysis() -> None:
    # Given the nested-cycles org and its analysis
    lock = load_org_lock("nested_cycles")
    analysis = analyze(lock)
    graph = build_graph(lock)

    # When it is indexed for drawing
    data = build_report_graph(graph, analysis, None)

    # Then every node is there once, flows sit in their wave's column (+1), objects in column 0
    rows = {row[0]: row for row in data.nodes}
    assert sorted(rows) == sorted(graph.nodes)
    for wave, flow_ids in enumerate(analysis.waves):
        for flow_id in flow_ids:
            assert rows[flow_id][3] == wave + 1
    assert rows["queue-general"][3] == 0
    assert not rows["queue-general"][4] & NodeFlag.FLOW
    # And cycle indices point at the right members
    for number, cycle in enumerate(analysis.cycles):
        assert sorted(data.nodes[index][0] for index in data.cycles[number]) == cycle.members
        for member in cycle.members:
            assert rows[member][5] == number and rows[member][4] & NodeFlag.IN_CYCLE
    # And edges are the graph's edges, consumer first
    ids = [row[0] for row in data.nodes]
    assert {(ids[a], ids[b]) for a, b in data.edges} == set(graph.edges)


def test_payload_flags_problems_missing_deleted_and_drift() -> None:
    # Given an org with a deleted queue, and a previous lock in which "Front" did not exist
    lock = _hostile_lock()
    previous = Lockfile(org=lock.org, flows=[lock.flows[0]], objects=lock.objects)
    diff = diff_locks(previous, lock)

    # When it is indexed for drawing
    data = build_report_graph(build_graph(lock), analyze(lock), diff)

    # Then the changed flow, the deleted object and its problem are flagged
    rows = {row[0]: row for row in data.nodes}
    assert rows["flow-front"][4] & NodeFlag.CHANGED
    assert not rows["flow-evil"][4] & NodeFlag.CHANGED
    assert rows["queue-<q>"][4] & NodeFlag.DELETED and rows["queue-<q>"][4] & NodeFlag.PROBLEM


def test_tables_list_cycles_waves_problems_with_links_into_the_graph() -> None:
    # Given an org with a deleted reference and one with a cycle through modules
    deleted = report_for(load_org_lock("deleted_references"))
    cycle_lock = load_org_lock("common_module_cycle")
    cyclic = report_for(cycle_lock)

    # Then the problems table names the code and the hint
    assert "<code>DELETED_REFERENCE</code>" in deleted
    assert "Recreate the object" in deleted
    # And the cycle's witness is shown as links that select nodes in the graph
    witness = analyze(cycle_lock).cycles[0].witness
    table = cyclic.split('id="cycles-table"')[1].split("</table>")[0]
    assert re.findall(r'data-select="([^"]+)"', table) == witness
    # And every wave is a row
    waves_table = cyclic.split('id="waves-table"')[1].split("</table>")[0]
    assert waves_table.count("<tr>") == len(analyze(cycle_lock).waves) + 1


def test_drift_section_lists_each_kind_of_change() -> None:
    # Given a previous lock and a new one where a flow was added, one renamed and republished
    previous = load_org_lock("diamond")
    flows = [
        flow.model_copy(update={"name": "Top (renamed)", "published_version": "9.0"})
        if flow.id == "flow-top"
        else flow
        for flow in previous.flows
    ]
    flows.append(LockedFlow(id="flow-new", name="Brand New", type="INBOUNDCALL", published_version="1.0"))
    current = Lockfile(org=previous.org, flows=flows, objects=previous.objects)

    # When the report is rendered with the diff
    document = report_for(current, diff_locks(previous, current))

    # Then the drift table lists the addition, the rename and the republish
    table = document.split('id="drift-table"')[1].split("</table>")[0]
    assert "flow added" in table and "Brand New" in table
    assert "flow renamed" in table and "Top (renamed)" in table
    assert "flow republished" in table and "9.0" in table


def test_drift_section_says_when_there_is_nothing_to_compare() -> None:
    lock = load_org_lock("diamond")
    assert "this is the first scan" in report_for(lock, None)
    assert "No drift: the lock is unchanged" in report_for(lock, diff_locks(lock, lock))


def test_trace_section_has_the_bottleneck_table_and_the_waterfall() -> None:
    # Given a trace over generated runs of one flow
    start = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    runs = generate_flow_runs(
        flow_id="flow-main",
        flow_name="Main <IVR>",
        flow_type="INBOUNDCALL",
        flow_version="3.0",
        actions=None,
        seed=4,
        count=12,
        window_start=start,
        window_end=start + timedelta(hours=1),
    )
    trace = analyze_runs(
        parse_execution_document(run.document, instance_id=str(run.instance_row["id"])) for run in runs
    )
    assert trace.bottlenecks_by_total and trace.slowest_run is not None

    # When the report includes it
    document = report_for(load_org_lock("diamond"), None, trace)

    # Then the bottleneck table has one row per bottleneck and the waterfall SVG is inline
    table = document.split('id="bottlenecks-table"')[1].split("</table>")[0]
    assert table.count("<tr>") == len(trace.bottlenecks_by_total) + 1
    assert trace.bottlenecks_by_total[0].label.replace("<", "&lt;") in table
    waterfall = document.split('id="waterfall"')[1]
    assert waterfall.lstrip(">").startswith("<svg")
    assert "Main &lt;IVR&gt;" in waterfall
    assert 'href="#trace"' in document


def test_report_without_trace_has_no_trace_section() -> None:
    document = report_for(load_org_lock("diamond"))
    assert 'id="trace"' not in document and 'href="#trace"' not in document


def test_impact_definition_in_payload_matches_flowops_graph_impact() -> None:
    # Given the payload of an org where a module is consumed through a chain of flows
    lock = load_org_lock("diamond")
    graph = build_graph(lock)
    payload = embedded_payload(report_for(lock))
    ids = [row[0] for row in payload["nodes"]]
    is_flow = {row[0]: bool(row[4] & NodeFlag.FLOW) for row in payload["nodes"]}
    consumers: dict[str, list[str]] = {node_id: [] for node_id in ids}
    for consumer, consumed in payload["edges"]:
        consumers[ids[consumed]].append(ids[consumer])

    # When the impact set is computed the way the script does (reverse reachability, flows only)
    for node_id in ids:
        seen, frontier = {node_id}, [node_id]
        while frontier:
            node = frontier.pop()
            for consumer in consumers[node]:
                if consumer not in seen:
                    seen.add(consumer)
                    frontier.append(consumer)
        expected = {entry.flow_id for entry in impact(graph, node_id)}
        # Then it equals flowops.graph.impact for every node
        assert {n for n in seen - {node_id} if is_flow[n]} == expected, node_id


def test_a_two_thousand_flow_org_renders_a_small_document_with_a_bounded_drawing() -> None:
    # Given a generated org of about 2,000 flows and 3,000 other objects
    lock = generate_lock(5000, seed=11, transfers_per_flow=0.4)
    assert len(lock.flows) == 2000
    analysis = analyze(lock)

    # When its report is rendered
    document = render_scan_report(lock, analysis, None, title="Big org", generated_at=GENERATED_AT)

    # Then it is reasonably small and tells the script to draw a bounded neighbourhood
    assert len(document.encode()) < 1_500_000
    payload = embedded_payload(document)
    assert len(payload["nodes"]) == analysis.counts.nodes and payload["draw_limit"] < len(payload["nodes"])


def test_draw_limit_must_be_positive() -> None:
    lock = load_org_lock("diamond")
    with pytest.raises(ValueError, match="draw_limit"):
        render_scan_report(lock, analyze(lock), None, title="x", generated_at=GENERATED_AT, draw_limit=0)


def test_report_from_the_stored_report_graph_is_the_report_built_from_the_lock() -> None:
    # Given a generated org with cycles, a previous lock it drifted from, and the compact graph
    # BuildLock stores without a diff (the compared lock is known only after the pointer moved)
    current = generate_lock(400, seed=3, transfers_per_flow=1.2)
    previous = Lockfile(
        org=current.org,
        flows=[
            flow.model_copy(update={"published_version": "0.1"}) if index % 7 == 0 else flow
            for index, flow in enumerate(current.flows)
        ],
        objects=current.objects,
    )
    diff = diff_locks(previous, current)
    analysis = analyze(current)
    stored = ReportGraphData.model_validate_json(
        json.dumps(build_report_graph(build_graph(current), analysis, None).as_payload())
    )

    # When the report is rendered from that stored graph instead of building one
    options = {"title": "t", "generated_at": GENERATED_AT}
    from_stored = render_scan_report(current, analysis, diff, report_graph=stored, **options)
    from_lock = render_scan_report(current, analysis, diff, **options)

    # Then it is the same document, drift flags included
    assert diff.changed_flow_ids()
    assert any(row[4] & NodeFlag.CHANGED for row in embedded_payload(from_stored)["nodes"])
    assert from_stored == from_lock
