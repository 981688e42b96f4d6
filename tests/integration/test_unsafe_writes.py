"""Non-idempotent Genesys writes are never resent blindly (issue 12): a publish whose answer was
lost, or that met a 5xx, is sent once and reported as of unknown outcome; reads keep retrying.
A flow deploy's stray flow can be deleted (`DELETE /api/v2/flows/{flowId}`)."""

from __future__ import annotations

import pytest

from flowops.genesys import GenesysClient, NotFoundError, ServerError, WriteOutcomeUnknownError
from flowops.local.simulator import SimulatorServer
from tests.helpers.simulator import StartSimulator
from tests.integration.test_client_contract import make_client, published_flow

TIME_SCALE = 60.0


@pytest.fixture
def sim(start_simulator: StartSimulator) -> SimulatorServer:
    return start_simulator(flows=12, seed=5, time_scale=TIME_SCALE)


@pytest.fixture
def client(sim: SimulatorServer) -> GenesysClient:
    genesys, _ = make_client(sim)
    return genesys


def test_a_publish_whose_answer_is_lost_is_sent_once_and_reported_unknown(
    sim: SimulatorServer, client: GenesysClient
) -> None:
    # Given a published flow and a lost answer to the next publish action
    flow = published_flow(client)
    versions_before = len(list(client.iter_flow_versions(flow.id)))
    sim.set_faults("lost-answer=publish")
    # When it is published
    with pytest.raises(WriteOutcomeUnknownError) as raised:
        client.publish_flow(flow.id)
    # Then the request went out exactly once, and the error says it may have been applied
    assert client.api_calls["POST /api/v2/flows/actions/publish"] == 1
    assert "may have been applied" in raised.value.message
    assert raised.value.asl_error_name == "Genesys.Unavailable"
    # and it was applied: the flow's current operation is that publish (what a caller checks)
    operation = client.get_flow(flow.id).current_operation
    assert operation is not None and operation.action_name == "PUBLISH"
    client.wait_until(
        lambda: client.get_flow(flow.id),
        lambda live: bool(live.current_operation and live.current_operation.complete),
        what="publish",
        poll_interval_seconds=0.5,
        timeout_seconds=60,
    )
    assert len(list(client.iter_flow_versions(flow.id))) == versions_before + 1


def test_a_publish_meeting_a_server_error_is_not_resent_but_reads_are_retried(
    sim: SimulatorServer, client: GenesysClient
) -> None:
    # Given Genesys answers 503 to every API call
    flow = published_flow(client)
    sim.set_faults("5xx=1.0")
    # When a publish is sent: one attempt, a ServerError (a gateway may have applied it)
    with pytest.raises(ServerError):
        client.publish_flow(flow.id)
    assert client.api_calls["POST /api/v2/flows/actions/publish"] == 1
    # When a read is sent: retried under the policy
    with pytest.raises(ServerError):
        client.get_flow(flow.id)
    assert client.api_calls["GET /api/v2/flows/{flowId}"] > 1


def test_a_job_upload_whose_answer_is_lost_is_not_resent_and_the_job_has_it(
    sim: SimulatorServer, client: GenesysClient
) -> None:
    # Given a registered job and a lost answer to its upload
    text = "inboundCall:\n  name: Upload Probe\n"
    registration = client.register_architect_job()
    sim.set_faults("lost-answer=upload")
    # When the YAML is uploaded
    with pytest.raises(WriteOutcomeUnknownError):
        client.upload_architect_job_file(registration, text)
    # Then the job received it: it leaves Registered (a job shows Registered for a moment after
    # its upload too, which is why the publish steps watch it for a grace period)
    job = client.wait_until(
        lambda: client.get_architect_job(registration.id),
        lambda job: job.status != "Registered",
        what="job",
        poll_interval_seconds=0.5,
        timeout_seconds=30,
    )
    assert job.status in ("Started", "Success", "Failure")


def test_a_deleted_flow_is_gone_and_a_second_delete_is_not_found(
    sim: SimulatorServer, client: GenesysClient
) -> None:
    # Given an unlocked flow
    flow = published_flow(client)
    # When it is deleted
    client.delete_flow(flow.id)
    # Then it no longer lists, and deleting it again is NotFound
    assert flow.id not in {listed.id for listed in client.iter_flows()}
    with pytest.raises(NotFoundError):
        client.delete_flow(flow.id)
