"""The scan core end to end over fakes: stable hashes, drift, incremental cost, races and
write failures that leave the previous lock current."""

from __future__ import annotations

import json

import pytest

from flowops.lock import parse_lock
from flowops.scan.assemble import assemble_lock
from flowops.scan.models import ObservedObject, PageFlows
from flowops.store.errors import ArtifactExistsError
from tests.unit.scan.fakes import FakeArtifacts, FakeAudit, FakeOrg, FakePointers, FakeSource, dependency
from tests.unit.scan.pipeline import ORG, finish_scan, plan_scan, run_scan


def tricky_org() -> FakeOrg:
    """Common module chain into a cycle, a self-loop, a diamond, deleted and absent references."""
    org = FakeOrg()
    org.add_flow("cm1", type="COMMONMODULE", version="2.0", consumes=[dependency("da1", "DATAACTION")])
    org.add_flow(
        "a",
        consumes=[
            dependency("cm1", "COMMONMODULEFLOW", version="2.0"),
            dependency("b", "INBOUNDCALLFLOW", version="1.0"),
        ],
    )
    org.add_flow(
        "b",
        consumes=[
            dependency("a", "INBOUNDCALLFLOW", version="1.0"),
            dependency("q-gone", "QUEUE", deleted=True),
        ],
    )
    org.add_flow("loop", consumes=[dependency("loop", "INBOUNDCALLFLOW", version="1.0")])
    org.add_flow(
        "top", consumes=[dependency("left", "INBOUNDCALLFLOW"), dependency("right", "INBOUNDCALLFLOW")]
    )
    org.add_flow("left", consumes=[dependency("base", "INBOUNDCALLFLOW")])
    org.add_flow("right", consumes=[dependency("base", "INBOUNDCALLFLOW")])
    org.add_flow("base", consumes=[dependency("ghost", "INBOUNDCALLFLOW")])
    return org


def report_of(artifacts: FakeArtifacts, key: str) -> dict[str, object]:
    return json.loads(artifacts.objects[key])


def test_first_scan_writes_a_verifiable_lock_and_makes_it_current() -> None:
    # Given a tricky org and no lock yet
    source, artifacts, pointers, audit = (
        FakeSource(tricky_org()),
        FakeArtifacts(),
        FakePointers(),
        FakeAudit(),
    )
    # When it is scanned
    outcome = run_scan(source, artifacts, pointers, scan_id="s1", audit=audit)
    # Then the stored lock's bytes hash to its key and parse back to the same sha
    lock = parse_lock(artifacts.objects[outcome.lock_key])
    assert outcome.lock_key == f"locks/{ORG}/{outcome.lock_sha256}.json"
    assert pointers.current[ORG].sha == outcome.lock_sha256
    assert outcome.pointer.advanced and outcome.flows == 8
    # and the analysis finds the 2-cycle, the self-loop, the deleted queue and the absent flow
    analysis = report_of(artifacts, f"scans/{ORG}/s1/analysis.json")
    assert sorted(cycle["members"] for cycle in analysis["cycles"]) == [["a", "b"], ["loop"]]
    assert analysis["missing"] == ["ghost", "q-gone"]
    ghost = lock.object("ghost")
    assert ghost is not None and ghost.missing
    # and the diamond is ordered dependencies first
    waves = analysis["waves"]
    position = {flow: index for index, wave in enumerate(waves) for flow in wave}
    assert position["base"] < position["left"] == position["right"] < position["top"]
    assert audit.events[0]["kind"] == "scan.completed"


def test_same_org_twice_gives_the_same_sha_and_leaves_the_pointer_alone() -> None:
    # Given an org scanned once
    source, artifacts, pointers = FakeSource(tricky_org()), FakeArtifacts(), FakePointers()
    first = run_scan(source, artifacts, pointers, scan_id="s1")
    # When it is scanned again, fully, with a different page size
    second = run_scan(source, artifacts, pointers, scan_id="s2", full=True, page_size=5)
    # Then the hash is identical, the pointer does not move and no drift is reported
    assert second.lock_sha256 == first.lock_sha256
    assert second.pointer.unchanged and not second.pointer.advanced
    assert second.drift.changed_flow_ids == []
    assert len(pointers.advances) == 1


