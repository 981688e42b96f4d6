"""The synthesized publish state machine against the simulator: success, validation refusal,
and concurrent publishes of one flow. Failure branches with rollback: test_publish_rollback.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.publish_helpers import MAIN_FLOW, PublishWorld, new_main_yaml, start_world

pytestmark = pytest.mark.slow

JOB_CALLS = (
    "POST /api/v2/flows/jobs",
    "POST /api/v2/flows/actions/publish",
    "POST /api/v2/flows/actions/unlock",
)


@pytest.fixture
def world(start_simulator: Callable[..., Any], local_cloud_factory: Callable[..., Any]) -> PublishWorld:
    return start_world(start_simulator, local_cloud_factory)


def test_valid_yaml_is_published_recorded_and_becomes_the_next_rollback_source(world: PublishWorld) -> None:
    # Given a scanned org whose Main IVR publishes version 2.0
    assert world.sim_flow()["publishedVersion"] == "2.0"
    # When version 3 of its YAML (with environment placeholders) is published
    result = world.publish("publish-ok")
    # Then the run succeeded through every named state
    assert result.status == "SUCCEEDED", result.cause
    entered = result.states_entered()
    for state in (
        "Validate",
        "SnapshotCurrentVersion",
        "StartPublish",
        "WaitForPublishJob",
        "CheckPublishJob",
        "RecordRelease",
    ):
        assert state in entered
    assert "RollbackToPreviousVersion" not in entered
    # and the org publishes the new version, with the substituted YAML
    flow = world.sim_flow()
    assert flow["publishedVersion"] == "3.0"
    assert "Welcome to Example Corp." in world.published_yaml()
    assert result.output["published_version"] == "3.0" and result.output["previous_version"] == "2.0"
    # and the snapshot of 2.0 and the new 3.0 YAML are both kept as rollback sources
    prefix = f"flows/{world.org}/{MAIN_FLOW}/"
    keys = world.artifact_keys(prefix)
    assert keys == [f"{prefix}2.0.yaml", f"{prefix}3.0.yaml", f"{prefix}releases.json"]
    assert "Example Corp" in world.artifact(keys[1]).decode()
    # and the known-good history holds the baseline 2.0 and the verified release 3.0
    history = json.loads(world.artifact(f"{prefix}releases.json"))
    assert [(e["version"], e["run_id"], e["withdrawn"]) for e in history["entries"]] == [
        ("2.0", "baseline", False),
        ("3.0", "publish-ok", False),
    ]
    # and the lock, run item, audit trail and lease all agree
    locked = world.lock().flow(MAIN_FLOW)
    assert locked.published_version == "3.0"
    # the data action was dropped (system prompts the platform lists for every call flow aside)
    assert {dep.id for dep in locked.consumes if dep.type != "SYSTEMPROMPT"} == {"q-support", "m-menu"}
    assert not {dep.type for dep in locked.consumes} & {"FLOWACTION", "FLOWDATATYPE", "LANGUAGE"}
    run = world.run_item("publish-ok")
    assert run.status == "SUCCEEDED" and run.details["snapshot_version"] == "2.0"
    assert world.audit_kinds("publish-ok") == ["publish.released"]
    assert world.lease_holder() is None
    # and the polling waited the first interval, then the short interval (the job is young)
    waits = result.delays_of("WaitForPublishJob", "wait")
    assert waits and waits[0] == 2 and set(waits[1:]) <= {3}


def test_invalid_request_fails_validation_without_touching_genesys(world: PublishWorld) -> None:
    # Given YAML for the wrong flow name that also uses a deleted queue
    yaml = new_main_yaml(queue="Old Queue").replace("name: Main IVR", "name: Main IVR Copy", 1)
    world.sim.state.counters.clear()
    # When it is published
    result = world.publish("publish-invalid", yaml=yaml)
    # Then the run stops in ValidationFailed naming each problem with its code
    assert result.status == "FAILED"
    assert result.error == "Publish.ValidationFailed"
    assert "FLOW_NAME_MISMATCH" in (result.cause or "") and "REFERENCE_DELETED" in (result.cause or "")
    assert "SnapshotCurrentVersion" not in result.states_entered()
    # and Genesys saw no job, publish or unlock; the flow is unchanged
    counters = world.counters()
    assert not [call for call in JOB_CALLS if counters.get(call)]
    assert world.sim_flow()["publishedVersion"] == "2.0"
    # and the run item, audit trail and lease say so
    run = world.run_item("publish-invalid")
    assert run.status == "FAILED" and "REFERENCE_DELETED" in run.details["error_codes"]
    assert world.audit_kinds("publish-invalid") == ["publish.validation_failed"]
    assert world.lease_holder() is None
    assert world.artifact_keys(f"flows/{world.org}/") == []
