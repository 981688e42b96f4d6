"""Execution data: settings, the capped instance query with criteria, download jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests

from flowops.local.simulator import SimulatorServer
from flowops.local.simulator.executions import generate_flow_runs
from tests.helpers.simulator import StartSimulator, bearer_session
from tests.integration.simulator.conftest import get_json, poll


def _org_with_runs(sim_org, flow, count: int, end: datetime) -> None:  # type: ignore[no-untyped-def]
    runs = generate_flow_runs(
        flow_id=flow.id,
        flow_name=flow.name,
        flow_type=flow.flow_type,
        flow_version=flow.published_version_id,
        actions=None,
        seed=11,
        count=count,
        window_start=end - timedelta(days=2),
        window_end=end,
    )
    for run in runs:
        sim_org.add_flow_run(run.instance_row, run.document)


def test_settings_can_be_read_and_patched(simulator: SimulatorServer, sim_session: requests.Session) -> None:
    url = f"{simulator.url}/api/v2/flows/instances/settings/executiondata"
    patched = sim_session.patch(url, json={"enabled": False}, timeout=10)
    assert patched.status_code == 200 and patched.json() == {"enabled": False}
    assert get_json(sim_session, url) == {"enabled": False}


def test_query_is_capped_at_200_and_filters_by_criteria(start_simulator: StartSimulator) -> None:
    # Given 450 runs of one flow over two days
    sim = start_simulator()
    flow = next(f for f in sim.org.flows.values() if f.flow_type == "INBOUNDCALL" and f.published_version_id)
    end = datetime.fromtimestamp(sim.state.now(), tz=UTC)
    _org_with_runs(sim.org, flow, 450, end)
    session = bearer_session(sim)
    url = f"{sim.url}/api/v2/flows/instances/query"
    by_flow = {"query": [{"and": [{"key": "FlowId", "operator": "eq", "value": flow.id}]}]}
    # When the runs of the flow are queried, with too big a page, then in a half-open time slice
    too_big = session.post(url, params={"pageSize": 201}, json=by_flow, timeout=10)
    page = session.post(url, params={"pageSize": 200}, json=by_flow, timeout=10).json()
    middle = end - timedelta(days=1)
    sliced_query = {
        "query": [
            {
                "and": [
                    {"key": "FlowId", "operator": "eq", "value": flow.id},
                    {
                        "key": "FlowStartDateTime",
                        "operator": "gte",
                        "value": (end - timedelta(days=2)).isoformat(),
                    },
                    {"key": "FlowStartDateTime", "operator": "lt", "value": middle.isoformat()},
                ]
            }
        ]
    }
    sliced = session.post(url, params={"pageSize": 200}, json=sliced_query, timeout=10).json()
    errors = session.post(
        url, json={"query": [{"and": [{"key": "FlowErrorReason", "operator": "not_null"}]}]}, timeout=10
    ).json()
    # Then pages hold at most 200 rows, not newest first, and the criteria are honoured
    assert too_big.status_code == 400
    assert page["total"] == 450 and len(page["entities"]) == 200
    starts = [row["startDateTime"] for row in page["entities"]]
    assert starts != sorted(starts, reverse=True)
    assert all(row["startDateTime"] < middle.isoformat().replace("+00:00", "Z") for row in sliced["entities"])
    assert 0 < sliced["total"] < 450
    assert all("flowErrorReason" in row for row in errors["entities"])


def test_execution_job_runs_to_success_and_serves_documents(
    simulator: SimulatorServer, sim_session: requests.Session
) -> None:
    # Given instance ids from the query (the generated org has recent runs)
    rows = sim_session.post(
        f"{simulator.url}/api/v2/flows/instances/query", json={"query": []}, timeout=10
    ).json()
    ids = [row["id"] for row in rows["entities"][:3]]
    assert ids
    # When a download job is started and polled
    created = sim_session.post(f"{simulator.url}/api/v2/flows/instances/jobs", json={"ids": ids}, timeout=10)
    # (the creation answer is Registered; later polls may skip states on a loaded machine)
    states = {created.json()["jobState"]}
    done = poll(
        lambda: get_json(sim_session, f"{simulator.url}/api/v2/flows/instances/jobs/{created.json()['id']}"),
        lambda j: states.add(j["jobState"]) or j["jobState"] in {"Success", "Failed"},
    )
    # Then it succeeds and each downloadUri gives the execution document of that instance
    assert created.status_code == 202
    assert done["jobState"] == "Success" and "Registered" in states
    for entity in done["entities"]:
        document = requests.get(entity["downloadUri"], timeout=10).json()
        assert document["flow"]["executionId"] == entity["id"]
        assert isinstance(document["flow"]["execution"], list)
