"""Hand-made org shapes (tests/unit/fixtures/orgs): cycles, waves, impact, problems, missing ids."""

from __future__ import annotations

import pytest

from flowops.graph import ProblemCode, Severity, UnknownObjectError, analyze, build_graph, impact
from tests.unit.graph.checks import (
    assert_cycles_match_brute_force,
    assert_impact_matches_brute_force,
    assert_waves_match_brute_force,
)
from tests.unit.lock.org_files import ORGS_DIR, load_org_lock

ALL_FIXTURES = sorted(path.stem for path in ORGS_DIR.glob("*.json"))


@pytest.mark.parametrize("fixture", ALL_FIXTURES)
def test_every_fixture_agrees_with_brute_force(fixture: str) -> None:
    graph = build_graph(load_org_lock(fixture))
    assert_cycles_match_brute_force(graph)
    assert_waves_match_brute_force(graph)
    assert_impact_matches_brute_force(graph)


def test_nested_cycles_form_one_component_and_share_a_wave() -> None:
    # Given main→billing→support→main with billing⇄callback inside, and sales-a⇄sales-b apart
    report = analyze(load_org_lock("nested_cycles"))

    # Then there are two cyclic components, each with a real shortest witness
    assert report.cycle_member_lists == [
        ["flow-billing", "flow-callback", "flow-main", "flow-support"],
        ["flow-sales-a", "flow-sales-b"],
    ]
    assert report.cycles[0].witness == ["flow-billing", "flow-callback", "flow-billing"]
    assert report.cycles[1].witness == ["flow-sales-a", "flow-sales-b", "flow-sales-a"]
    # And all cycle members deploy together before the entry flow that consumes them
    assert report.waves == [
        ["flow-billing", "flow-callback", "flow-main", "flow-sales-a", "flow-sales-b", "flow-support"],
        ["flow-entry"],
    ]
    assert "flow-entry" not in report.flows_in_cycles and len(report.flows_in_cycles) == 6


def test_self_loop_is_a_cycle_of_one() -> None:
    report = analyze(load_org_lock("self_loop"))
    assert [(c.members, c.witness, c.self_loops) for c in report.cycles] == [
        (["flow-retry"], ["flow-retry", "flow-retry"], ["flow-retry"])
    ]
    assert report.cycles[0].is_self_loop
    assert report.waves == [["flow-retry"], ["flow-front"]]
    assert report.flows_in_cycles == ["flow-retry"]


def test_cycle_through_a_common_module_chain() -> None:
    # Given A uses M1, M1 transfers to B, B uses M2, M2 transfers to A
    report = analyze(load_org_lock("common_module_cycle"))

    # Then the four flows form one component whose witness walks the whole chain
    assert report.cycles[0].members == ["flow-a", "flow-b", "module-m1", "module-m2"]
    assert report.cycles[0].witness == ["flow-a", "module-m1", "flow-b", "module-m2", "flow-a"]
    assert report.waves == [["flow-a", "flow-b", "module-m1", "module-m2"], ["flow-after"]]


def test_diamond_orders_dependencies_first_and_objects_do_not_order_flows() -> None:
    report = analyze(load_org_lock("diamond"))
    # flow-side shares only a data action with flow-bottom: no ordering between them
    assert report.waves == [["flow-bottom", "flow-side"], ["module-left", "module-right"], ["flow-top"]]
    assert report.cycles == [] and report.problems == []


def test_impact_lists_every_transitive_consumer_with_its_shortest_path() -> None:
    graph = build_graph(load_org_lock("diamond"))

    entries = impact(graph, "action-crm")

    assert [(entry.flow_id, entry.path) for entry in entries] == [
        ("flow-bottom", ["flow-bottom", "action-crm"]),
        ("flow-side", ["flow-side", "action-crm"]),
        ("module-left", ["module-left", "flow-bottom", "action-crm"]),
        ("module-right", ["module-right", "flow-bottom", "action-crm"]),
        ("flow-top", ["flow-top", "module-left", "flow-bottom", "action-crm"]),
    ]
    assert entries[0].name == "Bottom"


