"""The scan report in a real headless Chromium, loaded from disk.

Each test writes a report for a hand-made org, opens it as ``file://``, drives it like a person
(type in the search box, click a result or a node, drag, wheel) and checks what is highlighted
against ``flowops.graph``. A screenshot of each interaction is kept in the test's tmp dir.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.graph import generate_lock
from flowops.graph import analyze, build_graph, impact
from flowops.lock import LockedDependency, LockedFlow, Lockfile, diff_locks
from tests.browser.conftest import RecordedPage
from tests.unit.lock.org_files import load_org_lock
from tests.unit.report.reports import report_for

pytestmark = pytest.mark.browser


def _open(report_page: RecordedPage, html: str, directory: Path) -> Any:
    path = directory / "report.html"
    path.write_text(html, encoding="utf-8")
    page = report_page.page
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready=true]", timeout=10_000)
    return page


def _ids(page: Any, selector: str) -> list[str]:
    return list(page.eval_on_selector_all(selector, "elements => elements.map(e => e.dataset.nodeId)"))


def _search_and_pick(page: Any, text: str, node_id: str) -> None:
    page.fill("#search", text)
    page.click(f'#search-results button[data-node-id="{node_id}"]')
    page.wait_for_selector(f'#graph[data-selected="{node_id}"]', timeout=5_000)


@pytest.mark.parametrize(
    ("org", "search_text", "node_id"),
    [
        ("nested_cycles", "Billing", "flow-billing"),
        ("common_module_cycle", "module m2", "module-m2"),
        ("diamond", "Bottom", "flow-bottom"),
    ],
)
def test_search_and_click_highlights_exactly_the_impact_set_and_the_cycle(
    report_page: RecordedPage, tmp_path: Path, org: str, search_text: str, node_id: str
) -> None:
    # Given the report of a tricky hand-made org, opened from disk
    lock = load_org_lock(org)
    page = _open(report_page, report_for(lock, title=f"{org} report"), tmp_path)

    # When a flow is found by typing part of its name and its search result is clicked
    _search_and_pick(page, search_text, node_id)

    # Then the impact list is flowops.graph.impact for that node, in the same order
    expected = [entry.flow_id for entry in impact(build_graph(lock), node_id)]
    assert expected, "the fixture node should have consumers"
    assert _ids(page, "#impact-list li") == expected
    assert page.inner_text("#impact-count") == str(len(expected))
    # And exactly those nodes are highlighted in the drawing, the node itself is "selected"
    assert sorted(_ids(page, "#graph .node.highlighted")) == sorted(expected)
    assert _ids(page, "#graph .node.selected") == [node_id]
    # And its cycle (if any) is listed and marked
    cycle = next((c.members for c in analyze(lock).cycles if node_id in c.members), [])
    assert sorted(_ids(page, "#cycle-list li")) == cycle
    assert sorted(_ids(page, "#graph .node.cycle-member")) == sorted(set(cycle) - {node_id})
    # And nothing was fetched from anywhere but the file itself, without script errors
    assert report_page.network_requests == []
    assert report_page.errors == []
    screenshot = tmp_path / f"{org}-{node_id}.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000


def test_clicking_a_node_in_the_drawing_selects_it_and_clear_resets(
    report_page: RecordedPage, tmp_path: Path
) -> None:
    # Given the self-loop org's report
    lock = load_org_lock("self_loop")
    page = _open(report_page, report_for(lock), tmp_path)

    # When the flow that transfers to itself is clicked in the graph
    page.click('#graph .node[data-node-id="flow-retry"] circle')

    # Then it is selected, its consumer is its impact set (not itself), and it is its own cycle
    assert _ids(page, "#graph .node.selected") == ["flow-retry"]
    assert _ids(page, "#impact-list li") == [e.flow_id for e in impact(build_graph(lock), "flow-retry")]
    assert "flow-retry" not in _ids(page, "#impact-list li")
    assert _ids(page, "#cycle-list li") == ["flow-retry"]

    # When the selection is cleared
    page.click("#clear-selection")

    # Then nothing is highlighted or dimmed any more
    assert _ids(page, "#graph .node.highlighted, #graph .node.dimmed, #graph .node.selected") == []
    assert _ids(page, "#impact-list li") == []


def test_pan_and_zoom_change_the_view(report_page: RecordedPage, tmp_path: Path) -> None:
    # Given a report on screen
    page = _open(report_page, report_for(load_org_lock("nested_cycles")), tmp_path)
    before_zoom = float(page.get_attribute("#graph", "data-zoom"))
    before_transform = page.get_attribute("#viewport", "transform")

    # When the user zooms in with the button and with the wheel
    page.click("#zoom-in")
    box = page.locator("#graph").bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 40)
    page.mouse.wheel(0, -300)
    page.wait_for_function(f"Number(document.getElementById('graph').dataset.zoom) > {before_zoom * 1.25}")

    # And drags the background
    zoomed_transform = page.get_attribute("#viewport", "transform")
    page.mouse.down()
    page.mouse.move(box["x"] + 160, box["y"] + 120, steps=5)
    page.mouse.up()

    # Then the drawing is scaled, then moved
    assert zoomed_transform != before_transform
    assert page.get_attribute("#viewport", "transform") != zoomed_transform
    assert report_page.errors == []


def test_hostile_names_stay_text_in_the_browser(report_page: RecordedPage, tmp_path: Path) -> None:
    # Given a flow whose name is markup that would run script if injected
    payload = '<img src=x onerror="document.body.dataset.pwned=1">'
    lock = Lockfile(
        org="evil",
        flows=[
            LockedFlow(id="flow-evil", name=payload, type="INBOUNDCALL", published_version="1.0"),
            LockedFlow(
                id="flow-front",
                name="</script><script>document.body.dataset.pwned=2</script>",
                type="INBOUNDCALL",
                published_version="1.0",
                consumes=[LockedDependency(id="flow-evil", type="INBOUNDCALLFLOW")],
            ),
        ],
    )
    page = _open(report_page, report_for(lock), tmp_path)

    # When it is searched for and selected
    _search_and_pick(page, "<img", "flow-evil")

    # Then the name shows as text, no element was created from it, and no script ran
    assert page.get_attribute("body", "data-pwned") is None
    assert page.locator("img").count() == 0
    assert payload in page.inner_text("#selection-details")
    assert _ids(page, "#impact-list li") == ["flow-front"]
    assert report_page.network_requests == []


def test_a_large_org_draws_a_bounded_neighbourhood_of_the_searched_flow(
    report_page: RecordedPage, tmp_path: Path
) -> None:
    # Given a 2,000-flow org (about 5,000 nodes), more than the report draws at once
    lock = generate_lock(5000, seed=3, transfers_per_flow=0.4)
    graph = build_graph(lock)
    page = _open(report_page, report_for(lock, draw_limit=300), tmp_path)

    # Then the first drawing is the grouped overview: group boxes, no single node yet
    assert int(page.get_attribute("#graph", "data-drawn")) == 0
    assert int(page.get_attribute("#graph", "data-groups")) > 1

    # When a module with many consumers is searched and picked
    module_id = max(
        (flow.id for flow in lock.flows if flow.type == "COMMONMODULE"), key=lambda f: graph.in_degree(f)
    )
    name = graph.nodes[module_id]["name"]
    _search_and_pick(page, name, module_id)

    # Then the impact list is complete while the drawing stays bounded and centred on the selection
    expected = [entry.flow_id for entry in impact(graph, module_id)]
    assert _ids(page, "#impact-list li") == expected
    drawn = int(page.get_attribute("#graph", "data-drawn"))
    assert drawn <= 300
    drawn_ids = set(_ids(page, "#graph .node"))
    assert len(drawn_ids) == drawn
    assert {module_id, *graph.successors(module_id)} <= drawn_ids
    highlighted = set(_ids(page, "#graph .node.highlighted"))
    assert highlighted == set(expected) & drawn_ids
    assert len(highlighted) >= min(len(expected), 100)
    page.screenshot(path=str(tmp_path / "large-org.png"))
    assert report_page.errors == [] and report_page.network_requests == []


def test_the_search_box_never_keeps_a_stale_query(report_page: RecordedPage, tmp_path: Path) -> None:
    # Given the self-loop org's report, and a query typed that matches some flows
    lock = load_org_lock("self_loop")
    page = _open(report_page, report_for(lock), tmp_path)
    page.fill("#search", "retry")
    assert page.locator("#search-results li").count() >= 1
    # When a node is clicked in the drawing instead of a result
    page.click('#graph .node[data-node-id="flow-retry"] circle')
    # Then the box, its results and its match marks are gone: they described no selection
    assert page.input_value("#search") == ""
    assert page.locator("#search-results li").count() == 0
    assert _ids(page, "#graph .node.match") == []
    # And clearing the selection after a new query leaves the box empty too
    page.fill("#search", "retry")
    page.click("#clear-selection")
    assert page.input_value("#search") == ""
    assert report_page.errors == []


def test_an_impact_list_entry_selects_that_flow(report_page: RecordedPage, tmp_path: Path) -> None:
    # Given a report where a flow with consumers is selected
    lock = load_org_lock("diamond")
    graph = build_graph(lock)
    node = next(n for n in sorted(graph.nodes) if impact(graph, n))
    page = _open(report_page, report_for(lock), tmp_path)
    page.click(f'#graph .node[data-node-id="{node}"] circle')
    consumer = _ids(page, "#impact-list li")[0]
    # When the first entry of its impact list is clicked
    page.click(f'#impact-list li[data-node-id="{consumer}"] button')
    # Then that flow is selected, with its own impact set
    assert _ids(page, "#graph .node.selected") == [consumer]
    assert _ids(page, "#impact-list li") == [e.flow_id for e in impact(graph, consumer)]
    assert report_page.errors == []


def _visible_rows(page: Any, table: str) -> list[str]:
    return [
        text.strip()
        for text in page.eval_on_selector_all(
            f"#{table} tbody tr", "rows => rows.filter(r => !r.hidden).map(r => r.cells[0].textContent)"
        )
    ]


def test_tables_sort_by_a_header_and_filter_by_text(report_page: RecordedPage, tmp_path: Path) -> None:
    # Given a report with several waves
    lock = load_org_lock("nested_cycles")
    waves = analyze(lock).waves
    assert len(waves) >= 2
    page = _open(report_page, report_for(lock), tmp_path)
    # When the "wave" header is clicked twice
    page.click("#waves-table th:first-child")
    ascending = _visible_rows(page, "waves-table")
    page.click("#waves-table th:first-child")
    descending = _visible_rows(page, "waves-table")
    # Then the rows are in wave order, then reversed (numbers compared as numbers)
    assert ascending == [str(n) for n in range(1, len(waves) + 1)]
    assert descending == list(reversed(ascending))
    # When the filter box above the table gets the name of a flow of the last wave
    name = next(flow.name for flow in lock.flows if flow.id == waves[-1][0])
    page.fill('input.table-filter[data-table="waves-table"]', name)
    # Then only the rows holding it stay visible
    assert _visible_rows(page, "waves-table") == [str(len(waves))]
    assert report_page.errors == []


def _visible_group_labels(page: Any) -> list[str]:
    """Group labels that are actually on screen inside the drawing (not just in the DOM)."""
    script = """svg => {
        const frame = svg.getBoundingClientRect();
        return Array.from(svg.querySelectorAll('.group-node .group-label')).filter(label => {
            const box = label.getBoundingClientRect();
            return box.width > 0 && box.left >= frame.left && box.right <= frame.right
                && box.top >= frame.top && box.bottom <= frame.bottom;
        }).map(label => label.textContent.slice(2));
    }"""
    return list(page.eval_on_selector("#graph", script))


def test_a_2000_flow_overview_shows_groups_that_expand_and_a_minimap(
    report_page: RecordedPage, tmp_path: Path
) -> None:
    # Given the report of a 2,000-flow org (about 5,000 nodes)
    lock = generate_lock(5000, seed=3, transfers_per_flow=0.4)
    analysis = analyze(lock)
    page = _open(report_page, report_for(lock), tmp_path)

    # Then the overview shows one readable box per wave (plus the non-flow objects), all on screen
    labels = _visible_group_labels(page)
    assert [f"wave {n}" for n in range(1, len(analysis.waves) + 1)] == [
        label for label in labels if label.startswith("wave ")
    ]
    assert len(labels) == len(analysis.waves) + 1
    assert float(page.get_attribute("#graph", "data-zoom")) >= 0.5  # fitted, and still legible
    wave_one = page.locator('#graph .group-node[data-group="wave 1"] .group-counts').text_content() or ""
    assert wave_one.startswith(f"{len(analysis.waves[0])} flows")
    assert page.is_visible("#minimap")
    page.screenshot(path=str(tmp_path / "grouped-by-wave.png"))

    # When the last wave's box is clicked
    last = f"wave {len(analysis.waves)}"
    page.click(f'#graph .group-node[data-group="{last}"] rect')
    # Then its flows are drawn one by one, and clicking again collapses it
    assert sorted(_ids(page, "#graph .node")) == sorted(analysis.waves[-1])
    assert page.get_attribute(f'#graph .group-node[data-group="{last}"]', "aria-expanded") == "true"
    page.click(f'#graph .group-node[data-group="{last}"] rect')
    assert _ids(page, "#graph .node") == []

    # When the grouping is switched to type
    page.select_option("#group-by", "type")
    # Then each node type is one group on screen
    graph = build_graph(lock)
    types = {str(graph.nodes[node].get("type")) for node in graph.nodes}
    assert set(_visible_group_labels(page)) == types

    # When it is switched to common module
    page.select_option("#group-by", "module")
    # Then groups are named after modules, at most 60 of them
    module_labels = page.eval_on_selector_all(
        "#graph .group-node", "boxes => boxes.map(b => b.dataset.group)"
    )
    assert any(label.startswith("module ") for label in module_labels)
    assert len(module_labels) <= 60
    page.screenshot(path=str(tmp_path / "grouped-by-module.png"))

    # When a minimap spot is clicked the view moves there
    before = page.get_attribute("#viewport", "transform")
    box = page.locator("#minimap").bounding_box()
    page.mouse.click(box["x"] + 10, box["y"] + 10)
    assert page.get_attribute("#viewport", "transform") != before

    # And the problems table of this org sorts by severity and filters by code
    page.click("#problems-table th:first-child")
    rows = _visible_rows(page, "problems-table")
    assert rows == sorted(rows)
    assert analysis.problems, "the generated org should have problems"
    code = analysis.problems[-1].code.value
    page.fill('input.table-filter[data-table="problems-table"]', code)
    filtered = page.eval_on_selector_all(
        "#problems-table tbody tr", "rows => rows.filter(r => !r.hidden).map(r => r.textContent)"
    )
    assert len(filtered) == sum(1 for problem in analysis.problems if problem.code.value == code)
    assert all(code in row for row in filtered)
    assert report_page.errors == [] and report_page.network_requests == []


def test_a_2000_flow_report_opens_on_drift_that_names_who_published(
    report_page: RecordedPage, tmp_path: Path
) -> None:
    # Given a 2,000-flow org where three flows were republished by named users
    before = generate_lock(5000, seed=3, transfers_per_flow=0.4)
    when = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
    authors = {0: "Ana (u-1)", 1: "Bo (u-2)", 2: "Chen (u-3)"}
    after = before.model_copy(
        update={
            "flows": [
                flow.model_copy(
                    update={
                        "published_version": "99.0",
                        "published_by": authors[index],
                        "date_published": when + timedelta(minutes=index),
                    }
                )
                if index in authors
                else flow
                for index, flow in enumerate(before.flows)
            ]
        }
    )
    # When its report is opened
    page = _open(report_page, report_for(after, diff_locks(before, after)), tmp_path)
    # Then the drift comes first after the summary, naming the latest publisher
    sections = page.eval_on_selector_all("section[id]", "all => all.map(s => s.id)")
    assert sections[sections.index("drift") - 1] == "summary" and sections[0] == "summary"
    latest = page.locator("#drift-latest")
    assert latest.is_visible()
    assert f"{after.flows[2].name} published by Chen (u-3) at 2026-11-30 09:17 UTC" in latest.inner_text()
    # And each republished flow's row says who and when
    rows = page.eval_on_selector_all(
        "#drift-table tbody tr", "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))"
    )
    republished = {row[1]: row[3] for row in rows if row[0] == "flow republished"}
    assert republished == {
        after.flows[index].name: f"{author} · 2026-11-30 09:{15 + index} UTC"
        for index, author in authors.items()
    }
    page.screenshot(path=str(tmp_path / "drift.png"))
    assert report_page.errors == [] and report_page.network_requests == []
