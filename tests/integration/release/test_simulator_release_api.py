"""The simulator's parts of Architect a release relies on: `DELETE /api/v2/flows/{flowId}` (as
Terraform's destroy uses it: 404 once gone, 409 while someone holds the lock) and architect jobs
with `createStubs` (flows that transfer to each other, deployed in one wave)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flowops.genesys import ClientCredentials, GenesysClient
from flowops.genesys.errors import GenesysError, NotFoundError
from flowops.local.runtime.cloud import LOCAL_GENESYS_CREDENTIALS
from tests.integration.release.world import ORG_DOCUMENT, SALES, flow_yaml, transfer


@pytest.fixture
def client_and_sim(start_simulator: Callable[..., Any]) -> tuple[GenesysClient, Any]:
    from flowops.local.simulator.orgfile import parse_org_document

    client_id, client_secret = LOCAL_GENESYS_CREDENTIALS
    sim = start_simulator(
        parse_org_document(ORG_DOCUMENT), client_id=client_id, client_secret=client_secret, time_scale=600.0
    )
    client = GenesysClient(
        ClientCredentials(client_id=client_id, client_secret=client_secret), base_url=sim.url
    )
    return client, sim


def deploy(client: GenesysClient, text: str, *, create_stubs: bool | None = None) -> Any:
    job = client.deploy_flow_yaml(text, create_stubs=create_stubs)
    return client.wait_until(
        lambda: client.get_architect_job(job.id),
        lambda j: j.status in ("Success", "Failure"),
        what="deploy",
        poll_interval_seconds=0.05,
        timeout_seconds=30,
    )


def test_delete_flow_removes_it_and_a_second_delete_is_404(client_and_sim: tuple[GenesysClient, Any]) -> None:
    client, sim = client_and_sim
    # When a flow is deleted
    client.delete_flow(SALES)
    # Then it is gone from listings and by name, and deleting it again answers 404
    assert SALES not in {flow.id for flow in client.iter_flows()}
    assert sim.org.find_flow_by_name("Sales Line") is None
    with pytest.raises(NotFoundError):
        client.delete_flow(SALES)


def test_delete_of_a_flow_locked_by_someone_else_is_409(client_and_sim: tuple[GenesysClient, Any]) -> None:
    client, sim = client_and_sim
    sim.state.faults.locked_flow_ids.add(SALES)
    with pytest.raises(GenesysError) as refused:
        client.delete_flow(SALES)
    assert refused.value.status == 409
    assert not sim.org.flows[SALES].deleted


def test_flows_calling_each_other_deploy_with_create_stubs(client_and_sim: tuple[GenesysClient, Any]) -> None:
    client, sim = client_and_sim
    # Given two new flows that transfer to each other
    ping = flow_yaml("INBOUNDCALL", "Ping", transfer("Pong"))
    pong = flow_yaml("INBOUNDCALL", "Pong", transfer("Ping"))
    # Then without createStubs the first fails as Architect does (Pong does not exist)
    failed = deploy(client, ping)
    assert failed.status == "Failure"
    assert any("Pong" in (message.text or "") for message in failed.messages)
    # When deployed with createStubs: Ping publishes, Pong exists as an unpublished stub
    assert deploy(client, ping, create_stubs=True).status == "Success"
    stub = sim.org.find_flow_by_name("Pong", "INBOUNDCALL")
    assert stub is not None and stub.published_version_id is None
    # and Pong's own deploy fills the stub (same id) and publishes it
    assert deploy(client, pong, create_stubs=True).status == "Success"
    filled = sim.org.find_flow_by_name("Pong", "INBOUNDCALL")
    assert filled is not None and filled.id == stub.id and filled.published_version_id == "1.0"
