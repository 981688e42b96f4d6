"""The CLI's path into the pipeline: a SIGNED webhook to the stack's webhook function (API
Gateway event), then the execution followed state by state; and the demo's two publishes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from local.cli.local_cloud import CloudConnection
from local.cli.publish import (
    PublishCommandError,
    previous_recorded_version,
    publish_via_webhook,
    run_demo_publishes,
    validate_request,
)
from tests.e2e.publish_helpers import ENVIRONMENT, MAIN_FLOW, PublishWorld, new_main_yaml, start_world

pytestmark = pytest.mark.slow


def connection_of(world: PublishWorld) -> CloudConnection:
    env = world.env
    return CloudConnection(
        aws_endpoint_url=None,
        region=world.cloud.region,
        org=env["FLOWOPS_ORG"],
        artifacts_bucket=env["ARTIFACTS_BUCKET"],
        state_table=env["STATE_TABLE"],
        audit_table=env["AUDIT_TABLE"],
        genesys_base_url=world.sim.url,
    )


@pytest.fixture
def world(start_simulator: Callable[..., Any], local_cloud_factory: Callable[..., Any]) -> PublishWorld:
    return start_world(start_simulator, local_cloud_factory)


def test_signed_webhook_starts_the_run_and_each_state_is_reported_then_rollback_redeploys(
    world: PublishWorld,
) -> None:
    connection = connection_of(world)
    seen: list[str] = []
    # When the CLI publishes version 3 through the webhook
    request = {
        "flow": {"id": MAIN_FLOW},
        "environment": ENVIRONMENT,
        "yaml": new_main_yaml(),
        "requester": "dev@example.com",
        "reason": "cli e2e",
    }
    summary = publish_via_webhook(connection, request, on_state=seen.append, timeout=120)
    # Then the execution ran to success and every state was reported as it was entered
    assert summary["status"] == "SUCCEEDED", summary["cause"]
    assert seen == summary["states"] and seen[:3] == ["StartPublishRun", "Validate", "IsThePublishValid"]
    assert world.sim_flow()["publishedVersion"] == "3.0"
    # And `flowops rollback` finds the previous recorded version and redeploys it the same way
    key = previous_recorded_version(connection, MAIN_FLOW, "3.0")
    assert key == f"flows/{world.org}/{MAIN_FLOW}/2.0.yaml"
    rollback = publish_via_webhook(
        connection,
        {
            "flow": {"id": MAIN_FLOW},
            "environment": ENVIRONMENT,
            "yaml_s3_key": key,
            "requester": "dev",
            "reason": "roll back",
        },
        timeout=120,
    )
    assert rollback["status"] == "SUCCEEDED", rollback["cause"]
    assert world.published_yaml() == world.artifact(key).decode()


def test_webhook_refusal_is_a_usage_error_and_starts_nothing(world: PublishWorld) -> None:
    connection = connection_of(world)
    request = {
        "flow": {"id": "f-unknown"},
        "environment": ENVIRONMENT,
        "yaml": new_main_yaml(),
        "requester": "dev",
        "reason": "unknown flow",
    }
    with pytest.raises(PublishCommandError) as refused:
        publish_via_webhook(connection, request, timeout=30)
    assert refused.value.exit_code == 2 and "HTTP 404" in str(refused.value)
    executions = world.cloud.sfn.list_executions(
        stateMachineArn=world.cloud.state_machine_arn("PublishWorkflow/StateMachine")
    )
    assert executions["executions"] == []


def test_an_alias_bomb_is_refused_by_the_webhook_as_a_usage_error(world: PublishWorld) -> None:
    from tests.unit.flowyaml.test_hostile_input import ALIAS_BOMB

    # Given a signed publish of an alias bomb (about 400 bytes, ~387 million values expanded)
    request = {
        "flow": {"id": MAIN_FLOW},
        "environment": ENVIRONMENT,
        "yaml": ALIAS_BOMB.replace("name: Bomb", "name: Main IVR"),
        "requester": "dev",
        "reason": "hostile",
    }
    # When the CLI sends it / Then HTTP 400 names the limit, exit 2, and nothing started
    with pytest.raises(PublishCommandError) as refused:
        publish_via_webhook(connection_of(world), request, timeout=30)
    assert refused.value.exit_code == 2 and "HTTP 400" in str(refused.value)
    assert "expands to more than 200000 values" in str(refused.value)
    executions = world.cloud.sfn.list_executions(
        stateMachineArn=world.cloud.state_machine_arn("PublishWorkflow/StateMachine")
    )
    assert executions["executions"] == []


def test_validate_alone_reports_findings_and_changes_nothing(world: PublishWorld) -> None:
    report = validate_request(
        connection_of(world), {"id": MAIN_FLOW}, new_main_yaml(queue="Old Queue"), ENVIRONMENT
    )
    assert [finding.code for finding in report.errors] == ["REFERENCE_DELETED"]
    assert not world.counters().get("POST /api/v2/flows/jobs")


def test_demo_runs_one_good_and_one_rolled_back_publish(world: PublishWorld) -> None:
    summaries = run_demo_publishes(connection_of(world), timeout=120)
    good, typo, bad = summaries
    assert good["status"] == "SUCCEEDED", good["cause"]
    # The typo never reaches Architect: validation names the missing queue in Architect's words
    assert typo["status"] == "FAILED" and typo["error"] == "Publish.ValidationFailed"
    assert "Unable to find a queue named 'Queue That Does Not Exist'." in typo["cause"]
    assert "StartPublish" not in typo["states"]
    # Architect failing the job is rolled back
    assert bad["status"] == "FAILED" and bad["error"] == "Publish.RolledBack"
    assert "the flow could not be generated" in bad["cause"]
    assert "RollbackToPreviousVersion" in bad["states"]
    flow_id = good["flow_id"]
    assert (
        world.published_yaml(flow_id)
        == world.artifact(f"flows/{world.org}/{flow_id}/{good['output']['published_version']}.yaml").decode()
    )
