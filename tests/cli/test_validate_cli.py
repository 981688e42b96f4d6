"""`flowops validate`: the YAML's own name and type (after substitution) are the target; unknown
environments are usage errors, as the webhook refuses them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flowops.cli import app, exit_codes, local_cloud
from flowops.cli.local_cloud import TargetSelection
from flowops.cli.publish import PublishCommandError, validation_target

TERRAFORM_STYLE = """\
inboundCall:
  name: "{{flow_name}}"
  startUpRef: ./tasks/task[main]
  tasks:
    - task:
        name: Main
        refId: main
        actions:
          - disconnect:
              name: Bye
"""


@pytest.fixture(autouse=True)
def target_not_chosen() -> Any:
    local_cloud.select_target(TargetSelection())
    yield
    local_cloud.select_target(TargetSelection())


def test_the_target_name_is_read_after_substitution() -> None:
    # Given Terraform-style YAML whose name is a placeholder, and the environment's values
    # When the target is taken from the YAML
    target = validation_target(TERRAFORM_STYLE, {"flow_name": "Main IVR"}, None, None)
    # Then it is the substituted name, never the literal "{{flow_name}}"
    assert target == {"name": "Main IVR", "type": "INBOUNDCALL"}


def test_a_target_placeholder_without_a_value_is_a_usage_error() -> None:
    with pytest.raises(PublishCommandError) as raised:
        validation_target(TERRAFORM_STYLE, {}, None, None)
    assert raised.value.exit_code == exit_codes.USAGE_ERROR
    assert "flow_name" in str(raised.value)


def test_a_type_that_contradicts_the_substituted_yaml_is_a_usage_error() -> None:
    with pytest.raises(PublishCommandError, match="contradicts the YAML"):
        validation_target(TERRAFORM_STYLE, {"flow_name": "Main IVR"}, "Main IVR", "INQUEUECALL")


def test_an_environment_that_does_not_exist_is_one_usage_error_line(cli_cloud: Any, tmp_path: Path) -> None:
    # Given a stack whose only environment is "dev"
    s3 = cli_cloud.client("s3")
    bucket = cli_cloud.function_environment("CheckDependencyIndex")["ARTIFACTS_BUCKET"]
    org = cli_cloud.function_environment("CheckDependencyIndex").get("FLOWOPS_ORG", "dev")
    s3.put_object(Bucket=bucket, Key=f"config/{org}/substitutions/dev.json", Body=json.dumps({}).encode())
    yaml_file = tmp_path / "flow.yaml"
    yaml_file.write_text(TERRAFORM_STYLE, encoding="utf-8")

    # When validate is asked for prod
    result = CliRunner().invoke(app, ["validate", "--yaml", str(yaml_file), "--env", "prod"])

    # Then exit 2, one line naming the known environments
    assert result.exit_code == exit_codes.USAGE_ERROR, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no environment 'prod'"), result.output
    assert "(known: dev)" in lines[0]
