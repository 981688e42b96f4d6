"""What issue 11 must show: a scan of an org as hostile as a real one completes, with a lock that
names each unread flow and why, and the next scan reads them again.

The org has SPEECH / EMAILSEND / BUSINESSPROCESS flows and realistic platform vocabulary in every
dependency answer (generated), a flow the index never built (`indexed: false`), one in the build
status's `failedObjects`, one deleted between the listing and its read (`vanish`) and one in a
division the OAuth client cannot see (`forbidden`, the 403 a real org answers). The REAL
synthesized scan state machine runs against it in the local cloud.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flowops.local.simulator import generate_org
from flowops.lock import UnreadReason, parse_lock
from tests.e2e.scan_helpers import TIME_SCALE, ScanWorld, start_world

pytestmark = pytest.mark.slow


def _unread(world: ScanWorld, output: dict[str, Any]) -> dict[str, UnreadReason]:
    lock = parse_lock(world.artifact(output["lock_key"]))
    return {flow.id: flow.unread.reason for flow in lock.flows if flow.unread is not None}


def test_a_hostile_org_is_scanned_to_an_honest_lock_and_the_next_scan_reads_the_unread_again(
    start_simulator: Callable[..., Any], local_cloud_factory: Callable[..., Any]
) -> None:
    # Given a generated org with every hostile case planted in it
    org = generate_org(60, seed=5)
    speech = next(flow for flow in org.flows.values() if flow.flow_type == "SPEECH")
    assert {"EMAILSEND", "BUSINESSPROCESS"} <= {flow.flow_type for flow in org.flows.values()}
    callers = sorted(
        (
            flow
            for flow in org.flows.values()
            if flow.published_version_id and flow.object_type and flow.flow_type != "COMMONMODULE"
        ),
        key=lambda flow: flow.id,
    )
    unindexed, broken, vanishing, elsewhere = callers[:4]
    unindexed.indexed = False
    broken.index_error = "FLOW_PROCESSING_ERROR"
    world = start_world(
        start_simulator,
        local_cloud_factory,
        org=org,
        faults=f"vanish={vanishing.id},forbidden={elsewhere.id}",
        time_scale=TIME_SCALE,
    )

    # When the synthesized scan state machine runs
    first = world.scan("scan-hostile-1")

    # Then it completes, and its lock names each unread flow with the reason
    assert first.status == "SUCCEEDED", first.cause
    assert _unread(world, first.output) == {
        speech.id: UnreadReason.NO_DEPENDENCY_TYPE,
        unindexed.id: UnreadReason.NOT_INDEXED,
        broken.id: UnreadReason.INDEX_FAILED,
        vanishing.id: UnreadReason.NOT_INDEXED,
        elsewhere.id: UnreadReason.FORBIDDEN,
    }
    assert first.output["unread_flows"] == 5
    # and each is a problem of the report, and no platform vocabulary reached the lock
    problems = world.json_artifact(first.output["report_key"])["analysis"]["problems"]
    unread_problems = {p["object_ids"][0] for p in problems if p["code"] == "DEPENDENCIES_UNREAD"}
    assert unread_problems == set(_unread(world, first.output))
    lock = parse_lock(world.artifact(first.output["lock_key"]))
    consumed_types = {dependency.type for flow in lock.flows for dependency in flow.consumes}
    assert not consumed_types & {
        "FLOWACTION",
        "FLOWDATATYPE",
        "LANGUAGE",
        "TTSENGINE",
        "TTSVOICE",
        "STTENGINE",
    }
    assert "SYSTEMPROMPT" in consumed_types

    # When the platform can answer again (index rebuilt for the flow, division granted)
    unindexed.indexed = True
    broken.index_error = None
    world.sim.set_faults("")
    second = world.scan("scan-hostile-2")

    # Then the next scan reads exactly the flows it could not read (the vanished one is gone,
    # SPEECH stays unread: nothing to ask), and reuses every other flow
    assert second.status == "SUCCEEDED", second.cause
    assert _unread(world, second.output) == {speech.id: UnreadReason.NO_DEPENDENCY_TYPE}
    assert second.output["read_flows"] == 3
    assert second.output["flows"] == first.output["flows"] - 1
    second_lock = parse_lock(world.artifact(second.output["lock_key"]))
    assert second_lock.flow(vanishing.id) is None
    for flow in (unindexed, broken, elsewhere):
        locked = second_lock.flow(flow.id)
        assert locked is not None and locked.unread is None
        expected = {dependency.id for dependency in flow.versions[flow.published_version_id or ""].consumes}
        assert expected <= {dependency.id for dependency in locked.consumes}


def test_flows_created_and_deleted_while_the_org_is_paged_are_neither_skipped_nor_repeated(
    start_simulator: Callable[..., Any], local_cloud_factory: Callable[..., Any]
) -> None:
    # Given an org where someone deletes one flow and creates another after each of the next
    # 2 pages of the flows listing (offset paging then skips or repeats flows)
    world = start_world(
        start_simulator, local_cloud_factory, flows=40, seed=9, faults="churn=2,seed=4", time_scale=TIME_SCALE
    )
    # When the scan runs with small pages
    result = world.scan("scan-churn", page_size=10)
    # Then the listing took passes until two agreed, and the lock holds exactly the flows the org
    # has now, each once
    assert result.status == "SUCCEEDED", result.cause
    lock = parse_lock(world.artifact(result.output["lock_key"]))
    live = {flow.id for flow in world.sim.org.flows.values() if not flow.deleted}
    assert [flow.id for flow in lock.flows] == sorted(live)
    plan_pages = [
        name for name in result.states_entered() if name == "Read one page of flows and their dependencies"
    ]
    assert len(plan_pages) == 4