def test_one_republished_flow_gives_a_diff_naming_it_and_an_incremental_scan_reads_only_it() -> None:
    # Given a large-ish org scanned fully once
    org = FakeOrg()
    for index in range(60):
        org.add_flow(f"f{index:02d}", consumes=[dependency(f"q{index % 7}", "QUEUE")])
    source, artifacts, pointers = FakeSource(org), FakeArtifacts(), FakePointers()
    full = run_scan(source, artifacts, pointers, scan_id="s1", page_size=10)
    # When one flow is republished and the org is scanned incrementally
    org.republish("f17", "2.0", consumes=[dependency("q1", "QUEUE"), dependency("da9", "DATAACTION")])
    incremental = run_scan(source, artifacts, pointers, scan_id="s2", page_size=10)
    # Then the drift names exactly that flow, and the scan read one flow instead of sixty
    assert incremental.drift.changed_flow_ids == ["f17"]
    # f17 consumed q3 before; now q1 and da9
    assert incremental.drift.flows_reversioned == 1
    assert (incremental.drift.edges_added, incremental.drift.edges_removed) == (2, 1)
    assert (incremental.read_flows, incremental.reused_flows) == (1, 59)
    assert incremental.api_calls * 5 < full.api_calls
    report = report_of(artifacts, incremental.report_key)
    assert [change["flow_id"] for change in report["drift"]["flows_reversioned"]] == ["f17"]


def test_concurrent_scans_cannot_lose_an_update() -> None:
    # Given a current lock and two scans that both plan against it
    org = tricky_org()
    source, artifacts, pointers = FakeSource(org), FakeArtifacts(), FakePointers()
    base = run_scan(source, artifacts, pointers, scan_id="s0")
    first_scan, first_plan = plan_scan(source, pointers, scan_id="s1")
    second_scan, second_plan = plan_scan(source, pointers, scan_id="s2")
    # When the org changes, the first scan finishes, then the org changes again and the second finishes
    org.republish("left", "2.0", consumes=[])
    winner = finish_scan(source, artifacts, pointers, first_scan, first_plan)
    org.republish("right", "2.0", consumes=[])
    loser = finish_scan(source, artifacts, pointers, second_scan, second_plan)
    # Then the winner's lock stays current, and the loser reports the race and drifts against the winner
    assert winner.pointer.advanced and winner.drift.changed_flow_ids == ["left"]
    assert loser.pointer.race and not loser.pointer.advanced
    assert pointers.current[ORG].sha == winner.lock_sha256 != base.lock_sha256
    assert loser.pointer.compared_with_sha == winner.lock_sha256
    assert loser.drift.changed_flow_ids == ["right"]
    # and the loser's lock is stored (immutable) though not current
    assert loser.lock_key in artifacts.objects


def test_failed_lock_write_leaves_the_previous_lock_current_and_intact() -> None:
    # Given an org with a current lock
    org = tricky_org()
    source, artifacts, pointers = FakeSource(org), FakeArtifacts(), FakePointers()
    first = run_scan(source, artifacts, pointers, scan_id="s1")
    stored = artifacts.objects[first.lock_key]
    # When the org changes and writing the new lock fails
    org.republish("loop", "2.0", consumes=[])
    artifacts.fail_writes_matching = "locks/"
    with pytest.raises(RuntimeError, match="injected write failure"):
        run_scan(source, artifacts, pointers, scan_id="s2")
    # Then the pointer still names the previous lock, whose bytes are unchanged
    assert pointers.current[ORG].sha == first.lock_sha256
    assert artifacts.objects[first.lock_key] == stored


