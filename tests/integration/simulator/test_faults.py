"""Each injected fault kind, set at start or through the admin API."""

from __future__ import annotations

import time

import pytest
import requests

from flowops.local.simulator import Faults, FaultSpecError
from tests.helpers.simulator import StartSimulator, bearer_session
from tests.integration.simulator.conftest import get_json, poll


def test_fault_spec_parses_every_kind_and_rejects_bad_items() -> None:
    faults = Faults.parse(
        "5xx=0.2,latency=0.5,reset=0.05,token-expiry=120,publish-fail=Main IVR,locked=abc,index=stuck,"
        "download-fail=0.3,storm=20,job-errors=3000,seed=9"
    )
    assert faults.server_error_rate == 0.2 and faults.latency_seconds == 0.5 and faults.reset_rate == 0.05
    assert faults.token_lifetime_seconds == 120 and faults.publish_fail == {"main ivr"}
    assert faults.locked_flow_ids == {"abc"} and faults.index_stuck and faults.download_fail_rate == 0.3
    assert faults.rate_limit_override == 20 and faults.seed == 9 and faults.job_errors == 3000
    for bad in ("5xx=2", "nonsense=1", "index=slow", "latency", "storm=0", "storm=\u00b2", "job-errors=0"):
        with pytest.raises(FaultSpecError):
            Faults.parse(bad)


def test_server_errors_are_injected_at_the_given_rate(start_simulator: StartSimulator) -> None:
    sim = start_simulator(flows=5, faults="5xx=0.5,seed=3")
    session = bearer_session(sim)
    statuses = [session.get(f"{sim.url}/api/v2/flows", timeout=10).status_code for _ in range(40)]
    assert 5 < statuses.count(503) < 35 and statuses.count(200) + statuses.count(503) == 40


def test_connection_resets_close_the_socket_without_an_answer(start_simulator: StartSimulator) -> None:
    sim = start_simulator(flows=5, faults="reset=1")
    with pytest.raises(requests.ConnectionError):
        requests.post(
            f"{sim.url}/oauth/token",
            auth=("local", "local"),
            data={"grant_type": "client_credentials"},
            timeout=5,
        )


def test_latency_is_added_in_simulated_seconds(start_simulator: StartSimulator) -> None:
    # Given 30 simulated seconds of latency at x300 (0.1 s real)
    sim = start_simulator(flows=5, time_scale=300, faults="latency=30")
    session = bearer_session(sim)
    started = time.monotonic()
    session.get(f"{sim.url}/api/v2/flows", timeout=10)
    assert time.monotonic() - started >= 0.09


def test_token_expiry_fault_shortens_token_lifetime(start_simulator: StartSimulator) -> None:
    sim = start_simulator(flows=5, time_scale=600, faults="token-expiry=60")
    token = requests.post(
        f"{sim.url}/oauth/token",
        auth=("local", "local"),
        data={"grant_type": "client_credentials"},
        timeout=10,
    ).json()
    assert token["expires_in"] == 60
    time.sleep(0.12)
    expired = requests.get(
        f"{sim.url}/api/v2/flows", headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=10
    )
    assert expired.status_code == 401


def test_publish_fail_fault_fails_the_operation(start_simulator: StartSimulator) -> None:
    sim = start_simulator(time_scale=60)
    flow = next(f for f in sim.org.flows.values() if f.published_version_id and f.locked_by is None)
    sim.set_faults(f"publish-fail={flow.name}")
    session = bearer_session(sim)
    session.post(
        f"{sim.url}/api/v2/flows/actions/publish", params={"flow": flow.id}, timeout=10
    ).raise_for_status()
    final = poll(
        lambda: get_json(session, f"{sim.url}/api/v2/flows/{flow.id}"),
        lambda f: f["currentOperation"]["complete"],
    )
    assert final["currentOperation"]["actionStatus"] == "FAILURE"
    assert final["currentOperation"]["errorMessage"]
    assert final["publishedVersion"]["id"] == flow.published_version_id


def test_index_stuck_never_becomes_operational(start_simulator: StartSimulator) -> None:
    sim = start_simulator(flows=5, time_scale=600, faults="index=stuck")
    session = bearer_session(sim)
    session.post(f"{sim.url}/api/v2/architect/dependencytracking/build", timeout=10)
    time.sleep(0.1)  # 60 simulated seconds: twice the rebuild time
    assert (
        get_json(session, f"{sim.url}/api/v2/architect/dependencytracking/build")["status"]
        == "BUILDINPROGRESS"
    )


def test_download_failures_mark_entities_failed(start_simulator: StartSimulator) -> None:
    sim = start_simulator(faults="download-fail=1")
    session = bearer_session(sim)
    ids = list(sim.org.flow_instances)[:2]
    job = session.post(f"{sim.url}/api/v2/flows/instances/jobs", json={"ids": ids}, timeout=10).json()
    done = poll(
        lambda: get_json(session, f"{sim.url}/api/v2/flows/instances/jobs/{job['id']}"),
        lambda j: j["jobState"] in {"Success", "Failed"},
    )
    assert done["jobState"] == "Failed"
    assert all(e["failed"] and "downloadUri" not in e for e in done["entities"])


def test_storm_lowers_the_rate_limit_at_runtime_through_the_admin_api(
    start_simulator: StartSimulator,
) -> None:
    sim = start_simulator(flows=5, time_scale=1)
    session = bearer_session(sim)
    changed = requests.post(f"{sim.url}/__sim/faults", json={"spec": "storm=2"}, timeout=10)
    assert changed.status_code == 200 and changed.json()["faults"]["storm"] == 2
    statuses = [session.get(f"{sim.url}/api/v2/flows", timeout=10).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    bad = requests.post(f"{sim.url}/__sim/faults", json={"spec": "what=1"}, timeout=10)
    assert bad.status_code == 400


def test_counters_count_requests_by_path_template(start_simulator: StartSimulator) -> None:
    sim = start_simulator(flows=5)
    session = bearer_session(sim)
    flow_id = next(iter(sim.org.flows))
    session.get(f"{sim.url}/api/v2/flows/{flow_id}", timeout=10)
    session.get(f"{sim.url}/api/v2/flows/{flow_id}", timeout=10)
    counters = requests.get(f"{sim.url}/__sim/counters", timeout=10).json()["counters"]
    assert counters["GET /api/v2/flows/{flowId}"] == 2 and counters["POST /oauth/token"] == 1
    requests.post(f"{sim.url}/__sim/reset-counters", timeout=10)
    assert requests.get(f"{sim.url}/__sim/counters", timeout=10).json()["counters"] == {}
