"""`flowops release`, `flowops releases list|show` against a running local cloud (as `local up`
leaves it): the command follows the execution and prints the release record."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.release.helpers import ReleaseWorld, start_release_world
from tests.integration.release.world import (
    ENV,
    answer_connect_with,
    flow_yaml,
    module,
    queue,
    run_cli,
    write_release,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def world(
    start_simulator: Callable[..., Any],
    local_cloud_factory: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: Any,
) -> ReleaseWorld:
    """A local cloud in this process; every command's `connect()` answers with it."""
    world = start_release_world(start_simulator, local_cloud_factory, tmp_path)
    answer_connect_with(world.connection(), monkeypatch)
    return world


def test_release_then_list_and_show(world: ReleaseWorld, tmp_path: Path) -> None:
    # Given a release directory changing the module and adding a flow that calls it
    directory = write_release(
        tmp_path / "repo",
        {
            "commonModule/shared-menu.yaml": flow_yaml("COMMONMODULE", "Shared Menu", queue("{{queue}}")),
            "inboundCall/new-line.yaml": flow_yaml("INBOUNDCALL", "New Line", module("Shared Menu")),
        },
        {ENV: "substitutions:\n  queue: Sales\n"},
    )
    # When released from the command line
    released = run_cli("release", "--dir", str(directory), "--env", ENV, "--reason", "spring menu")
    # Then it exits 0 and prints every flow with its wave and versions
    assert released.exit_code == 0, released.output
    assert "SUCCEEDED (SUCCEEDED) environment test" in released.stdout
    assert "wave 1   update    COMMONMODULE/Shared Menu" in released.stdout
    assert "1.0 → 2.0" in released.stdout
    assert "wave 2   create    INBOUNDCALL/New Line" in released.stdout
    assert released.stderr.rstrip().endswith(": released"), released.stderr  # progress: phases in words
    # and `releases list` shows it, with the environment and how many flows changed
    listed = run_cli("releases", "list", "--json")
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.stdout)
    assert (row["status"], row["environment"], row["changed"], row["reason"]) == (
        "SUCCEEDED",
        ENV,
        4,
        "spring menu",
    )
    # and `releases show` tells why each flow is in it
    shown = run_cli("releases", "show", row["release"])
    assert shown.exit_code == 0, shown.output
    assert "INBOUNDCALL/Main IVR: calls common module 'Shared Menu'" in shown.stdout
    # and an unknown release is one error line, exit 2
    unknown = run_cli("releases", "show", "no-such-release")
    assert unknown.exit_code == 2 and unknown.stderr.startswith("error: no release 'no-such-release'")


def test_a_release_for_another_environment_is_refused_by_the_stack(
    world: ReleaseWorld, tmp_path: Path
) -> None:
    # Given a directory with a prod environment file, sent to the test stack
    directory = write_release(
        tmp_path / "repo",
        {"inboundCall/x.yaml": flow_yaml("INBOUNDCALL", "X")},
        {"prod": "substitutions: {}\n"},
    )
    released = run_cli("release", "--dir", str(directory), "--env", "prod")
    # Then the release is invalid (exit 1), and nothing was created
    assert released.exit_code == 1
    assert "this stack serves environment 'test'" in released.stdout
    assert "INBOUNDCALL/X" not in world.published_versions()
