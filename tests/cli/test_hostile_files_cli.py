"""Hostile files given to the CLI: one `error:` line, exit 2, never a traceback or a hang."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowops.bounded import FLOW_YAML_LIMITS
from flowops.cli import app, exit_codes
from tests.unit.flowyaml.test_hostile_input import ALIAS_BOMB, DEEP_FLOW_STYLE


def _one_error_line(argv: list[str], needle: str) -> None:
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == exit_codes.USAGE_ERROR, result.output
    assert result.stderr.startswith("error: ")
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("no_cloud")
@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (DEEP_FLOW_STYLE, "nested more than 128 levels"),
        (ALIAS_BOMB, "expands to more than 200000 values"),
        ("inboundCall:\n  name: Big\n  d: " + "x" * (FLOW_YAML_LIMITS.max_bytes + 1), "the limit is 2097152"),
    ],
    ids=["deep", "alias-bomb", "too-large"],
)
def test_refs_refuses_hostile_flow_files(tmp_path: Path, text: str, needle: str) -> None:
    # Given a hostile flow file
    flow = tmp_path / "flow.yaml"
    flow.write_text(text, encoding="utf-8")
    # When `flowops refs` reads it / Then one error line naming the limit, exit 2
    _one_error_line(["refs", str(flow)], needle)


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("no_cloud")
def test_refs_refuses_an_alias_bomb_substitutions_file(tmp_path: Path) -> None:
    flow = tmp_path / "flow.yaml"
    flow.write_text("inboundCall:\n  name: F\n", encoding="utf-8")
    subs = tmp_path / "subs.yaml"
    subs.write_text(ALIAS_BOMB.replace("inboundCall:\n  name: Bomb\n", "substitutions:\n"), encoding="utf-8")
    _one_error_line(["refs", str(flow), "--substitutions", str(subs)], "substitutions file refused")


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("no_cloud")
def test_lock_show_refuses_a_deeply_nested_lock_file(tmp_path: Path) -> None:
    # Given a lock file whose body nests 100,000 lists
    lock = tmp_path / "lock.json"
    lock.write_text('{"body": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    # When `flowops lock show FILE` reads it / Then a usage error, not a RecursionError
    _one_error_line(["lock", "show", str(lock)], "nested too deeply")
    # And a lock just nested too deep for the lock limit is refused the same way
    lock.write_text(json.dumps({"body": {"flows": json.loads("[" * 40 + "]" * 40)}}), encoding="utf-8")
    _one_error_line(["lock", "show", str(lock)], "nested more than 32 levels")
