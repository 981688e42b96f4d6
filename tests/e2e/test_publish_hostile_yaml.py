"""Hostile YAML reaching the synthesized publish state machine directly (not through the webhook,
which refuses it with 400): the Validate Lambda refuses it as a validation error instead of
dying (the 25,000-deep document segfaulted it), nothing is published, nothing becomes a
rollback source, and an oversized upload by S3 key is refused without being read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.publish_helpers import PublishWorld, start_world
from tests.unit.flowyaml.test_hostile_input import ALIAS_BOMB, DEEP_FLOW_STYLE

pytestmark = pytest.mark.slow

JOB_CALLS = ("POST /api/v2/flows/jobs", "POST /api/v2/flows/actions/publish")


@pytest.fixture
def world(start_simulator: Callable[..., Any], local_cloud_factory: Callable[..., Any]) -> PublishWorld:
    return start_world(start_simulator, local_cloud_factory)


def assert_refused_in_validation(world: PublishWorld, run_id: str, result: Any, needle: str) -> None:
    assert result.status == "FAILED"
    assert result.error == "Publish.ValidationFailed", result.cause
    assert needle in (result.cause or "")
    assert "SnapshotCurrentVersion" not in result.states_entered()
    assert world.run_item(run_id).status == "FAILED"
    assert world.audit_kinds(run_id) == ["publish.validation_failed"]
    assert world.lease_holder() is None
    counters = world.counters()
    assert not [call for call in JOB_CALLS if counters.get(call)]
    assert world.sim_flow()["publishedVersion"] == "2.0"
    assert world.artifact_keys(f"flows/{world.org}/") == []


@pytest.mark.parametrize(
    ("yaml_text", "needle"),
    [
        (DEEP_FLOW_STYLE.replace("name: Deep", "name: Main IVR"), "nested more than 128 levels"),
        (ALIAS_BOMB.replace("name: Bomb", "name: Main IVR"), "expands to more than 200000 values"),
    ],
    ids=["deep", "alias-bomb"],
)
def test_hostile_inline_yaml_is_a_validation_failure(
    world: PublishWorld, yaml_text: str, needle: str
) -> None:
    # Given a publish execution whose inline YAML is nested 25,000 deep, or an alias bomb
    world.sim.state.counters.clear()
    run_id = f"publish-hostile-{needle.split()[0]}"
    # When it runs / Then Validate refuses it, and nothing in Genesys or the records changed
    result = world.publish(run_id, yaml=yaml_text)
    assert_refused_in_validation(world, run_id, result, needle)


def test_an_uploaded_yaml_over_2_mib_is_refused_from_its_length(world: PublishWorld) -> None:
    # Given a 3 MiB flow YAML uploaded to the artifacts bucket
    key = "uploads/huge.yaml"
    body = b"inboundCall:\n  name: Main IVR\n  description: " + b"x" * (3 * 1024 * 1024) + b"\n"
    world.cloud.s3.put_object(Bucket=world.env["ARTIFACTS_BUCKET"], Key=key, Body=body)
    world.sim.state.counters.clear()
    # When a publish names it by key
    request = world.request("publish-huge-upload")
    request["source"] = {"kind": "s3", "yaml_s3_key": key}
    result = world.cloud.start_and_wait(
        "PublishWorkflow/StateMachine", request, name="publish-huge-upload", timeout=120
    )
    # Then validation refuses it by size, naming the limit
    assert_refused_in_validation(world, "publish-huge-upload", result, "YAML_SOURCE_TOO_LARGE")
    assert "the limit for this read is 2097152 bytes" in (result.cause or "")
