"""Contract: every `GenesysClient` method against the real simulator on 127.0.0.1.

The simulator speaks the real API's paths, envelopes and errors; these tests prove that the
client's requests are accepted and that its models parse every answer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from flowops.clock import ScaledClock
from flowops.flowtypes import dependency_object_type
from flowops.genesys import (
    AuthenticationError,
    ClientCredentials,
    FlowLockedError,
    GenesysClient,
    NotFoundError,
    RetryPolicy,
)
from flowops.genesys.models import (
    ArchitectJob,
    ExecutionDataJob,
    ExportJob,
    Flow,
    FlowInstanceCriteria,
    FlowInstanceQuery,
    ValidateJob,
)
from flowops.local.simulator import SimulatorServer
from flowops.local.simulator.org import render_flow_yaml
from tests.helpers.simulator import StartSimulator

TIME_SCALE = 60.0


class StatusCounter:
    """Counts every HTTP status the client receives (a `requests` response hook)."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.statuses[response.status_code] += 1


def make_client(
    sim: SimulatorServer,
    *,
    secret: str = "local",  # noqa: S107 - the simulator's default client secret
    retry_policy: RetryPolicy | None = None,
) -> tuple[GenesysClient, StatusCounter]:
    statuses = StatusCounter()
    session = requests.Session()
    session.hooks["response"].append(statuses)
    client = GenesysClient(
        ClientCredentials(client_id="local", client_secret=secret),  # type: ignore[arg-type]
        base_url=sim.url,
        clock=ScaledClock(TIME_SCALE),
        session=session,
        retry_policy=retry_policy,
    )
    return client, statuses


@pytest.fixture
def sim(start_simulator: StartSimulator) -> SimulatorServer:
    return start_simulator(flows=40, seed=11, time_scale=TIME_SCALE)


@pytest.fixture
def client(sim: SimulatorServer) -> Iterator[GenesysClient]:
    genesys, _ = make_client(sim)
    yield genesys
    genesys.close()


def published_flow(client: GenesysClient, flow_type: str | None = None) -> Flow:
    for flow in client.iter_flows(flow_types=[flow_type] if flow_type else None):
        if flow.published_version is not None and flow.locked_user is None and flow.locked_client is None:
            return flow
    raise AssertionError("the generated org has no unlocked published flow")


