"""`flowops local up` hosts a Git repository: the real `git` pushes a commit with a flow file to
the remote it prints, and the signed GitHub push webhook releases it in that cloud."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.gitrepo import commit, git
from tests.integration.release.world import flow_yaml

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("git") is None, reason="needs git")]


def remote_of(log: Path) -> str:
    """The `git remote` row of local up's summary (written to the log before `ready`)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r"^git remote\s+(http://127\.0\.0\.1:\d+/flows\.git)\s", log.read_text(), re.M)
        if found:
            return found.group(1)
        time.sleep(0.2)
    raise AssertionError(f"no git remote in local up's summary:\n{log.read_text()[-2000:]}")


def release_executions(connection: Any) -> list[dict[str, Any]]:
    sfn = connection.client("stepfunctions")
    machines = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]]
    (release,) = [arn for arn in machines if "ReleaseWorkflow" in arn]
    return list(sfn.list_executions(stateMachineArn=release)["executions"])


def finished(connection: Any, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        executions = release_executions(connection)
        if executions and executions[0]["status"] != "RUNNING":
            return executions[0]
        time.sleep(0.5)
    raise AssertionError(f"no release finished within {timeout}s: {release_executions(connection)}")


def test_git_push_to_the_local_up_remote_releases(tmp_path: Path) -> None:
    from flowops.cli.release import environment_cloud_process

    with environment_cloud_process("dev", flows=6, seed=7, workdir=tmp_path / "cloud") as connection:
        # Given the remote `local up` printed, and a commit that adds a flow on main
        remote = remote_of(tmp_path / "cloud" / "dev-cloud.log")
        work = tmp_path / "work"
        work.mkdir()
        git(work, "init", "-q", "-b", "main")
        git(work, "remote", "add", "origin", remote)
        sha = commit(
            work,
            {
                "flows/inboundCall/pushed-line.yaml": flow_yaml("INBOUNDCALL", "Pushed Line"),
                "environments/dev.yaml": "substitutions: {}\n",
            },
            "Pushed Line",
        )
        assert release_executions(connection) == []
        # When it is pushed with the real git
        git(work, "push", "-q", "origin", "main")
        # Then exactly one release, named after the commit, ran to Released
        execution = finished(connection)
        assert execution["name"].startswith(f"git-dev-{sha[:12]}-"), execution
        assert execution["status"] == "SUCCEEDED", execution
        # And a push to a branch mapped to no environment starts nothing
        git(work, "push", "-q", "origin", "main:feature")
        assert len(release_executions(connection)) == 1
