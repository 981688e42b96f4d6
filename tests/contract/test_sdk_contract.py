"""Contract with the real platform, judged by the official SDK: every answer of the simulator that
flowops uses deserializes into PureCloudPlatformClientV2's own models with 0 deviations (no
invented field, no wrong JSON type, no enum value outside the model's allowed values), and the
SDK's own API classes read flows from the simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from flowops.clock import ScaledClock
from flowops.flowtypes import dependency_object_type
from flowops.genesys import (
    ClientCredentials,
    FlowLockedError,
    ForbiddenError,
    GenesysClient,
    NotFoundError,
)
from flowops.genesys.exports import export_flow_yaml
from flowops.genesys.models import FlowInstanceCriteria, FlowInstanceQuery, genesys_timestamp
from flowops.genesys.permissions import BY_OPERATION, OPERATIONS
from flowops.local.simulator import SimulatorServer, generate_org
from flowops.local.simulator.access import OAuthClient
from tests.contract.sdk_oracle import deviations, response_type, sdk

TIME_SCALE = 120.0


@dataclass
class Answer:
    operation: str
    status: int
    body: Any


class Recorder:
    """A `requests` response hook keeping every JSON answer of the simulator's API."""

    def __init__(self, sim: SimulatorServer) -> None:
        self.sim = sim
        self.answers: list[Answer] = []

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        request = response.request
        url = request.url or ""
        if not url.startswith(self.sim.url + "/api/"):
            return  # the token endpoint and the signed storage host are not API answers
        path = url[len(self.sim.url) :].split("?", 1)[0]
        matched = self.sim.router.match(request.method or "", path)
        assert matched is not None, f"no simulator route for {request.method} {path}"
        if not response.content:
            return  # 202/204/303 without a body
        self.answers.append(
            Answer(
                f"{request.method} {matched[0].template}", response.status_code, json.loads(response.content)
            )
        )


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    clock = ScaledClock(TIME_SCALE)
    org = generate_org(40, seed=3, now=clock.now())
    org.execution_data_enabled = True
    org.oauth_clients["viewer"] = OAuthClient(
        "viewer", "viewer-secret", "Viewer", frozenset({"architect:flow:view"}), None
    )
    with SimulatorServer(org, clock=clock) as server:
        yield server


def _client(
    sim: SimulatorServer,
    recorder: Recorder,
    client_id: str = "local",
    secret: str = "local",  # noqa: S107 - the simulator's local default
    **kw: Any,
) -> GenesysClient:
    session = requests.Session()
    session.hooks["response"].append(recorder)
    return GenesysClient(
        ClientCredentials(client_id=client_id, client_secret=secret),  # type: ignore[arg-type]
        base_url=sim.url,
        clock=ScaledClock(TIME_SCALE),
        session=session,
        **kw,
    )


