"""Dependency tracking: build status, consumed/consuming resources, partial answers while building."""

from __future__ import annotations

import requests

from flowops.local.simulator import SimulatorServer
from tests.integration.simulator.conftest import get_json, poll

BASE = "/api/v2/architect/dependencytracking"


def _consumer(sim: SimulatorServer):  # type: ignore[no-untyped-def]
    return max(
        (f for f in sim.org.flows.values() if f.published_version_id),
        key=lambda f: len(f.versions[f.published_version_id or ""].consumes),
    )


def test_consumed_resources_match_the_published_version(
    simulator: SimulatorServer, sim_session: requests.Session
) -> None:
    # Given the flow that consumes the most
    flow = _consumer(simulator)
    version = flow.versions[flow.published_version_id or ""]
    # When its consumed resources are listed
    body = get_json(
        sim_session, f"{simulator.url}{BASE}/consumedresources",
        id=flow.id, objectType=flow.object_type, version=version.version_id, pageSize=100,
    )  # fmt: skip
    # Then they are exactly the version's dependencies, with names, types and versions, beside the
    # platform vocabulary every flow lists (as a real org answers)
    vocabulary = {"FLOWACTION", "FLOWDATATYPE", "LANGUAGE", "TTSENGINE", "TTSVOICE", "STTENGINE"}
    real = {
        (d["id"], d["type"])
        for d in body["entities"]
        if d["type"] not in vocabulary and not (d["type"] == "SYSTEMPROMPT" and d["id"] == d["name"])
    }
    assert real == {(d.id, d.object_type) for d in version.consumes}
    assert {d["type"] for d in body["entities"]} >= {"FLOWACTION", "FLOWDATATYPE", "LANGUAGE"}
    assert all({"id", "name", "type", "deleted", "updated", "selfUri"} <= set(d) for d in body["entities"])


def test_consuming_resources_list_who_uses_an_object(
    simulator: SimulatorServer, sim_session: requests.Session
) -> None:
    # Given a queue used by at least one published flow
    flow = _consumer(simulator)
    queue = next(
        d for d in flow.versions[flow.published_version_id or ""].consumes if d.object_type == "QUEUE"
    )
    # When the consumers of that queue are listed (published versions)
    body = get_json(
        sim_session,
        f"{simulator.url}{BASE}/consumingresources",
        id=queue.id,
        objectType="QUEUE",
        flowFilter="published",
    )
    # Then the flow is among them
    assert flow.id in {d["id"] for d in body["entities"]}


def test_consuming_resources_refuse_filters_the_platform_does_not_know(
    simulator: SimulatorServer, sim_session: requests.Session
) -> None:
    # Given a queue used by a published flow
    flow = _consumer(simulator)
    queue = next(
        d for d in flow.versions[flow.published_version_id or ""].consumes if d.object_type == "QUEUE"
    )
    url = f"{simulator.url}{BASE}/consumingresources"
    base = {"id": queue.id, "objectType": "QUEUE"}
    # When the consumers are asked with an unversioned resourceType, a junk flowFilter or objectType
    unversioned = sim_session.get(url, params={**base, "resourceType": "QUEUE"}, timeout=10)
    junk_filter = sim_session.get(url, params={**base, "flowFilter": "latest"}, timeout=10)
    junk_type = sim_session.get(url, params={**base, "objectType": "QUEUES"}, timeout=10)
    # Then each is a 400 naming its parameter (an ignored filter would silently widen the answer),
    # while a versioned resourceType still filters
    assert [r.status_code for r in (unversioned, junk_filter, junk_type)] == [400, 400, 400]
    assert "resourceType" in unversioned.text
    assert "flowFilter" in junk_filter.text
    assert "objectType" in junk_type.text
    filtered = get_json(sim_session, url, **base, resourceType=flow.object_type)
    assert {d["type"] for d in filtered["entities"]} == {flow.object_type}


def test_rebuild_makes_answers_partial_until_operational(
    simulator: SimulatorServer, sim_session: requests.Session
) -> None:
    # Given an operational index and a complete answer
    url = f"{simulator.url}{BASE}"
    flows = [f for f in simulator.org.flows.values() if f.published_version_id and f.object_type]

    def consumed_count() -> int:
        return sum(
            get_json(
                sim_session,
                f"{url}/consumedresources",
                id=f.id,
                objectType=f.object_type,
                version=f.published_version_id,
                pageSize=100,
            )["total"]
            for f in flows
        )

    assert get_json(sim_session, f"{url}/build")["status"] == "OPERATIONAL"
    complete = consumed_count()
    # When a rebuild starts (30 simulated seconds = 0.5 s at x60)
    assert sim_session.post(f"{url}/build", timeout=10).status_code == 202
    building = get_json(sim_session, f"{url}/build")
    partial = consumed_count()
    # Then the status says so and some dependencies are missing, until it is OPERATIONAL again
    assert building["status"] == "BUILDINPROGRESS" and "dateCompleted" not in building
    assert 0 < partial < complete
    done = poll(
        lambda: get_json(sim_session, f"{url}/build"), lambda b: b["status"] == "OPERATIONAL", timeout=5
    )
    assert done["status"] == "OPERATIONAL"
    assert consumed_count() == complete


def test_admin_can_set_notbuilt_and_types_are_listed(
    simulator: SimulatorServer, sim_session: requests.Session
) -> None:
    # When the admin API marks the index NOTBUILT
    requests.post(f"{simulator.url}/__sim/index", json={"status": "NOTBUILT"}, timeout=10).raise_for_status()
    # Then the build endpoint reports it, and the types listing names the flow and object types
    assert get_json(sim_session, f"{simulator.url}{BASE}/build")["status"] == "NOTBUILT"
    types = {t["id"] for t in get_json(sim_session, f"{simulator.url}{BASE}/types", pageSize=200)["entities"]}
    assert {"INBOUNDCALLFLOW", "COMMONMODULEFLOW", "QUEUE", "DATAACTION", "WORKFLOW"} <= types


def test_object_lookup_with_consumed_resources(
    simulator: SimulatorServer, sim_session: requests.Session
) -> None:
    flow = _consumer(simulator)
    body = get_json(
        sim_session,
        f"{simulator.url}{BASE}/object",
        id=flow.id,
        objectType=flow.object_type,
        consumedResources="true",
    )
    assert body["id"] == flow.id and body["type"] == flow.object_type
    assert len(body["consumedResources"]) == len(flow.versions[flow.published_version_id or ""].consumes)
