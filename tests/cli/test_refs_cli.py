"""`flowops refs FILE`: references of a flow YAML, offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowops.cli import app, exit_codes

FLOW = """\
inboundCall:
  name: "{{flow_name}}"
  startUpRef: ./tasks/task[main]
  tasks:
    - task:
        name: Main
        refId: main
        actions:
          - findQueue:
              name: Find
              findName:
                lit: Overflow
              findResult:
                var: Task.q
          - callData:
              name: Lookup
              category:
                "{{integration}}":
                  dataAction:
                    Get Account:
                      inputs: {}
          - transferToAcd:
              name: Transfer
              targetQueue:
                lit:
                  name: "{{queue}}"
              overrideInQueueFlow:
                name: Hold Flow
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.usefixtures("no_cloud")
def test_refs_json_lists_every_reference_with_its_environment_values(tmp_path: Path) -> None:
    # Given a flow with placeholders and a per-environment substitutions file
    flow = _write(tmp_path, "flow.yaml", FLOW)
    subs = _write(
        tmp_path,
        "subs.yaml",
        "substitutions: {integration: Web Services}\n"
        "environments:\n  prod: {flow_name: Main IVR, queue: Support}\n",
    )

    # When refs runs offline for prod
    result = CliRunner().invoke(
        app, ["refs", str(flow), "--substitutions", str(subs), "--env", "prod", "--json"]
    )

    # Then the references carry kind, name, integration, object type, soft and locations
    assert result.exit_code == exit_codes.OK, result.output
    document = json.loads(result.stdout)
    assert document["flow"] == {"name": "Main IVR", "type": "INBOUNDCALL", "yaml_key": "inboundCall"}
    by_name = {ref["name"]: ref for ref in document["references"]}
    assert by_name["Get Account"]["integration"] == "Web Services"
    assert by_name["Hold Flow"]["object_type"] == "INQUEUECALLFLOW"
    assert by_name["Overflow"]["soft"] is True
    assert by_name["Support"]["soft"] is False
    assert by_name["Support"]["locations"] == [
        "/inboundCall/tasks/task[main]/actions[2]/transferToAcd/targetQueue"
    ]
    assert document["unresolved_placeholders"] == []


@pytest.mark.usefixtures("no_cloud")
def test_refs_without_substitutions_keeps_placeholder_names_and_says_so(tmp_path: Path) -> None:
    flow = _write(tmp_path, "flow.yaml", FLOW)
    result = CliRunner().invoke(app, ["refs", str(flow)])
    assert result.exit_code == exit_codes.OK, result.output
    assert "'{{queue}}'" in result.stdout
    assert "placeholders without a value" in result.stdout


@pytest.mark.usefixtures("no_cloud")
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--env", "prod"], "--env needs --substitutions"),
        (["--substitutions", "SUBS", "--env", "qa"], "unknown environment 'qa'"),
        (["--substitutions", "SUBS", "--env", "prod"], "no value for placeholder(s): integration"),
    ],
)
def test_refs_usage_errors_are_one_line_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    # Given a flow and a file with only prod's values (no shared integration)
    flow = _write(tmp_path, "flow.yaml", FLOW)
    subs = _write(tmp_path, "subs.yaml", "environments:\n  prod: {flow_name: F, queue: Q}\n")
    argv = ["refs", str(flow), *[str(subs) if a == "SUBS" else a for a in args]]

    # When refs runs / Then one error line, exit 2
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == exit_codes.USAGE_ERROR
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.mark.usefixtures("no_cloud")
def test_refs_on_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["refs", str(tmp_path / "absent.yaml")])
    assert result.exit_code == exit_codes.USAGE_ERROR
    assert result.stderr.startswith("error: cannot read flow YAML")
