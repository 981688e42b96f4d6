"""The synthesized release state machine against the simulator: new flows, unchanged flows
skipped, module consumers republished, and the records a release leaves."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.release.helpers import ReleaseWorld, start_release_world
from tests.integration.release.world import AFTER, MAIN, MODULE, flow_yaml, module, queue, transfer

pytestmark = pytest.mark.slow


@pytest.fixture
def world(
    start_simulator: Callable[..., Any], local_cloud_factory: Callable[..., Any], tmp_path: Path
) -> ReleaseWorld:
    return start_release_world(start_simulator, local_cloud_factory, tmp_path)


def test_all_new_flows_are_created_in_waves_including_a_cycle(world: ReleaseWorld) -> None:
    # Given three new flows: Ping and Pong transfer to each other, Caller transfers to Ping
    flows = {
        "inboundCall/ping.yaml": flow_yaml("INBOUNDCALL", "Ping", transfer("Pong"), queue("Support")),
        "inboundCall/pong.yaml": flow_yaml("INBOUNDCALL", "Pong", transfer("Ping")),
        "inboundCall/caller.yaml": flow_yaml("INBOUNDCALL", "Caller", transfer("Ping")),
    }
    # When released
    result = world.release("release-new", flows)
    # Then the release succeeded through the named states
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    entered = result.states_entered()
    for state in (
        "PrepareRelease",
        "PublishWaves",
        "StartFlowPublish",
        "CheckFlowHealth",
        "RecordRelease",
        "Released",
    ):
        assert state in entered
    assert "PlanRollback" not in entered
    # and all three flows exist and publish version 1.0 (Pong's stub was filled, not duplicated)
    versions = world.published_versions()
    assert versions["INBOUNDCALL/Ping"] == "1.0"
    assert versions["INBOUNDCALL/Pong"] == "1.0"
    assert versions["INBOUNDCALL/Caller"] == "1.0"
    assert sum(1 for f in world.sim.org.flows.values() if f.name == "Pong") == 1
    # and one release record says what happened, with versions before/after and why
    record = world.record("release-new")
    assert record.kind == "release" and record.status == "SUCCEEDED"
    flows_recorded = {flow["key"]: flow for flow in record.details["flows"]}
    assert {
        key: (f["action"], f["version_before"], f["version_after"]) for key, f in flows_recorded.items()
    } == {
        "INBOUNDCALL/Ping": ("create", "", "1.0"),
        "INBOUNDCALL/Pong": ("create", "", "1.0"),
        "INBOUNDCALL/Caller": ("create", "", "1.0"),
    }
    assert record.details["requester"] == "ci@example.com" and record.details["source_revision"].startswith(
        "dir:"
    )
    assert world.audit_kinds("release-new") == ["release.started", "release.released"]
    assert world.lease_holders() == []


def test_module_change_republishes_its_consumers_and_skips_unchanged_flows(world: ReleaseWorld) -> None:
    # Given a release changing the module and carrying Sales Line unchanged (its export)
    from flowops.genesys import ClientCredentials, GenesysClient
    from flowops.local.runtime.cloud import LOCAL_GENESYS_CREDENTIALS
    from flowops.release.live import GenesysLiveOrg

    client_id, secret = LOCAL_GENESYS_CREDENTIALS
    live = GenesysLiveOrg(
        GenesysClient(ClientCredentials(client_id=client_id, client_secret=secret), base_url=world.sim.url),
        org="x",
        poll_seconds=0.05,
    )
    sales = live.find_flow("INBOUNDCALL", "Sales Line")
    assert sales is not None
    flows = {
        "commonModule/shared-menu.yaml": flow_yaml(
            "COMMONMODULE", "Shared Menu", queue("Sales"), description="v2"
        ),
        "inboundCall/sales-line.yaml": live.published_yaml(sales),
        "inboundCall/new-line.yaml": flow_yaml("INBOUNDCALL", "New Line", module("Shared Menu")),
    }
    world.seed_lock()
    # When released
    result = world.release("release-module", flows)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    # Then the module has version 2.0 and both consumers were republished bound to it
    versions = world.published_versions()
    assert versions["COMMONMODULE/Shared Menu"] == "2.0"
    assert versions["INBOUNDCALL/Main IVR"] == "3.0" and world.module_snapshot(MAIN) == "2.0"
    assert versions["INBOUNDCALL/After Hours"] == "2.0" and world.module_snapshot(AFTER) == "2.0"
    assert versions["INBOUNDCALL/New Line"] == "1.0"
    # and the unchanged flow got no new version
    assert versions["INBOUNDCALL/Sales Line"] == "1.0"
    actions = {f["key"]: f["action"] for f in world.record("release-module").details["flows"]}
    assert actions == {
        "COMMONMODULE/Shared Menu": "update",
        "INBOUNDCALL/Main IVR": "republish",
        "INBOUNDCALL/After Hours": "republish",
        "INBOUNDCALL/New Line": "create",
        "INBOUNDCALL/Sales Line": "unchanged",
    }
    # and the lock moved with the release, in one advance: every changed flow at its new version,
    # the created flow added, consumers bound to the new module
    assert world.lock_versions() == versions
    assert world.record("release-module").details["lock_sha256"]
    # and the same release again changes nothing (what was deployed is the comparison source)
    again = world.release("release-module-again", flows)
    assert again.status == "SUCCEEDED" and "NothingToRelease" in again.states_entered()
    assert world.published_versions()["COMMONMODULE/Shared Menu"] == "2.0"
    assert MODULE in world.sim.org.flows
