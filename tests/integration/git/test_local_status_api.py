"""The local Git server's commit statuses API answers as GitHub's does, and flowops's own status
client posts to it unchanged (`github_api = <server>/api/v3`)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from pydantic import SecretStr

from flowops.git.status import CommitStatusClient, StatusPostError, StatusTarget
from flowops.local.gitserver import LocalGitServer
from tests.helpers.gitrepo import commit, git

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")
TOKEN = "status-token"


@pytest.fixture
def pushed(tmp_path: Path) -> Iterator[tuple[LocalGitServer, str]]:
    with LocalGitServer(
        tmp_path / "repos", webhook_url="http://127.0.0.1:9/", secret="s", token=TOKEN
    ) as server:
        url = server.create_repository("flows")
        work = tmp_path / "work"
        work.mkdir()
        git(work, "init", "-q", "-b", "main")
        sha = commit(work, {"README.md": "flows\n"}, "first")
        git(work, "push", "-q", url.replace("http://", f"http://x:{TOKEN}@"), "main")
        yield server, sha


def target(sha: str) -> StatusTarget:
    return StatusTarget(
        provider="github",
        repository="local/flows",
        commit=sha,
        ref="main",
        environment="dev",
        release_id="r1",
    )


def test_flowops_posts_statuses_and_they_are_listed_newest_first(pushed: tuple[LocalGitServer, str]) -> None:
    server, sha = pushed
    client = CommitStatusClient(
        github_api=server.api_url, tokens={"github": SecretStr(TOKEN), "gitlab": None}
    )
    client.post(target(sha), "pending", "release started", "http://127.0.0.1/runs/r1")
    client.post(target(sha), "success", "1 flow released", "http://127.0.0.1/runs/r1")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for ref in (sha, "main"):
        listed = requests.get(
            f"{server.api_url}/repos/local/flows/commits/{ref}/statuses", headers=headers, timeout=5
        )
        assert listed.status_code == 200
        assert [(s["state"], s["context"], s["description"]) for s in listed.json()] == [
            ("success", "flowops/dev", "1 flow released"),
            ("pending", "flowops/dev", "release started"),
        ]
    assert [s.state for s in server.status_api.of("local/flows", sha)] == ["pending", "success"]


def test_bad_requests_are_refused_as_github_refuses_them(pushed: tuple[LocalGitServer, str]) -> None:
    server, sha = pushed
    api = f"{server.api_url}/repos/local/flows/statuses"
    auth = {"Authorization": f"token {TOKEN}"}
    assert requests.post(f"{api}/{sha}", json={"state": "pending"}, timeout=5).status_code == 401
    bad_state = requests.post(f"{api}/{sha}", json={"state": "running"}, headers=auth, timeout=5)
    assert bad_state.status_code == 422 and bad_state.json()["message"] == "Validation Failed"
    unknown = requests.post(f"{api}/{'0' * 40}", json={"state": "success"}, headers=auth, timeout=5)
    assert unknown.status_code == 422 and "No commit found" in unknown.json()["message"]
    other = f"{server.api_url}/repos/local/nope/statuses/{sha}"
    assert requests.post(other, json={"state": "success"}, headers=auth, timeout=5).status_code == 404
    created = requests.post(f"{api}/{sha}", json={"state": "error"}, headers=auth, timeout=5)
    assert created.status_code == 201 and created.json()["context"] == "default"
    # A refused status reaches flowops's client as the error it retries on
    with pytest.raises(StatusPostError, match="401"):
        CommitStatusClient(
            github_api=server.api_url, tokens={"github": SecretStr("wrong"), "gitlab": None}
        ).post(target(sha), "success", "x", "y")