def test_flows_listing_and_reads(sim: SimulatorServer, client: GenesysClient) -> None:
    # Given the simulated org
    # When listing every flow in pages of 7
    flows = list(client.iter_flows(page_size=7))
    # Then every flow of the org came back, parsed
    assert {flow.id for flow in flows} == {flow.id for flow in sim.org.iter_flows() if not flow.deleted}
    assert client.api_calls["GET /api/v2/flows"] == -(-len(flows) // 7)

    flow = published_flow(client)
    assert flow.published_version is not None
    fetched = client.get_flow(flow.id)
    assert fetched.id == flow.id and fetched.type
    versions = list(client.iter_flow_versions(flow.id))
    assert flow.published_version.id in {version.id for version in versions}
    version = client.get_flow_version(flow.id, flow.published_version.id)
    assert version.id == flow.published_version.id
    configuration = client.get_flow_version_configuration(flow.id, version.id)
    assert configuration["id"] == flow.id
    assert client.get_flow_latest_configuration(flow.id)["id"] == flow.id


def test_type_filter_and_name(client: GenesysClient) -> None:
    flow = published_flow(client, "COMMONMODULE")
    modules = list(client.iter_flows(flow_types=["COMMONMODULE"]))
    assert modules and all(module.type == "COMMONMODULE" for module in modules)
    assert [found.id for found in client.iter_flows(name=flow.name)] == [flow.id]


def test_dependency_tracking(client: GenesysClient) -> None:
    status = client.get_dependency_tracking_status()
    assert status.status
    flow = published_flow(client, "INBOUNDCALL")
    assert flow.published_version is not None and flow.type is not None
    object_type = dependency_object_type(flow.type)
    assert object_type == "INBOUNDCALLFLOW"
    consumed = list(
        client.iter_consumed_resources(flow.id, version=flow.published_version.id, object_type=object_type)
    )
    assert consumed and all(dependency.type for dependency in consumed)
    target = consumed[0]
    assert target.type is not None
    consumers = list(client.iter_consuming_resources(target.id, object_type=target.type))
    assert flow.id in {consumer.id for consumer in consumers}
    detail = client.get_dependency_object(
        flow.id, object_type=object_type, version=flow.published_version.id, consumed_resources=True
    )
    assert detail.id == flow.id and detail.consumed_resources
    client.rebuild_dependency_tracking()
    assert client.get_dependency_tracking_status().status != "OPERATIONAL"


def test_deploy_yaml_through_an_architect_job(sim: SimulatorServer, client: GenesysClient) -> None:
    # Given the YAML of an existing published flow
    flow = published_flow(client, "INBOUNDCALL")
    model = sim.org.flows[flow.id]
    assert model.published_version_id is not None
    yaml_text = render_flow_yaml(sim.org, model, model.versions[model.published_version_id])
    # When deploying it through the jobs API and polling
    registration = client.deploy_flow_yaml(yaml_text)
    job: ArchitectJob = client.wait_until(
        lambda: client.get_architect_job(registration.id),
        lambda current: current.finished,
        what="architect job",
        poll_interval_seconds=1,
        timeout_seconds=120,
    )
    # Then it succeeded and published a new version of the same flow
    assert job.status == "Success", job.messages
    assert job.flow is not None and job.flow.id == flow.id
    republished = client.get_flow(flow.id)
    assert republished.published_version is not None
    assert republished.published_version.id != flow.published_version.id  # type: ignore[union-attr]


def test_export_and_validate_jobs(client: GenesysClient) -> None:
    flow = published_flow(client)
    assert flow.published_version is not None
    export = client.start_export_job(flow.id, flow.published_version.id, file_name="flow.yaml")
    exported: ExportJob = client.wait_until(
        lambda: client.get_export_job(export.id),
        lambda job: job.download_url is not None or job.status == "Failure",
        what="export job",
        poll_interval_seconds=1,
        timeout_seconds=120,
    )
    assert exported.download_url, exported.messages
    yaml_text = client.download_export(exported.download_url)
    assert flow.name is not None and flow.name in yaml_text

    started = client.start_validate_job([(flow.id, flow.published_version.id)])
    validated: ValidateJob = client.wait_until(
        lambda: client.get_validate_job(started.id),
        lambda job: job.status in ("Success", "Failure"),
        what="validate job",
        poll_interval_seconds=1,
        timeout_seconds=120,
    )
    assert validated.status in ("Success", "Failure")


def test_lifecycle_actions(client: GenesysClient) -> None:
    flow = published_flow(client)
    checked_out = client.checkout_flow(flow.id)
    assert checked_out.locked_client is not None or checked_out.locked_user is not None
    assert client.revert_flow(flow.id).id == flow.id
    client.checkout_flow(flow.id)
    assert client.unlock_flow(flow.id).locked_user is None
    operation = client.publish_flow(flow.id)
    assert operation.action_name == "PUBLISH"
    finished = client.wait_until(
        lambda: client.get_flow(flow.id),
        lambda current: current.current_operation is not None and bool(current.current_operation.complete),
        what="publish",
        poll_interval_seconds=1,
        timeout_seconds=120,
    )
    assert finished.current_operation is not None and finished.current_operation.succeeded


def test_lock_held_by_someone_else_names_them(start_simulator: StartSimulator) -> None:
    sim = start_simulator(flows=20, seed=3, time_scale=TIME_SCALE)
    client, _ = make_client(sim)
    flow = published_flow(client)
    sim.set_faults(f"locked={flow.id}")
    with pytest.raises(FlowLockedError) as caught:
        client.checkout_flow(flow.id)
    assert caught.value.locked_by and "Sam Supervisor" in caught.value.locked_by
    assert caught.value.correlation_id


def test_execution_data(client: GenesysClient) -> None:
    assert client.get_execution_data_settings().enabled
    query = FlowInstanceQuery.all_of(
        FlowInstanceCriteria(key="FlowStartDateTime", operator="gte", value="2024-12-01T00:00:00.000Z")
    )
    page = client.query_flow_instances(query, page_size=50)
    assert page.entities, "the generated org has execution data"
    instance = page.entities[0]
    assert instance.flow_id and instance.start_date_time is not None
    job = client.start_execution_data_job([row.id for row in page.entities[:3]])
    done: ExecutionDataJob = client.wait_until(
        lambda: client.get_execution_data_job(job.id),
        lambda current: current.finished,
        what="execution data job",
        poll_interval_seconds=1,
        timeout_seconds=120,
    )
    assert done.job_state == "Success"
    downloadable = [entity for entity in done.entities if entity.download_uri]
    document = client.download_execution_data(downloadable[0].download_uri or "")
    # The event list lives in flow.execution (see docs/architecture/trace-analysis.md).
    assert isinstance(document["flow"]["execution"], list) and document["flow"]["execution"]


def test_data_actions(client: GenesysClient) -> None:
    actions = list(client.iter_actions(page_size=5))
    assert actions
    some = [action.id for action in actions[:3]]
    assert [action.id for action in client.iter_actions(ids=some)] == some
    assert client.get_action(some[0]).id == some[0]
    validation = client.get_action_draft_validation(some[0])
    assert isinstance(validation.valid, bool)


def test_not_found_and_bad_credentials(sim: SimulatorServer, client: GenesysClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.get_flow("00000000-0000-0000-0000-000000000000")
    assert caught.value.correlation_id
    wrong, _ = make_client(sim, secret="wrong-secret-value")
    with pytest.raises(AuthenticationError, match="bad client credentials") as refused:
        wrong.get_flow("x")
    assert "wrong-secret-value" not in str(refused.value) + repr(refused.value)


def test_faults_are_absorbed_by_retries(start_simulator: StartSimulator) -> None:
    # Given a flaky simulator (503s, dropped connections, short-lived tokens)
    sim = start_simulator(
        flows=20, seed=5, time_scale=TIME_SCALE, faults="5xx=0.3,reset=0.1,token-expiry=120,seed=4"
    )
    client, statuses = make_client(sim, retry_policy=RetryPolicy(max_attempts=10))
    # When reading every flow one by one
    flows = list(client.iter_flows(page_size=5))
    for flow in flows:
        assert client.get_flow(flow.id).id == flow.id
    # Then every call eventually succeeded, after some retries
    assert statuses.statuses[503] > 0
    assert client.total_api_calls > len(flows) + 4


def test_a_rate_limit_storm_is_paced_without_errors(start_simulator: StartSimulator) -> None:
    # Given an org limited to 20 requests per simulated minute
    sim = start_simulator(flows=10, seed=2, time_scale=600.0, faults="storm=20")
    statuses = StatusCounter()
    session = requests.Session()
    session.hooks["response"].append(statuses)
    client = GenesysClient(
        ClientCredentials(client_id="local", client_secret="local"),  # type: ignore[arg-type]
        base_url=sim.url,
        clock=ScaledClock(600.0),
        session=session,
    )
    flow = next(client.iter_flows())
    # When making 45 calls (more than two windows' worth)
    for _ in range(45):
        client.get_flow(flow.id)
    # Then every call succeeded; at most the very first window (before the limiter learned the
    # storm limit from the headers) may have seen a 429
    assert statuses.statuses[200] >= 46
    assert statuses.statuses[429] <= 1