@pytest.fixture(scope="module")
def recorded(sim: SimulatorServer) -> list[Answer]:
    """Every client operation flowops performs, once, against the simulator (plus error answers)."""
    recorder = Recorder(sim)
    client = _client(sim, recorder)
    org = sim.org
    flows = client.list_flows_page(page_size=50).entities
    target = next(
        f
        for f in flows
        if f.type == "INBOUNDCALL"
        and f.published_version
        and f.locked_user is None
        and len(org.flows[f.id].versions) > 1
    )
    assert target.published_version is not None
    version = target.published_version.id
    object_type = dependency_object_type(target.type or "") or "INBOUNDCALLFLOW"
    client.get_flow(target.id)
    client.list_flow_versions_page(target.id)
    client.get_flow_version(target.id, version)
    client.get_flow_version_configuration(target.id, version)
    client.get_flow_latest_configuration(target.id)
    # dependency tracking
    client.get_dependency_tracking_status()
    consumed = client.list_consumed_resources_page(
        target.id, version=version, object_type=object_type
    ).entities
    used = next(d for d in consumed if d.type == "QUEUE")
    client.list_consuming_resources_page(used.id, object_type="QUEUE")
    client.get_dependency_object(target.id, object_type=object_type, version=version, consumed_resources=True)
    # data actions
    actions = client.list_actions_page().entities
    client.get_action(actions[0].id)
    client.get_action_draft_validation(actions[0].id)
    # export (through the download redirect), validate, deploy
    flow_yaml = export_flow_yaml(client, target.id, version)
    validate = client.start_validate_job([(target.id, version)])
    client.wait_until(
        lambda: client.get_validate_job(validate.id),
        lambda j: j.status in ("Success", "Failure"),
        what="validate",
        poll_interval_seconds=0.5,
        timeout_seconds=60,
    )
    registration = client.deploy_flow_yaml(flow_yaml)
    client.wait_until(
        lambda: client.get_architect_job(registration.id),
        lambda j: j.finished,
        what="deploy",
        poll_interval_seconds=1.0,
        timeout_seconds=120,
    )
    # lifecycle actions
    client.checkout_flow(target.id)
    client.revert_flow(target.id)
    client.checkout_flow(target.id)
    client.checkin_flow(target.id)
    client.wait_until(
        lambda: client.get_flow(target.id),
        lambda f: bool(f.current_operation and f.current_operation.complete),
        what="checkin",
        poll_interval_seconds=1.0,
        timeout_seconds=60,
    )
    client.publish_flow(target.id)
    client.wait_until(
        lambda: client.get_flow(target.id),
        lambda f: bool(f.current_operation and f.current_operation.complete),
        what="publish",
        poll_interval_seconds=1.0,
        timeout_seconds=60,
    )
    client.unlock_flow(target.id)
    # execution data
    client.get_execution_data_settings()
    now = datetime.fromtimestamp(sim.state.now(), UTC)
    rows = client.query_flow_instances(
        FlowInstanceQuery.all_of(
            FlowInstanceCriteria(
                key="FlowStartDateTime", operator="gte", value=genesys_timestamp(now - timedelta(days=10))
            ),
            FlowInstanceCriteria(key="FlowStartDateTime", operator="lt", value=genesys_timestamp(now)),
        )
    ).entities
    assert rows, "the generated org has execution data"
    job = client.start_execution_data_job([row.id for row in rows[:3]])
    client.wait_until(
        lambda: client.get_execution_data_job(job.id),
        lambda j: j.finished,
        what="execution data",
        poll_interval_seconds=1.0,
        timeout_seconds=60,
    )
    # error answers: 404, 409 (lock), 403 (permission and division), 429
    with pytest.raises(NotFoundError):
        client.get_flow("00000000-0000-4000-8000-00000000dead")
    sim.set_faults(f"locked={target.id}")
    with pytest.raises(FlowLockedError):
        client.publish_flow(target.id)
    sim.set_faults("")
    viewer = _client(sim, recorder, "viewer", "viewer-secret")
    with pytest.raises(ForbiddenError):
        viewer.get_dependency_tracking_status()
    # (raw calls: the client paces itself under the advertised limit and would never see a 429)
    raw = requests.Session()
    raw.hooks["response"].append(recorder)
    token = raw.post(
        f"{sim.url}/oauth/token",
        auth=("local", "local"),
        data={"grant_type": "client_credentials"},
        timeout=10,
    ).json()["access_token"]
    sim.set_faults("storm=1")
    statuses = [
        raw.get(
            f"{sim.url}/api/v2/flows/{target.id}", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        for _ in range(2)
    ]
    sim.set_faults("")
    assert statuses[-1].status_code == 429
    return recorder.answers


def test_every_answer_flowops_uses_matches_the_sdk_models(recorded: list[Answer]) -> None:
    # Given every JSON answer the simulator gave flowops' client
    found: list[str] = []
    for answer in recorded:
        # When each is read with the SDK's model for its operation (ErrorBody for errors)
        if answer.status >= 400:
            model = "ErrorBody"
        else:
            model = response_type(BY_OPERATION[answer.operation].sdk_method)
        # Then nothing deviates
        found.extend(
            f"{answer.operation} ({answer.status}, {model}) {d}" for d in deviations(answer.body, model)
        )
    assert found == [], "\n".join(sorted(set(found)))


def test_the_contract_covers_every_operation_a_pipeline_uses(recorded: list[Answer]) -> None:
    answered = {answer.operation for answer in recorded}
    # flowops takes the download's answer as a 303 redirect (no body); None: no body at all
    redirect_only = {"GET /api/v2/downloads/{downloadId}"}
    with_bodies = {
        entry.operation
        for entry in OPERATIONS
        if entry.used_by
        and response_type(entry.sdk_method) != "None"
        and entry.operation not in redirect_only
    }
    assert with_bodies - answered == set()
    assert redirect_only <= {entry.operation for entry in OPERATIONS}
    assert {answer.status for answer in recorded} >= {200, 403, 404, 409, 429}


def test_the_oracle_catches_what_the_first_simulator_got_wrong() -> None:
    # An epoch datePublished, an invented field and an unknown enum value are all reported
    flow = {
        "id": "f1",
        "name": "Main",
        "type": "NOTAFLOWTYPE",
        "publishedVersion": {"id": "1.0", "datePublished": 1736121600000},
        "flavour": "vanilla",
    }
    found = deviations(flow, "Flow")
    assert any("datePublished" in d and "ISO-8601" in d for d in found)
    assert any("flavour" in d and "invented" in d for d in found)
    assert any("NOTAFLOWTYPE" in d for d in found)


def test_the_sdk_api_classes_read_flows_from_the_simulator(sim: SimulatorServer) -> None:
    # Given the SDK configured against the simulator with a client-credentials token
    module = sdk()
    token = requests.post(
        f"{sim.url}/oauth/token",
        auth=("local", "local"),
        data={"grant_type": "client_credentials"},
        timeout=10,
    ).json()["access_token"]
    api_client = module.ApiClient(host=sim.url)
    api_client.access_token = token
    architect = module.ArchitectApi(api_client)
    # When it lists flows and reads one with its versions and dependencies
    listing = architect.get_flows(page_size=25, type=["inboundcall"])
    flow = next(f for f in listing.entities if f.published_version is not None)
    read = architect.get_flow(flow.id)
    versions = architect.get_flow_versions(flow.id)
    consumed = architect.get_architect_dependencytracking_consumedresources(
        flow.id, read.published_version.id, "INBOUNDCALLFLOW"
    )
    status = architect.get_architect_dependencytracking_build()
    # Then the SDK's models hold real values (dates parsed as datetimes, enums known)
    assert listing.total and all(f.type == "INBOUNDCALL" for f in listing.entities)
    assert read.id == flow.id and read.division.name
    assert isinstance(read.published_version.date_published, datetime)
    assert versions.entities and all(v.type in ("PUBLISH", "CHECKIN", "SAVE") for v in versions.entities)
    assert all(entry.type != "outdated_sdk_version" for entry in consumed.entities)
    assert status.status == "OPERATIONAL"