def test_immutable_lock_key_refuses_different_content() -> None:
    # Given a stored lock
    source, artifacts, pointers = FakeSource(tricky_org()), FakeArtifacts(), FakePointers()
    first = run_scan(source, artifacts, pointers, scan_id="s1")
    # When something tries to overwrite its key with other bytes
    with pytest.raises(ArtifactExistsError):
        artifacts.put_immutable(first.lock_key, b"{}")


def test_assemble_lock_is_independent_of_page_order_and_marks_absent_flows_missing() -> None:
    # Given the same flows split across pages in two different orders
    flow_a = {
        "id": "a",
        "name": "A",
        "type": "INBOUNDCALL",
        "published_version": "1.0",
        "consumes": [{"id": "zz", "type": "INBOUNDCALLFLOW", "name": "", "version": None}],
    }
    flow_b = {"id": "b", "name": "B", "type": "COMMONMODULE", "published_version": "4.0", "consumes": []}
    zz = ObservedObject(id="zz", type="INBOUNDCALLFLOW")
    one = [
        PageFlows(page_number=1, flows=[flow_a], objects=[zz]),
        PageFlows(page_number=2, flows=[flow_b], objects=[]),
    ]
    two = [
        PageFlows(page_number=1, flows=[flow_b], objects=[]),
        PageFlows(page_number=2, flows=[flow_a], objects=[zz]),
    ]
    # When both are assembled
    first, second = assemble_lock(ORG, one), assemble_lock(ORG, two)
    # Then the locks are equal and the absent flow is missing
    assert first == second
    missing = first.object("zz")
    assert missing is not None and missing.missing and not missing.deleted


@pytest.mark.parametrize("asked", [False, True])
def test_heavy_graph_exports_are_stored_only_when_asked(asked: bool) -> None:
    # Given an org, scanned with or without `graph_exports`
    source, artifacts, pointers = FakeSource(tricky_org()), FakeArtifacts(), FakePointers()
    scan, plan = plan_scan(source, pointers, scan_id="s1", artifacts=artifacts)
    scan = scan.model_copy(update={"request": scan.request.model_copy(update={"graph_exports": asked})})
    # When it is scanned
    outcome = finish_scan(source, artifacts, pointers, scan, plan)
    # Then the DOT / Mermaid / node-link exports exist exactly when asked, and the report's
    # compact graph always does (the report step draws from it)
    exported = {key for key in artifacts.objects if key.rsplit("/", 1)[-1].startswith("graph.")}
    expected = {f"scans/{ORG}/s1/graph.{suffix}" for suffix in ("json", "dot", "mmd")} if asked else set()
    assert exported == expected
    assert f"scans/{ORG}/s1/report-graph.json.gz" in artifacts.objects
    report = report_of(artifacts, outcome.report_key)
    assert set(report["exports"].values()) == expected


def test_report_step_reads_no_lock_when_the_pointer_compared_with_the_planned_lock() -> None:
    # Given a current lock, and an org that then changes
    org = tricky_org()
    source, artifacts, pointers = FakeSource(org), FakeArtifacts(), FakePointers()
    run_scan(source, artifacts, pointers, scan_id="s0")
    org.republish("left", "2.0", consumes=[])
    # When it is scanned again and the pointer advances from the lock the scan planned against
    outcome = run_scan(source, artifacts, pointers, scan_id="s1")
    # Then the drift names the changed flow, from the diff BuildLock stored
    assert outcome.pointer.advanced and outcome.drift.changed_flow_ids == ["left"]
    # and the report step (from its first read, the stored report graph) parsed no lock
    report_reads = artifacts.reads[artifacts.reads.index(f"scans/{ORG}/s1/report-graph.json.gz") :]
    assert f"scans/{ORG}/s1/drift.json" in report_reads
    assert not [key for key in report_reads if key.startswith("locks/")]
    assert report_of(artifacts, outcome.report_key)["drift"]["flows_reversioned"]
