"""`live/<env>` mirror: commits per Genesys author, fast-forward only, retried when the branch moves."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import SecretStr

from flowops.git.mirror import GitMirror, MirrorFile
from flowops.git.repository import RepositoryUnavailableError
from flowops.local.gitserver import LocalGitServer
from tests.helpers.gitrepo import MIRROR_TOKEN as TOKEN
from tests.helpers.gitrepo import clone_branch, commit, git

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")


def mirror(server: LocalGitServer) -> GitMirror:
    return GitMirror(server.url("flows"), token=SecretStr(TOKEN))


def log(tmp_path: Path, server: LocalGitServer, branch: str) -> tuple[Path, list[str]]:
    work = tmp_path / f"clone-{branch.replace('/', '-')}"
    if work.exists():
        shutil.rmtree(work)
    clone_branch(server, branch, work)
    return work, git(work, "log", "--format=%an <%ae>|%cn|%s").splitlines()


def test_commits_per_author_and_nothing_when_unchanged(server: LocalGitServer, tmp_path: Path) -> None:
    files = [
        MirrorFile(
            path="flows/inboundCall/main-ivr.yaml",
            text="a: 1\n",
            author_name="Ana Admin",
            author_email="ana@example.com",
            label="INBOUNDCALL Main IVR v3",
        ),
        MirrorFile(
            path="flows/commonModule/menu.yaml",
            text="b: 1\n",
            author_name="Bo Builder",
            author_email="bo@example.com",
        ),
    ]
    result = mirror(server).publish("live/dev", files, "release git-dev-1")
    assert result.commits == 2 and result.commit is not None
    work, history = log(tmp_path, server, "live/dev")
    assert history == [
        "Bo Builder <bo@example.com>|flowops|release git-dev-1",
        "Ana Admin <ana@example.com>|flowops|release git-dev-1",
    ]
    assert (work / "flows/inboundCall/main-ivr.yaml").read_text() == "a: 1\n"
    # The same content again: no empty commit
    again = mirror(server).publish("live/dev", files, "release git-dev-2")
    assert again.commits == 0 and again.commit == result.commit


def test_a_branch_moved_by_someone_else_is_built_upon_never_overwritten(
    server: LocalGitServer, tmp_path: Path
) -> None:
    first = mirror(server).publish("live/dev", [MirrorFile(path="flows/a.yaml", text="1\n")], "one")
    # Given someone pushes to live/dev in between (a README)
    work, _ = log(tmp_path, server, "live/dev")
    commit(work, {"README.md": "live state of dev\n"}, "docs")
    git(work, "push", "-q", "origin", "live/dev")
    # When flowops mirrors the next release
    second = mirror(server).publish("live/dev", [MirrorFile(path="flows/a.yaml", text="2\n")], "two")
    # Then the README is still there and the history is linear (a fast-forward)
    work, history = log(tmp_path, server, "live/dev")
    assert (work / "README.md").exists() and (work / "flows/a.yaml").read_text() == "2\n"
    assert [h.split("|")[2] for h in history] == ["two", "docs", "one"]
    assert first.commit != second.commit


def test_a_refused_token_is_reported(server: LocalGitServer) -> None:
    with pytest.raises(RepositoryUnavailableError, match="refused"):
        GitMirror(server.url("flows"), token=SecretStr("wrong")).publish("live/dev", [], "x")


def test_a_push_racing_the_mirror_is_kept_and_the_mirror_retries(
    server: LocalGitServer, tmp_path: Path
) -> None:
    mirror(server).publish("live/dev", [MirrorFile(path="flows/a.yaml", text="1\n")], "one")
    work, _ = log(tmp_path, server, "live/dev")
    racer = GitMirror(server.url("flows"), token=SecretStr(TOKEN))
    real_client = racer._client
    raced: list[bool] = []

    class Racing:
        """The real client; before flowops's first push, someone else pushes to live/dev."""

        def __init__(self, client: object) -> None:
            self._client = client

        def fetch(self, *args: object, **kwargs: object) -> object:
            return self._client.fetch(*args, **kwargs)  # type: ignore[attr-defined]

        def send_pack(self, *args: object, **kwargs: object) -> object:
            if not raced:
                raced.append(True)
                commit(work, {"NOTES.md": "someone was here\n"}, "racing push")
                git(work, "push", "-q", "origin", "live/dev")
            return self._client.send_pack(*args, **kwargs)  # type: ignore[attr-defined]

    def racing_client() -> tuple[object, str]:
        client, path = real_client()
        return Racing(client), path

    racer._client = racing_client  # type: ignore[method-assign]
    result = racer.publish("live/dev", [MirrorFile(path="flows/a.yaml", text="2\n")], "two")
    # Then the first attempt was refused (the branch moved), the second built on the racing commit
    assert result.attempts == 2 and "moved" in result.rejections[0]
    work, history = log(tmp_path, server, "live/dev")
    assert [h.split("|")[2] for h in history] == ["two", "racing push", "one"]
    assert (work / "NOTES.md").exists() and (work / "flows/a.yaml").read_text() == "2\n"
