"""The CLI's path into the pipeline: a SIGNED webhook to the stack's webhook function (API
Gateway event), then the execution followed state by state; and the demo's two publishes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from flowops.cli.local_cloud import CloudConnection
from flowops.cli.publish import (
    PublishCommandError,
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


def test_signed_webhook_starts_the_run_and_each_state_is_reported(world: PublishWorld) -> None:
    connection = connection_of(world)
    seen: list[str] = []
    # When the CLI publishes version 3 through the webhook
    summary = publish_via_webhook(connection, publish_request(), on_state=seen.append, timeout=120)
    # Then the execution ran to success and every state was reported as it was entered
    assert summary["status"] == "SUCCEEDED", summary["cause"]
    assert seen == summary["states"] and seen[:3] == ["StartPublishRun", "Validate", "IsThePublishValid"]
    assert world.sim_flow()["publishedVersion"] == "3.0"


MAIN_BY_NAME = ("--flow", "Main IVR", "--type", "INBOUNDCALL")


def publish_request(greeting: str = "Welcome to {{brand}}.") -> dict[str, Any]:
    return {
        "flow": {"id": MAIN_FLOW},
        "environment": ENVIRONMENT,
        "yaml": new_main_yaml(greeting=greeting),
        "requester": "dev@example.com",
        "reason": "cli e2e",
    }


@pytest.fixture
def cli(world: PublishWorld, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """`flowops <args>` against this world's cloud (the command's own cloud lookup bypassed)."""
    import contextlib

    from typer.testing import CliRunner

    import flowops.cli.publish as publish_module
    from flowops.cli import app

    @contextlib.contextmanager
    def this_world(environment: str) -> Any:
        yield connection_of(world)

    monkeypatch.setattr(publish_module, "cloud_for_command", this_world)
    return lambda *args: CliRunner().invoke(app, list(args))


def test_rollback_goes_to_the_last_known_good_release_and_twice_is_once(
    world: PublishWorld, cli: Callable[..., Any]
) -> None:
    # Given releases 3.0 (good) and then 4.0 (the bad one) published through the pipeline
    connection = connection_of(world)
    for greeting in ("Release three.", "Release four."):
        assert (
            publish_via_webhook(connection, publish_request(greeting), timeout=120)["status"] == "SUCCEEDED"
        )
    release_three = world.artifact(f"flows/{world.org}/{MAIN_FLOW}/3.0.yaml").decode()
    # When `flowops rollback` runs
    first = cli("rollback", *MAIN_BY_NAME, "--env", ENVIRONMENT)
    # Then release 3.0's content is live as a new version 5.0, and the CLI says so (exit 0)
    assert first.exit_code == 0, first.output
    assert world.sim_flow()["publishedVersion"] == "5.0"
    assert world.published_yaml() == release_three
    assert "version 5.0 is live and runs the content of release 3.0" in first.stdout
    history = json.loads(world.artifact(f"flows/{world.org}/{MAIN_FLOW}/releases.json"))
    states = {entry["version"]: (entry["restores"], entry["withdrawn"]) for entry in history["entries"]}
    assert states == {"2.0": (None, False), "3.0": (None, False), "4.0": (None, True), "5.0": ("3.0", False)}
    # When it runs again
    second = cli("rollback", *MAIN_BY_NAME, "--env", ENVIRONMENT)
    # Then nothing is deployed: the flow already runs the known-good release (twice = once)
    assert second.exit_code == 0, second.output
    assert "already runs known-good release 3.0" in second.stdout
    assert world.sim_flow()["publishedVersion"] == "5.0" and world.published_yaml() == release_three
    assert world.lock().flow(MAIN_FLOW).published_version == "5.0"


def test_rollback_to_an_explicit_version_and_to_an_unknown_one(
    world: PublishWorld, cli: Callable[..., Any]
) -> None:
    # Given release 3.0 published through the pipeline over the baseline 2.0
    connection = connection_of(world)
    assert publish_via_webhook(connection, publish_request(), timeout=120)["status"] == "SUCCEEDED"
    # When `flowops rollback --to-version 2.0 --json` runs
    result = cli("rollback", *MAIN_BY_NAME, "--env", ENVIRONMENT, "--to-version", "2.0", "--json")
    # Then 2.0's content is live as 4.0 and the JSON names the version and the content
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["output"]["published_version"] == "4.0" and summary["plan"]["target"] == "2.0"
    assert world.published_yaml() == world.artifact(f"flows/{world.org}/{MAIN_FLOW}/2.0.yaml").decode()
    # When a version that was never stored is named: one error line, usage exit code, no run
    unknown = cli("rollback", *MAIN_BY_NAME, "--env", ENVIRONMENT, "--to-version", "9.0")
    assert unknown.exit_code == 2
    assert unknown.stderr.startswith("error: no stored release 9.0") and unknown.stderr.count("\n") == 1
    assert world.sim_flow()["publishedVersion"] == "4.0"


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
    # Architect failing the job changed nothing: the published version never moved, so nothing
    # is redeployed and nobody is paged (PublishFailed)
    assert bad["status"] == "FAILED" and bad["error"] == "Publish.JobFailed"
    assert "the flow could not be generated" in bad["cause"] and "nothing to roll back" in bad["cause"]
    assert bad["states"][-1] == "PublishFailed" and "WaitForRollback" not in bad["states"]
    flow_id = good["flow_id"]
    assert (
        world.published_yaml(flow_id)
        == world.artifact(f"flows/{world.org}/{flow_id}/{good['output']['published_version']}.yaml").decode()
    )
