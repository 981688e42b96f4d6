"""build_graph: nodes, attributes and edges from a lock."""

from __future__ import annotations

from flowops.graph import ProblemCode, analyze, build_graph
from flowops.lock import FailedObject, LockedDependency, LockedFlow, LockedObject, Lockfile


def _lock() -> Lockfile:
    return Lockfile(
        org="dev",
        flows=[
            LockedFlow(
                id="f1",
                name="Main",
                type="INBOUNDCALL",
                published_version="3.0",
                consumes=[
                    LockedDependency(
                        id="m1", type="COMMONMODULEFLOW", name="Auth (as reported)", version="2.0"
                    ),
                    LockedDependency(id="q1", type="QUEUE", name="Sales"),
                    LockedDependency(id="x1", type="DATAACTION", name="Lookup", version="4"),
                ],
            ),
            LockedFlow(id="m1", name="Auth", type="COMMONMODULE", published_version="2.0"),
        ],
        objects=[LockedObject(id="q1", type="QUEUE", name="Sales Queue", deleted=True)],
        failed_objects=[FailedObject(id="f1", version="3.0", error_code="TIMEOUT")],
    )


def test_nodes_carry_the_best_known_attributes() -> None:
    graph = build_graph(_lock())

    # The flow record wins over the consumer's report, the object record over the dependency
    assert graph.nodes["m1"] == {
        "type": "COMMONMODULEFLOW",
        "name": "Auth",
        "published_version": "2.0",
        "deleted": False,
        "missing": False,
        "is_flow": True,
        "scanned": True,
        "flow_type": "COMMONMODULE",
    }
    assert graph.nodes["q1"]["name"] == "Sales Queue" and graph.nodes["q1"]["deleted"] is True
    assert graph.nodes["q1"]["is_flow"] is False
    # A consumed id the lock has no record of is missing, named as its consumer reported it
    assert graph.nodes["x1"]["missing"] is True and graph.nodes["x1"]["name"] == "Lookup"


def test_edges_say_who_consumes_what_at_which_version() -> None:
    graph = build_graph(_lock())
    assert sorted(graph.edges(data="version")) == [("f1", "m1", "2.0"), ("f1", "q1", None), ("f1", "x1", "4")]
    assert graph.graph["org"] == "dev"


def test_failed_index_objects_become_warnings() -> None:
    report = analyze(_lock())
    failed = [p for p in report.problems if p.code is ProblemCode.DEPENDENCY_INDEX_FAILED]
    assert [(p.object_ids, p.severity.value) for p in failed] == [(["f1"], "warning")]
    assert "TIMEOUT" in failed[0].message and "version 3.0" in failed[0].message


def test_empty_lock() -> None:
    report = analyze(Lockfile(org="empty"))
    assert (report.counts.flows, report.counts.nodes, report.counts.edges) == (0, 0, 0)
    assert report.waves == [] and report.cycles == [] and report.problems == [] and report.missing == []
