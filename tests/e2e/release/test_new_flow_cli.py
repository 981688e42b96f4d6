"""A flow the org does not have yet: `flowops validate` validates it as a create (it used to say
FLOW_NOT_FOUND … use Archy) and `flowops publish` creates it through a one-flow release."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.release.helpers import ReleaseWorld
from tests.e2e.release.test_release_cli import world as cli_world  # noqa: F401 - the fixture
from tests.integration.release.world import ENV, flow_yaml, module, queue, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture
def world(cli_world: ReleaseWorld) -> ReleaseWorld:  # noqa: F811
    scan = cli_world.cloud.start_and_wait(
        "ScanWorkflow/StateMachine", {"page_size": 50}, name="scan-1", timeout=120
    )
    assert scan.status == "SUCCEEDED", scan.cause
    cli_world.cloud.s3.put_object(
        Bucket=cli_world.env["ARTIFACTS_BUCKET"],
        Key=f"config/{cli_world.org}/substitutions/{ENV}.json",
        Body=json.dumps({"line_queue": "Sales"}).encode(),
    )
    return cli_world


def test_a_new_flow_validates_as_a_create_and_publishing_creates_it(
    world: ReleaseWorld, tmp_path: Path
) -> None:
    # Given YAML of a flow the org does not have, using the module and a substituted queue
    path = tmp_path / "new-line.yaml"
    path.write_text(flow_yaml("INBOUNDCALL", "New Line", module("Shared Menu"), queue("{{line_queue}}")))
    # When it is validated
    validated = run_cli("validate", "--yaml", str(path), "--env", ENV)
    # Then it is valid, and says publishing creates it
    assert validated.exit_code == 0, validated.output
    assert "NEW_FLOW" in validated.stdout and "FLOW_NOT_FOUND" not in validated.stdout
    # When a misspelt queue is used, validation names it (live lookup), exit 1
    bad = tmp_path / "bad.yaml"
    bad.write_text(flow_yaml("INBOUNDCALL", "New Line", queue("Salse")))
    invalid = run_cli("validate", "--yaml", str(bad), "--env", ENV)
    assert invalid.exit_code == 1 and "Unable to find a queue named 'Salse'." in invalid.stdout
    # When the good file is published
    published = run_cli(
        "publish", "--flow", "New Line", "--type", "INBOUNDCALL", "--yaml", str(path), "--env", ENV
    )
    # Then the flow exists and publishes version 1.0
    assert published.exit_code == 0, published.output
    assert "a new flow: created through a one-flow release" in published.stdout
    assert world.published_versions()["INBOUNDCALL/New Line"] == "1.0"
