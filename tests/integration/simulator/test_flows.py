"""Flows API: paging, filters, versions, lifecycle operations, locks, unknown paths."""

from __future__ import annotations

import requests

from flowops.local.simulator import SimulatorServer
from tests.helpers.simulator import StartSimulator, bearer_session
from tests.integration.simulator.conftest import get_json, poll

ENVELOPE_KEYS = {"entities", "pageSize", "pageNumber", "total", "pageCount", "firstUri", "selfUri", "lastUri"}


def test_listing_pages_through_every_flow_with_the_paging_envelope(
    simulator: SimulatorServer, sim_session: requests.Session
) -> None:
    # Given an org of 60 flows
    total = sum(1 for f in simulator.org.flows.values() if not f.deleted)
    # When the client follows nextUri with pageSize 25
    seen: list[str] = []
    page = get_json(sim_session, f"{simulator.url}/api/v2/flows", pageSize=25)
    pages = [page]
    while "nextUri" in page:
        page = get_json(sim_session, simulator.url + page["nextUri"])
        pages.append(page)
    for p in pages:
        seen.extend(flow["id"] for flow in p["entities"])
    # Then every flow is seen once, in name order, with the full envelope
    assert set(pages[0]) >= ENVELOPE_KEYS
    assert pages[0]["total"] == total and pages[0]["pageCount"] == len(pages) == 3
    assert "previousUri" in pages[1] and "nextUri" not in pages[-1]
    assert len(seen) == len(set(seen)) == total
    names = [simulator.org.flows[i].name.lower() for i in seen]
    assert names == sorted(names)


def test_page_size_over_500_is_a_bad_request(
    simulator: SimulatorServer, sim_session: requests.Session
) -> None:
    # When a page of 501 is asked for
    response = sim_session.get(f"{simulator.url}/api/v2/flows", params={"pageSize": 501}, timeout=10)
    # Then the API refuses with a Genesys error body
    assert response.status_code == 400
    assert response.json()["code"] == "bad.request"


def test_type_id_and_name_filters(simulator: SimulatorServer, sim_session: requests.Session) -> None:
    # Given two known flows
    flows = list(simulator.org.flows.values())
    first, second = flows[0], flows[1]
    # When filtering by type (multi), by ids, and by exact name
    by_type = get_json(
        sim_session, f"{simulator.url}/api/v2/flows", type=["inboundcall", "commonmodule"], pageSize=500
    )
    by_ids = get_json(sim_session, f"{simulator.url}/api/v2/flows", id=[first.id, second.id])
    by_name = get_json(sim_session, f"{simulator.url}/api/v2/flows", name=first.name.upper())
    # Then each answer holds exactly the matching flows
    assert {f["type"] for f in by_type["entities"]} == {"INBOUNDCALL", "COMMONMODULE"}
    assert {f["id"] for f in by_ids["entities"]} == {first.id, second.id}
    assert [f["id"] for f in by_name["entities"]] == [first.id]


def test_flow_versions_and_configuration(simulator: SimulatorServer, sim_session: requests.Session) -> None:
    # Given a published flow
    flow = next(
        f for f in simulator.org.flows.values() if f.published_version_id and f.flow_type == "INBOUNDCALL"
    )
    base = f"{simulator.url}/api/v2/flows/{flow.id}"
    # When its versions, one version and its configuration are read
    versions = get_json(sim_session, f"{base}/versions")
    version = get_json(sim_session, f"{base}/versions/{flow.published_version_id}")
    configuration = get_json(sim_session, f"{base}/versions/{flow.published_version_id}/configuration")
    latest = get_json(sim_session, f"{base}/latestconfiguration")
    # Then they describe the stored versions
    assert [v["id"] for v in versions["entities"]] == list(reversed(flow.versions))
    assert version["id"] == flow.published_version_id and version["type"] == "PUBLISH"
    assert isinstance(version["dateCreated"], int)  # epoch ms, as the SDK's FlowVersion
    assert version["datePublished"].endswith("Z") and "T" in version["datePublished"]  # ISO date-time
    assert configuration["flow"]["inboundCall"]["name"] == flow.name
    assert latest["version"] == flow.latest_version_id()


def test_unknown_flow_and_unknown_path_are_404(
    simulator: SimulatorServer, sim_session: requests.Session
) -> None:
    missing = sim_session.get(
        f"{simulator.url}/api/v2/flows/00000000-0000-0000-0000-000000000000", timeout=10
    )
    unknown = sim_session.get(f"{simulator.url}/api/v2/flows/x/versions/1.0/publish", timeout=10)
    fake_tutorial = sim_session.post(f"{simulator.url}/api/v2/flows/x/versions/1.0/validate", timeout=10)
    for response in (missing, unknown, fake_tutorial):
        assert response.status_code == 404
        assert response.json()["code"] == "not.found"


def test_publish_operation_progresses_and_creates_a_published_version(
    start_simulator: StartSimulator,
) -> None:
    # Given an unlocked published flow on a clock running x20 (publish takes 4 simulated s = 0.2 s)
    sim = start_simulator(time_scale=20)
    session = bearer_session(sim)
    flow = next(f for f in sim.org.flows.values() if f.published_version_id and f.locked_by is None)
    before = flow.published_version_id
    # When it is published
    started = session.post(f"{sim.url}/api/v2/flows/actions/publish", params={"flow": flow.id}, timeout=10)
    seen = {started.json()["actionStatus"]}
    final = poll(
        lambda: get_json(session, f"{sim.url}/api/v2/flows/{flow.id}"),
        lambda f: seen.add(f["currentOperation"]["actionStatus"]) or f["currentOperation"]["complete"],
    )
    # Then the operation went STARTED -> ... -> SUCCESS and a new version is published
    assert started.status_code == 200 and started.json()["actionName"] == "PUBLISH"
    assert "STARTED" in seen and "SUCCESS" in seen
    assert seen & {"PENDING_GENERATION", "PENDING_BACKEND_NOTIFICATION"}
    assert final["currentOperation"]["actionStatus"] == "SUCCESS"
    assert float(final["publishedVersion"]["id"]) > float(before or "0")


def test_flow_locked_by_someone_else_refuses_publish_naming_who(
    simulator: SimulatorServer, sim_session: requests.Session
) -> None:
    # Given a flow another user holds in the Architect UI
    flow = next(f for f in simulator.org.flows.values() if f.published_version_id)
    checkout = sim_session.post(
        f"{simulator.url}/api/v2/flows/actions/checkout", params={"flow": flow.id}, timeout=10
    )
    assert checkout.status_code == 200 and checkout.json()["lockedClient"]["id"] == "local"
    other = bearer_session(simulator)
    simulator.set_faults(f"locked={flow.id}")
    # When anybody publishes it
    response = other.post(
        f"{simulator.url}/api/v2/flows/actions/publish", params={"flow": flow.id}, timeout=10
    )
    # Then 409, naming the holder, and GET shows the lock
    assert response.status_code == 409
    assert response.json()["code"] == "flow.locked"
    assert "Sam Supervisor" in response.json()["message"]
    assert (
        get_json(other, f"{simulator.url}/api/v2/flows/{flow.id}")["lockedUser"]["name"] == "Sam Supervisor"
    )