def test_impact_of_a_flow_on_a_cycle_does_not_list_the_flow_itself() -> None:
    graph = build_graph(load_org_lock("self_loop"))
    assert [entry.flow_id for entry in impact(graph, "flow-retry")] == ["flow-front"]


def test_impact_of_an_unknown_object_is_a_clear_error() -> None:
    graph = build_graph(load_org_lock("diamond"))
    with pytest.raises(UnknownObjectError, match="'no-such-id' is not in the lock"):
        impact(graph, "no-such-id")


def test_deleted_references_are_errors_naming_every_consumer() -> None:
    report = analyze(load_org_lock("deleted_references"))

    assert [(p.code, p.object_ids, p.consumer_ids) for p in report.problems] == [
        (ProblemCode.DELETED_REFERENCE, ["action-old"], ["flow-main"]),
        (ProblemCode.DELETED_REFERENCE, ["queue-old"], ["flow-main", "flow-other"]),
    ]
    assert all(p.severity is Severity.ERROR and p.hint for p in report.problems)
    # The deleted prompt nobody uses is not "missing": missing lists referenced ids only
    assert report.missing == ["action-old", "queue-old"]
    # Deleted objects are not orphans either (the deleted action is consumed anyway)
    assert ProblemCode.ORPHAN_DATA_ACTION not in {p.code for p in report.problems}


def test_reference_to_an_id_the_org_does_not_have() -> None:
    report = analyze(load_org_lock("missing_reference"))
    assert report.missing == ["queue-ghost"]
    assert [(p.code, p.object_ids) for p in report.problems] == [
        (ProblemCode.MISSING_REFERENCE, ["queue-ghost"])
    ]
    assert build_graph(load_org_lock("missing_reference")).nodes["queue-ghost"]["missing"] is True


def test_consumed_flow_that_was_never_published() -> None:
    report = analyze(load_org_lock("unpublished_consumed"))
    assert [(p.code, p.object_ids, p.consumer_ids) for p in report.problems] == [
        (ProblemCode.UNPUBLISHED_FLOW_CONSUMED, ["flow-draft"], ["flow-main"])
    ]
    # Publishing it first is possible: it is in an earlier wave
    assert report.waves == [["flow-draft"], ["flow-main"]]


def test_stale_snapshots_compare_versions_numerically() -> None:
    # Given consumers of module 10.0 at 2.0 (older, though "2.0" > "10.0" as text) and at 10.0
    report = analyze(load_org_lock("stale_snapshots"))

    stale = [(p.object_ids, p.consumer_ids) for p in report.problems if p.code is ProblemCode.STALE_SNAPSHOT]
    assert stale == [(["action-score"], ["flow-old"]), (["module-auth"], ["flow-old"])]
    module_problem = next(p for p in report.problems if p.object_ids == ["module-auth"])
    assert "2.0" in module_problem.message and "10.0" in module_problem.message
    assert "Republish 'Old Consumer'" in module_problem.hint


def test_orphan_modules_and_data_actions() -> None:
    report = analyze(load_org_lock("orphans"))
    assert [(p.code, p.object_ids, p.severity) for p in report.problems] == [
        (ProblemCode.ORPHAN_COMMON_MODULE, ["module-unused"], Severity.INFO),
        (ProblemCode.ORPHAN_DATA_ACTION, ["action-unused"], Severity.INFO),
    ]


def test_report_counts_and_hash() -> None:
    lock = load_org_lock("nested_cycles")
    report = analyze(lock)
    assert (report.counts.flows, report.counts.nodes, report.counts.edges) == (7, 8, 11)
    assert report.org == "fixture"
    assert report == analyze(lock, build_graph(lock))
