"""The synthesized publish state machine against a hostile simulator: downloads that redirect,
exports that fail or come back empty, and OAuth clients that lack permissions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flowops.flowyaml import FlowReference, ReferenceKind, render_minimal_flow_yaml
from flowops.genesys.permissions import role_permissions
from flowops.local.runtime.cloud import LOCAL_GENESYS_CREDENTIALS
from flowops.local.simulator.access import OAuthClient
from tests.e2e.publish_helpers import MAIN_FLOW, PublishWorld, start_world

pytestmark = pytest.mark.slow

NOTHING_PUBLISHED = ("POST /api/v2/flows/jobs", "POST /api/v2/flows/actions/publish")


@pytest.fixture
def world(start_simulator: Callable[..., Any], local_cloud_factory: Callable[..., Any]) -> PublishWorld:
    return start_world(start_simulator, local_cloud_factory)


def limit_client(world: PublishWorld, permissions: tuple[str, ...]) -> None:
    """From now on the stack's OAuth client holds only `permissions` (in every division)."""
    state = world.sim.state
    client_id, client_secret = LOCAL_GENESYS_CREDENTIALS
    with state.lock:
        state.settings.client_id = "simulator-admin"  # the stack's id is no longer all-powerful
        state.org.oauth_clients[client_id] = OAuthClient(
            client_id, client_secret, "flowops (limited)", frozenset(permissions), None
        )


def data_action_yaml() -> str:
    return render_minimal_flow_yaml(
        "INBOUNDCALL",
        "Main IVR",
        [
            FlowReference(kind=ReferenceKind.QUEUE, name="Support"),
            FlowReference(
                kind=ReferenceKind.DATAACTION, name="Lookup Customer", category="Web Services Data Actions"
            ),
        ],
    )


def test_a_failed_then_empty_export_is_retried_and_the_snapshot_is_the_real_yaml(world: PublishWorld) -> None:
    # Given Main IVR publishing 2.0, whose export download redirects to a signed URL, and an org
    # whose next export job fails ("could not find the flow") and the one after comes back empty
    expected = next(v["yaml"] for v in world.sim_flow()["versions"] if v["id"] == "2.0")
    world.sim.set_faults("export-fail=1,export-empty=1")
    world.sim.state.counters.clear()
    # When a new version is published
    result = world.publish("publish-export-retried")
    # Then the third export gave the snapshot, and the run succeeded
    assert result.status == "SUCCEEDED", result.cause
    counters = world.counters()
    assert counters["POST /api/v2/flows/export/jobs"] >= 3  # 3 for the snapshot (+ the health check)
    assert counters.get("GET /api/v2/downloads/{downloadId}", 0) >= 2
    # and the rollback source is exactly version 2.0's YAML, fetched through the redirect
    assert world.artifact(f"flows/{world.org}/{MAIN_FLOW}/2.0.yaml").decode() == expected


def test_an_export_that_never_works_stops_the_run_before_start_publish(world: PublishWorld) -> None:
    for run, fault in (
        ("publish-export-fails", "export-fail=20"),
        ("publish-export-empty", "export-empty=20"),
    ):
        # Given an org whose exports keep failing (then: keep coming back empty)
        world.sim.set_faults(fault)
        world.sim.state.counters.clear()
        # When a new version is published
        result = world.publish(run)
        # Then the snapshot step failed the run BEFORE anything was published
        assert result.status == "FAILED", fault
        entered = result.states_entered()
        assert "SnapshotCurrentVersion" in entered and "StartPublish" not in entered
        assert "RollbackToPreviousVersion" not in entered
        assert "nothing was published" in (result.cause or "") and "attempt 5" in (result.cause or "")
        assert not [call for call in NOTHING_PUBLISHED if world.counters().get(call)]
        # and the org and the stores are unchanged: no empty rollback source was kept
        assert world.sim_flow()["publishedVersion"] == "2.0"
        assert world.artifact_keys(f"flows/{world.org}/{MAIN_FLOW}/") == []
        assert world.run_item(run).status == "FAILED"
        assert world.lease_holder() is None


def test_a_client_without_optional_permissions_publishes_a_flow_with_a_data_action(
    world: PublishWorld,
) -> None:
    # Given the stack's OAuth client holds only the required permissions (no integrations:action:edit)
    limit_client(world, role_permissions(include_optional=False))
    # When YAML that calls a data action is published
    result = world.publish("publish-limited", yaml=data_action_yaml())
    # Then the publish succeeded, with a warning naming the permission the draft check needed
    assert result.status == "SUCCEEDED", result.cause
    warnings = " | ".join(result.output["warnings"])
    assert "DATA_ACTION_DRAFT_NOT_CHECKED" in warnings and "integrations:action:edit" in warnings
    assert world.sim_flow()["publishedVersion"] == "3.0"


def test_a_view_only_client_scans_and_each_refusal_names_its_permission(world: PublishWorld) -> None:
    # Given a view-only OAuth client (flows, dependency tracking and data actions: view)
    limit_client(
        world, ("architect:flow:view", "architect:dependencyTracking:view", "integrations:action:view")
    )
    # Then a scan still works
    world.scan()
    # and a publish stops before anything is published, naming the permission it lacks
    world.sim.state.counters.clear()
    result = world.publish("publish-view-only")
    assert result.status == "FAILED"
    assert "StartPublish" not in result.states_entered()
    assert "architect:jobExport:create" in (result.cause or "")
    assert not [call for call in NOTHING_PUBLISHED if world.counters().get(call)]
    # and forcing the unlock of a flow someone holds names architect:flow:unlock
    world.sim.set_faults(f"locked={MAIN_FLOW}")
    forced = world.publish("publish-view-only-unlock", force_unlock=True)
    assert forced.status == "FAILED"
    assert "architect:flow:unlock" in (forced.cause or "")
    assert "StartPublish" not in forced.states_entered()
