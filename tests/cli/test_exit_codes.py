"""Exit codes and one-line errors of the commands that had no CLI-level test (docs/cli.md).

Each test stops the command before it needs a running pipeline, so they stay fast; the
happy paths of these commands run in tests/e2e (publish/rollback, demo) where a whole
execution is affordable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flowops.cli import app, exit_codes, local_cloud
from flowops.cli.local_cloud import TargetSelection
from flowops.graph import analyze
from flowops.lock import lock_document_bytes
from tests.unit.lock.org_files import load_org_lock


@pytest.fixture(autouse=True)
def target_not_chosen() -> Any:
    local_cloud.select_target(TargetSelection())
    yield
    local_cloud.select_target(TargetSelection())


def one_line_error(result: Any) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    return str(lines[0])


def lock_file(tmp_path: Path, org: str) -> str:
    path = tmp_path / f"{org}.lock.json"
    path.write_bytes(lock_document_bytes(load_org_lock(org)))
    return str(path)


def test_graph_problems_exits_1_with_the_problems_as_json(tmp_path: Path, no_cloud: None) -> None:
    # Given a lock where a flow consumes something the org does not have
    path = lock_file(tmp_path, "missing_reference")
    expected = analyze(load_org_lock("missing_reference"))

    # When its problems are asked for as JSON
    result = CliRunner().invoke(app, ["graph", "problems", "--json", "--lock-file", path])

    # Then the document lists the analysis' problems and missing objects, and the exit code says "found"
    assert result.exit_code == exit_codes.FAILURE_FOUND, result.output
    document = json.loads(result.stdout)
    assert document["missing"] == expected.missing and document["missing"]
    assert [problem["code"] for problem in document["problems"]] == [p.code for p in expected.problems]


def test_graph_problems_exits_0_for_a_clean_lock(tmp_path: Path, no_cloud: None) -> None:
    result = CliRunner().invoke(
        app, ["graph", "problems", "--json", "--lock-file", lock_file(tmp_path, "diamond")]
    )
    assert result.exit_code == exit_codes.OK, result.output
    assert json.loads(result.stdout)["problems"] == []


def test_local_up_rejects_a_bad_org_file_and_fault_spec_before_starting(
    tmp_path: Path, no_cloud: None
) -> None:
    # Given an org file that does not exist, and a fault spec that does not parse
    missing = runner_invoke(["local", "up", "--org-file", str(tmp_path / "absent.json")])
    bad_faults = runner_invoke(["local", "up", "--faults", "bogus=1"])

    # Then each is one error line with exit 2
    assert missing.exit_code == bad_faults.exit_code == exit_codes.USAGE_ERROR
    assert "absent.json" in one_line_error(missing)
    assert "bogus" in one_line_error(bad_faults)


def test_publish_input_errors_are_usage_errors(tmp_path: Path, no_cloud: None) -> None:
    yaml_file = tmp_path / "flow.yaml"
    yaml_file.write_text("inboundCall:\n  name: Main\n", encoding="utf-8")
    # Neither --yaml nor --version
    neither = runner_invoke(["publish", "--flow", "Main", "--type", "INBOUNDCALL"])
    # A flow type that does not exist (checked before any cloud starts)
    bad_type = runner_invoke(["publish", "--flow", "Main", "--type", "FOO", "--yaml", str(yaml_file)])
    assert neither.exit_code == bad_type.exit_code == exit_codes.USAGE_ERROR
    assert "exactly one of --yaml" in one_line_error(neither)
    assert "unknown --type 'FOO'" in one_line_error(bad_type)


def test_validate_without_a_target_in_an_unreadable_yaml_is_a_usage_error(
    tmp_path: Path, no_cloud: None
) -> None:
    # Given YAML that names no flow, and no --flow
    yaml_file = tmp_path / "flow.yaml"
    yaml_file.write_text("just: [a, list\n", encoding="utf-8")

    # When it is validated
    result = runner_invoke(["validate", "--yaml", str(yaml_file), "--json"])

    # Then the user is asked for --flow, exit 2, nothing on stdout
    assert result.exit_code == exit_codes.USAGE_ERROR, result.output
    assert "pass --flow" in one_line_error(result)
    assert result.stdout == ""


FLOW_ID = "0f1e2d3c-0000-4000-8000-000000000001"


def test_rollback_against_a_missing_stack_is_a_configuration_error(moto_aws: None, no_cloud: None) -> None:
    result = runner_invoke(
        ["--stack", "Flowops-gone", "--region", "us-east-1", "rollback", "--flow", FLOW_ID]
    )
    assert result.exit_code == exit_codes.USAGE_ERROR, result.output
    assert "'Flowops-gone'" in one_line_error(result)


def test_trace_redrive_without_a_cloud_is_unreachable(no_cloud: None) -> None:
    result = runner_invoke(["trace", "redrive", "--json"])
    assert result.exit_code == exit_codes.UNREACHABLE, result.output
    assert "flowops local up" in one_line_error(result)


def test_demo_rejects_an_org_too_small_for_its_story(no_cloud: None) -> None:
    # The demo needs cycles, modules and inbound flows: fewer than 10 flows is refused by option parsing.
    result = runner_invoke(["demo", "--flows", "5"])
    assert result.exit_code == exit_codes.USAGE_ERROR
    assert "Traceback" not in result.output


def runner_invoke(arguments: list[str]) -> Any:
    return CliRunner().invoke(app, arguments)


INBOUND_YAML = 'inboundCall:\n  name: "{{flow_name}}"\n  startUpRef: ./tasks/task[t]\n'


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--type", "FOO"], "unknown --type 'FOO'; use one of: INBOUNDCALL"),
        (["--type", "INQUEUECALL"], "--type INQUEUECALL contradicts the YAML, which is a INBOUNDCALL flow"),
        (["--flow", "Main", "--type", "inqueuecall"], "--type INQUEUECALL contradicts the YAML"),
    ],
)
def test_validate_type_options_that_contradict_the_yaml_are_usage_errors_before_any_cloud(
    tmp_path: Path, no_cloud: None, extra: list[str], needle: str
) -> None:
    # Given inbound call YAML whose name is a placeholder
    yaml_file = tmp_path / "flow.yaml"
    yaml_file.write_text(INBOUND_YAML, encoding="utf-8")
    # When validate gets a --type that is unknown or contradicts the YAML
    result = runner_invoke(["validate", "--yaml", str(yaml_file), *extra])
    # Then one error line, exit 2, no traceback (and no cloud was started: the test is instant)
    assert result.exit_code == exit_codes.USAGE_ERROR, result.output
    assert needle in one_line_error(result)
    assert "Traceback" not in result.output


def test_publish_with_an_unknown_type_is_a_usage_error(tmp_path: Path, no_cloud: None) -> None:
    result = runner_invoke(["publish", "--flow", "Main", "--type", "FOO", "--version", "2.0"])
    assert result.exit_code == exit_codes.USAGE_ERROR
    assert "unknown --type 'FOO'" in one_line_error(result)
