"""`flowops local up` hosts a Git repository: the real `git` pushes a commit with a flow file to
the remote it prints, the signed GitHub push webhook releases it in that cloud, the commit gets
its statuses (recorded by the local server's GitHub statuses API) and `live/dev` the flow."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import requests

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


def statuses(remote: str, sha: str, *, until: str, timeout: float = 120) -> list[str]:
    """The commit's states, oldest first, once the newest is `until` (the final one is posted
    by the status function when the release's end event reaches it)."""
    api = remote.removesuffix("/flows.git") + "/api/v3/repos/local/flows"
    deadline = time.monotonic() + timeout
    states: list[str] = []
    while time.monotonic() < deadline:
        listed = requests.get(f"{api}/commits/{sha}/statuses", timeout=5)
        listed.raise_for_status()
        states = [status["state"] for status in reversed(listed.json())]
        if states and states[-1] == until:
            return states
        time.sleep(0.5)
    raise AssertionError(f"commit {sha} states {states}, never {until!r} within {timeout}s")


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
        # And the commit went pending → success, with a link that answers the release's status
        assert statuses(remote, sha, until="success") == ["pending", "success"]
        api = remote.removesuffix("/flows.git") + "/api/v3/repos/local/flows"
        (final, _) = requests.get(f"{api}/commits/main/statuses", timeout=5).json()
        assert final["context"] == "flowops/dev" and final["target_url"].endswith(
            f"/runs/{execution['name']}"
        )
        assert requests.get(final["target_url"], timeout=5).json()["status"] == "SUCCEEDED"
        # And live/dev holds the released flow
        git(work, "fetch", "-q", "origin", "live/dev")
        assert "name: Pushed Line" in git(work, "show", "FETCH_HEAD:flows/inboundCall/pushed-line.yaml")
        # And a push to a branch mapped to no environment starts nothing
        git(work, "push", "-q", "origin", "main:feature")
        assert len(release_executions(connection)) == 1
