"""Release failures: a failing second wave rolls back EVERY flow the release changed (the org ends
equal to before by content, created flows deleted); a rollback that fails ends RollbackFailed and
notifies; 429/5xx storms are absorbed; a flow locked in Architect stops the release untouched."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flowops.local.simulator.model import Principal
from tests.e2e.release.helpers import RELEASE_STATE_MACHINE, ReleaseWorld, start_release_world
from tests.integration.release.world import AFTER, ENV, MAIN, MODULE, flow_yaml, module, queue

pytestmark = pytest.mark.slow

# Wave 1: the module. Wave 2: its consumers (Main IVR, After Hours republished), a new flow calling
# it, and Sales Line changed to call it too — the flow the tests make fail.
RELEASE = {
    "commonModule/shared-menu.yaml": flow_yaml(
        "COMMONMODULE", "Shared Menu", queue("Sales"), description="v2"
    ),
    "inboundCall/new-line.yaml": flow_yaml("INBOUNDCALL", "New Line", module("Shared Menu")),
    "inboundCall/sales-line.yaml": flow_yaml(
        "INBOUNDCALL", "Sales Line", queue("Sales"), module("Shared Menu")
    ),
}


@pytest.fixture
def world(
    start_simulator: Callable[..., Any], local_cloud_factory: Callable[..., Any], tmp_path: Path
) -> ReleaseWorld:
    return start_release_world(start_simulator, local_cloud_factory, tmp_path)


def test_a_failure_in_wave_two_rolls_back_every_changed_flow(world: ReleaseWorld) -> None:
    # Given the org (its lock) before the release, and Architect failing Sales Line's publish
    world.seed_lock()
    before = world.org_content()
    versions_before = world.published_versions()
    world.sim.set_faults("publish-fail=Sales Line")
    # When the release runs
    result = world.release("release-wave2-fails", RELEASE)
    # Then it ends RolledBack, naming the failed flow
    assert result.status == "FAILED" and result.error == "Release.RolledBack", result.cause
    assert "Sales Line" in (result.cause or "")
    entered = result.states_entered()
    for state in (
        "PlanRollback",
        "RollBackWaves",
        "StartFlowRollback",
        "VerifyFlowRestored",
        "RecordRolledBack",
    ):
        assert state in entered
    # and the org is equal to before BY CONTENT: every flow publishes its old YAML again, the
    # created flow is gone
    assert world.org_content() == before
    assert "INBOUNDCALL/New Line" not in world.published_versions()
    # and the restorations are new versions (Architect never reverts in place) of the moved flows
    after = world.published_versions()
    assert after["COMMONMODULE/Shared Menu"] == "3.0"  # 2.0 released, 3.0 = the content of 1.0
    assert after["INBOUNDCALL/Main IVR"] == "4.0" and after["INBOUNDCALL/After Hours"] == "3.0"
    assert after["INBOUNDCALL/Sales Line"] == versions_before["INBOUNDCALL/Sales Line"]  # never moved
    # and the consumers were restored AFTER the module: they are bound to the restored module
    assert world.module_snapshot(MAIN) == "3.0" and world.module_snapshot(AFTER) == "3.0"
    # and the lock says what the org runs: restored versions, no created flow
    assert world.lock_versions() == after
    # and the record and the audit trail say so
    record = world.record("release-wave2-fails")
    assert record.status == "ROLLED_BACK"
    restored = {row["key"]: row for row in record.details["restored"]}
    assert set(restored) == {
        "COMMONMODULE/Shared Menu",
        "INBOUNDCALL/Main IVR",
        "INBOUNDCALL/After Hours",
        "INBOUNDCALL/New Line",
    }
    assert all(row["ok"] for row in restored.values())
    assert world.audit_kinds("release-wave2-fails") == [
        "release.started",
        "release.rolling_back",
        "release.rolled_back",
    ]
    assert world.lease_holders() == []


def test_a_rollback_that_fails_ends_rollback_failed_and_notifies(world: ReleaseWorld) -> None:
    # Given Sales Line fails in wave 2, and once the module is released Architect also refuses
    # every further deploy of the module (its rollback will fail)
    world.sim.set_faults("publish-fail=Sales Line")
    request = {
        **world.upload(RELEASE),
        "environment": ENV,
        "requester": "ci@example.com",
        "reason": "e2e rollback fails",
    }
    started = world.cloud.sfn.start_execution(
        stateMachineArn=world.cloud.state_machine_arn(RELEASE_STATE_MACHINE),
        name="release-rollback-fails",
        input=json.dumps(request),
    )
    deadline = time.monotonic() + 120
    while world.sim.org.flows[MODULE].published_version_id != "2.0" and time.monotonic() < deadline:
        time.sleep(0.01)
    world.sim.set_faults("publish-fail=Sales Line,publish-fail=Shared Menu")
    from flowops.local.runtime.execution import wait_for_execution

    result = wait_for_execution(world.cloud, started["executionArn"], timeout=240)
    # Then it ends RollbackFailed, with the flow it could not restore in the cause
    assert result.status == "FAILED" and result.error == "Release.RollbackFailed", result.cause
    assert "rollback FAILED for 1 flow(s): COMMONMODULE/Shared Menu" in (result.cause or "")
    assert "NotifyRollbackFailed" in result.states_entered()
    # and the others were still restored (the rollback does not stop at the first failure)
    assert "INBOUNDCALL/New Line" not in world.published_versions()
    assert world.record("release-rollback-fails").status == "ROLLBACK_FAILED"
    assert world.audit_kinds("release-rollback-fails")[-1] == "release.rollback_failed"
    assert any("ROLLBACK_FAILED" in message for message in world.sns_subjects())
    assert world.lease_holders() == []


def test_rate_limit_and_server_error_storms_are_absorbed(world: ReleaseWorld) -> None:
    # Given an org whose rate limit dropped to 40 requests per minute and that answers 5xx often
    world.sim.set_faults("storm=40,5xx=0.15,seed=3")
    # When the module release runs
    result = world.release(
        "release-storm", {k: v for k, v in RELEASE.items() if "sales" not in k}, timeout=400
    )
    # Then it succeeded anyway
    world.sim.set_faults("")
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert world.published_versions()["COMMONMODULE/Shared Menu"] == "2.0"
    assert world.record("release-storm").status == "SUCCEEDED"


def test_a_flow_locked_by_someone_else_stops_the_release_before_anything_changes(world: ReleaseWorld) -> None:
    # Given Jane has Main IVR (a consumer of the module) checked out in Architect
    world.sim.org.flows[MAIN].locked_by = Principal(
        "u-jane", "Jane Architect", "architect-ui", "Architect UI"
    )
    before = world.published_versions()
    world.sim.state.counters.clear()
    # When the module release runs
    result = world.release("release-locked", RELEASE)
    # Then it is invalid, names the holder, and nothing was deployed
    assert result.status == "FAILED" and result.error == "Release.Invalid"
    assert "FLOW_LOCKED" in (result.cause or "") and "Jane Architect" in (result.cause or "")
    assert not world.counters().get("POST /api/v2/flows/jobs")
    assert world.published_versions() == before
    assert world.record("release-locked").status == "FAILED"
    assert world.lease_holders() == []
