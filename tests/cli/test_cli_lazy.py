"""The command tree loads lazily (src/flowops/cli/_registry.py, FlowopsGroup in src/flowops/cli/__init__.py).

Structural, not timed: what a fresh interpreter holds after importing the CLI or printing help.
The times are in bench/cli_startup.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from flowops.cli import _registry, app, exit_codes

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# What no `flowops --help` should pay for: AWS SDKs and emulators, the CDK, graph and model libraries,
# HTTP, and typer's rich help (rich.markdown, pygments).
HEAVY = ("boto3", "botocore", "moto", "networkx", "aws_cdk", "jsii", "pydantic", "requests", "rich", "yaml")
COMMAND_MODULES = sorted({entry.module for entry in _registry.COMMANDS})


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    answer = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(json.loads(answer.stdout.strip().splitlines()[-1]))


def _packages(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_importing_the_cli_imports_no_heavy_package_and_no_command_module() -> None:
    loaded = _modules_after("import flowops.cli")
    assert _packages(loaded) & set(HEAVY) == set()
    assert loaded & set(COMMAND_MODULES) == set()


def test_root_help_lists_every_command_without_importing_one() -> None:
    code = (
        "from typer.testing import CliRunner\nfrom flowops.cli import app\n"
        "result = CliRunner().invoke(app, ['--help'])\nassert result.exit_code == 0, result.output\n"
        "assert all(f'  {name} ' in result.output for name in "
        f"{[entry.name for entry in _registry.COMMANDS]!r}), result.output"
    )
    loaded = _modules_after(code)
    assert _packages(loaded) & set(HEAVY) == set()
    assert loaded & set(COMMAND_MODULES) == set()


def test_a_command_imports_its_own_module_only() -> None:
    loaded = _modules_after(
        "from typer.testing import CliRunner\nfrom flowops.cli import app\n"
        "assert CliRunner().invoke(app, ['lock', 'show', '--help']).exit_code == 0"
    )
    assert "flowops.cli.lock" in loaded
    assert (
        loaded & {"flowops.cli.scan", "flowops.cli.publish", "flowops.cli.release", "flowops.cli.trace"}
        == set()
    )
    assert _packages(loaded) & {"boto3", "botocore", "moto", "networkx", "aws_cdk"} == set()


def _registered(module: str) -> dict[str, str]:
    """The top-level commands `module` registers, each with the first line of its help."""
    import importlib

    holder = typer.Typer()
    holder.callback()(lambda: None)
    importlib.import_module(module).register(holder)
    commands = typer.main.get_group(holder).commands
    return {
        name: (command.help or "").strip().split("\n\n")[0].replace("\n", " ")
        for name, command in commands.items()
    }


@pytest.mark.parametrize("module", COMMAND_MODULES)
def test_the_registry_matches_what_each_module_registers(module: str) -> None:
    # Given what the module registers, and the registry's entries for that module
    registered = _registered(module)
    listed = {entry.name: entry.help for entry in _registry.COMMANDS if entry.module == module}

    # Then they name the same commands with the same one-line help
    assert listed == registered


def test_an_unknown_command_is_still_a_usage_error_with_a_suggestion() -> None:
    result = CliRunner().invoke(app, ["lokc", "show"])
    assert result.exit_code == exit_codes.USAGE_ERROR
    assert "'lock'" in result.stderr
