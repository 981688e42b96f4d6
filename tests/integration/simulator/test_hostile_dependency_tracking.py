"""The simulator is as hostile as a real org for the scan: required version, no SPEECHFLOW, 404s for
versions the index does not know, failedObjects, flows vanishing mid-scan, vocabulary, churn."""

from __future__ import annotations

from typing import Any

import requests

from flowops.local.simulator import SimulatorServer
from flowops.local.simulator.orgfile import parse_org_document
from tests.helpers.simulator import StartSimulator, bearer_session

BASE = "/api/v2/architect/dependencytracking"
NOT_IN_INDEX = "Could not find the dependency object with specified ID and version"

ORG_FILE: dict[str, Any] = {
    "objects": [{"id": "q-1", "name": "Support", "type": "QUEUE"}],
    "flows": [
        {"id": "call", "name": "Main", "type": "INBOUNDCALL", "consumes": [{"id": "q-1", "type": "QUEUE"}]},
        {"id": "speech", "name": "Speech", "type": "SPEECH"},
        {"id": "mail", "name": "Mailer", "type": "EMAILSEND"},
        {"id": "process", "name": "Process", "type": "BUSINESSPROCESS"},
        {"id": "unindexed", "name": "New", "type": "INBOUNDCALL", "indexed": False},
        {"id": "broken", "name": "Broken", "type": "INBOUNDCALL", "indexError": "FLOW_PROCESSING_ERROR"},
    ],
}


def _consumed(sim: SimulatorServer, session: requests.Session, **params: Any) -> requests.Response:
    return session.get(f"{sim.url}{BASE}/consumedresources", params=params, timeout=10)


def _start(
    start_simulator: StartSimulator, faults: str | None = None
) -> tuple[SimulatorServer, requests.Session]:
    sim = start_simulator(parse_org_document(ORG_FILE), faults=faults)
    return sim, bearer_session(sim)


def test_version_is_required_and_speech_has_no_object_type(start_simulator: StartSimulator) -> None:
    sim, session = _start(start_simulator)
    # Given a call flow: without version the platform answers 400, as the SDK's required parameter says
    assert _consumed(sim, session, id="call", objectType="INBOUNDCALLFLOW").status_code == 400
    # and there is no SPEECHFLOW object type to ask with
    answer = _consumed(sim, session, id="speech", objectType="SPEECHFLOW", version="1.0")
    assert answer.status_code == 400 and "objectType" in answer.json()["message"]
    # while EMAILSEND and BUSINESSPROCESS flows have real object types
    for flow_id, object_type in (("mail", "EMAILSENDFLOW"), ("process", "BUSINESSPROCESSFLOW")):
        assert _consumed(sim, session, id=flow_id, objectType=object_type, version="1.0").status_code == 200


def test_unindexed_and_failed_flows_answer_the_real_404_and_failed_objects_name_them(
    start_simulator: StartSimulator,
) -> None:
    sim, session = _start(start_simulator)
    for flow_id in ("unindexed", "broken"):
        answer = _consumed(sim, session, id=flow_id, objectType="INBOUNDCALLFLOW", version="1.0")
        assert answer.status_code == 404 and answer.json()["message"] == NOT_IN_INDEX
    # a version that does not exist is the same 404
    missing = _consumed(sim, session, id="call", objectType="INBOUNDCALLFLOW", version="9.0")
    assert missing.status_code == 404
    build = session.get(f"{sim.url}{BASE}/build", timeout=10).json()
    assert [(item["id"], item["errorCode"]) for item in build["failedObjects"]] == [
        ("broken", "FLOW_PROCESSING_ERROR")
    ]


def test_a_vanishing_flow_is_listed_then_404s(start_simulator: StartSimulator) -> None:
    sim, session = _start(start_simulator, faults="vanish=call")
    listed = session.get(f"{sim.url}/api/v2/flows", params={"pageSize": 50}, timeout=10).json()
    assert "call" in {flow["id"] for flow in listed["entities"]}
    answer = _consumed(sim, session, id="call", objectType="INBOUNDCALLFLOW", version="1.0")
    assert answer.status_code == 404
    relisted = session.get(f"{sim.url}/api/v2/flows", params={"pageSize": 50}, timeout=10).json()
    assert "call" not in {flow["id"] for flow in relisted["entities"]}


def test_vocabulary_is_answered_beside_real_dependencies_and_resource_type_filters_it(
    start_simulator: StartSimulator,
) -> None:
    sim, session = _start(start_simulator)
    everything = _consumed(sim, session, id="call", objectType="INBOUNDCALLFLOW", version="1.0", pageSize=100)
    rows = everything.json()["entities"]
    types = {row["type"] for row in rows}
    assert {"QUEUE", "FLOWACTION", "FLOWDATATYPE", "LANGUAGE", "TTSENGINE", "TTSVOICE", "STTENGINE"} <= types
    assert len(rows) > 45 and all("updated" in row for row in rows)
    filtered = _consumed(
        sim,
        session,
        id="call",
        objectType="INBOUNDCALLFLOW",
        version="1.0",
        resourceType=["QUEUE", "DATAACTION"],
    )
    assert [(row["id"], row["type"]) for row in filtered.json()["entities"]] == [("q-1", "QUEUE")]
    invalid = _consumed(
        sim, session, id="call", objectType="INBOUNDCALLFLOW", version="1.0", resourceType="NOPE"
    )
    assert invalid.status_code == 400


def test_churn_changes_the_org_between_pages(start_simulator: StartSimulator) -> None:
    # Given an org that changes after each of the next 2 pages of the flows listing
    sim, session = _start(start_simulator, faults="churn=2,seed=3")
    params = {"pageSize": 2, "sortBy": "id", "sortOrder": "asc"}

    def listing(page: int) -> dict[str, Any]:
        body: dict[str, Any] = session.get(
            f"{sim.url}/api/v2/flows", params={**params, "pageNumber": page}, timeout=10
        ).json()
        return body

    before = {f.id for f in sim.org.flows.values() if not f.deleted}
    listing(1)
    listing(2)
    after = {f.id for f in sim.org.flows.values() if not f.deleted}
    # Then two flows are gone, two are new, and the org settles afterwards
    assert len(before - after) == 2 and len(after - before) == 2
    listing(3)
    assert {f.id for f in sim.org.flows.values() if not f.deleted} == after
