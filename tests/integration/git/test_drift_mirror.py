"""A scan's drift reaching `live/<env>`: which flows, which repositories, and a repository that
refuses is reported while the others still get the commit (flowops.git.drift)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from flowops.git.drift import (
    DriftMirrorRequest,
    MirrorTarget,
    clone_url,
    drift_changes,
    mirror_drift,
    routes_to,
)
from flowops.git.mirror import FlowName, GitMirror, MirrorChange, MirrorFile
from flowops.git.routing import GitRepositoryRoute, GitRouting
from flowops.local.gitserver import LocalGitServer
from flowops.lock import LockDiff
from tests.helpers.gitrepo import MIRROR_TOKEN as TOKEN
from tests.helpers.gitrepo import clone_branch, git
from tests.unit.git.fakes import MemoryPendingMirrors

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")
CHANGES = [MirrorChange(flow_id="main-ivr", type="INBOUNDCALL", name="Main IVR")]
REQUEST = DriftMirrorRequest(
    scan_id="scan-7", report_key="scans/o/scan-7/report.json", compared_with_sha="a" * 64
)
FILES = [
    MirrorFile(
        path="flows/inboundCall/main-ivr.yaml",
        text="inboundCall:\n  name: Main IVR\n",
        author_name="Jane Architect",
        author_email="jane@example.com",
        label="INBOUNDCALL Main IVR v4",
    )
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalGitServer]:
    with LocalGitServer(
        tmp_path / "repos", webhook_url="http://127.0.0.1:9/", secret="s", token=TOKEN
    ) as srv:
        srv.create_repository("flows")
        srv.create_repository("other")
        yield srv


def test_flows_whose_published_content_or_path_changed_are_mirrored() -> None:
    locked = {"name": "F", "type": "INBOUNDCALL"}
    diff = LockDiff.model_validate(
        {
            "from_sha256": "a",
            "to_sha256": "b",
            "old_org": "o",
            "new_org": "o",
            "old_schema_version": 1,
            "new_schema_version": 1,
            "flows_added": [{**locked, "id": "new", "published_version": "1.0"}, {**locked, "id": "draft"}],
            "flows_removed": [{**locked, "id": "gone", "published_version": "3.0"}],
            "flows_reversioned": [
                {"flow_id": "edited", "name": "F", "old_version": "1.0", "new_version": "2.0"},
                {"flow_id": "unpublished", "name": "F", "old_version": "1.0", "new_version": None},
            ],
            "flows_renamed": [{"flow_id": "renamed", "old_name": "A", "new_name": "B"}],
        }
    )
    # A flow without a published version has nothing to export; a rename names where its file
    # was (it moves); a removed flow is named as it was (its file goes)
    assert drift_changes(diff) == [
        MirrorChange(flow_id="new", type="INBOUNDCALL", name="F"),
        MirrorChange(flow_id="edited", name="F"),
        MirrorChange(flow_id="renamed", name="B", previous=[FlowName(name="A")]),
        MirrorChange(flow_id="gone", type="INBOUNDCALL", name="F"),
    ]


def test_repositories_releasing_to_the_environment_and_their_clone_urls() -> None:
    routing = GitRouting.model_validate(
        {
            "repositories": [
                {
                    "provider": "github",
                    "repository": "acme/flows",
                    "branches": {"main": "dev", "release": "prod"},
                },
                {"provider": "gitlab", "repository": "grp/sub/flows", "branches": {"main": "prod"}},
                {"provider": "github", "repository": "acme/tests", "branches": {"main": "test"}},
            ]
        }
    )
    prod = routes_to(routing, "prod")
    assert [r.repository for r in prod] == ["acme/flows", "grp/sub/flows"]
    apis = {"github_api": "https://api.github.com", "gitlab_api": "https://gitlab.example/api/v4"}
    assert clone_url(prod[0], **apis) == "https://github.com/acme/flows.git"
    assert clone_url(prod[1], **apis) == "https://gitlab.example/grp/sub/flows.git"
    enterprise = {"github_api": "https://ghe.example/api/v3", "gitlab_api": "https://gitlab.com/api/v4"}
    assert clone_url(prod[0], **enterprise) == "https://ghe.example/acme/flows.git"
    pinned = GitRepositoryRoute.model_validate(
        {
            "provider": "github",
            "repository": "a/b",
            "branches": {"main": "dev"},
            "cloneUrl": "https://m/x.git",
        }
    )
    assert clone_url(pinned, **apis) == "https://m/x.git"


def test_a_refusing_repository_is_reported_and_the_others_get_the_commit(
    server: LocalGitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "flowops.git.pending.mirror_files", lambda live, changes: (list(FILES), ["gone: no longer"])
    )
    pending = MemoryPendingMirrors()
    targets = [
        MirrorTarget("local/flows", GitMirror(server.url("flows"), token=SecretStr(TOKEN))),
        MirrorTarget("local/other", GitMirror(server.url("other"), token=SecretStr("revoked"))),
        MirrorTarget("local/no-token", None),
    ]
    live: Any = object()
    outcome = mirror_drift(REQUEST, "prod", CHANGES, live=live, targets=targets, pending=pending)
    ok, refused, untokened = outcome.repositories
    # The first repository's live/prod holds the file, authored by who published it in Genesys
    assert ok.commits == 1 and ok.error == "" and not ok.failed
    clone_branch(server, "live/prod", tmp_path / "clone")
    assert (
        git(tmp_path / "clone", "log", "--format=%an|%s")
        == "Jane Architect|scan-7: changed outside Git, live in prod"
    )
    # The refused one failed (so the step fails and is retried); no token is a setup gap, reported
    assert refused.failed and "refused" in refused.error and refused.commit is None
    assert not untokened.failed and "no write token" in untokened.error
    assert outcome.failed == [refused] and outcome.skipped == ["gone: no longer"] and outcome.flows == 1
    # And what the refused one missed is carried (and only for it: the others are up to date)
    assert refused.pending == 1 and set(pending.items) == {("prod", "local/other")}
    # And a retry of the whole step makes no second commit where it already landed
    again = mirror_drift(REQUEST, "prod", CHANGES, live=live, targets=targets[:1], pending=pending)
    assert again.repositories[0].commits == 0 and again.repositories[0].commit == ok.commit


def test_the_diff_is_read_from_buildlocks_drift_unless_the_report_compares_with_another_lock() -> None:
    from flowops.git.drift import scan_drift
    from flowops.scan.models import DriftSummary, StoredDrift

    def diff(to: str) -> LockDiff:
        return LockDiff(
            from_sha256="a" * 64,
            to_sha256=to,
            old_org="o",
            new_org="o",
            old_schema_version=1,
            new_schema_version=1,
        )

    stored = StoredDrift(compared_with_sha="a" * 64, summary=DriftSummary(), diff=diff("stored"))
    files = {
        "drift.json": stored.model_dump_json().encode(),
        "report.json": json.dumps({"drift": diff("report").model_dump(mode="json")}).encode(),
    }
    request = REQUEST.model_copy(update={"drift_key": "drift.json", "report_key": "report.json"})
    # The usual case: BuildLock diffed against the lock the report compares with
    found = scan_drift(request, files.__getitem__)
    assert found is not None and found.to_sha256 == "stored"
    # A lost race: the report compared with the winner's lock, so its diff is the one
    raced = scan_drift(request.model_copy(update={"compared_with_sha": "b" * 64}), files.__getitem__)
    assert raced is not None and raced.to_sha256 == "report"


def test_a_mirror_that_failed_is_carried_into_the_next_scan_without_new_drift(
    server: LocalGitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exported: list[list[str]] = []

    def files_of(live: object, changes: list[MirrorChange]) -> tuple[list[MirrorFile], list[str]]:
        exported.append([change.flow_id for change in changes])
        return list(FILES), []

    monkeypatch.setattr("flowops.git.pending.mirror_files", files_of)
    pending = MemoryPendingMirrors()
    live: Any = object()
    # Given the repository refuses the scan's push (its token was revoked meanwhile)
    refusing = [MirrorTarget("local/flows", GitMirror(server.url("flows"), token=SecretStr("revoked")))]
    first = mirror_drift(REQUEST, "prod", CHANGES, live=live, targets=refusing, pending=pending)
    (failed,) = first.repositories
    assert failed.failed and failed.pending == 1 and failed.pending_since is not None
    # When the next scan finds no drift at all, and the repository takes pushes again
    targets = [MirrorTarget("local/flows", GitMirror(server.url("flows"), token=SecretStr(TOKEN)))]
    request = REQUEST.model_copy(update={"scan_id": "scan-8"})
    second = mirror_drift(request, "prod", [], live=live, targets=targets, pending=pending)
    # Then the missed flow is committed, said to be carried, and nothing is pending any more
    (landed,) = second.repositories
    assert landed.commits == 1 and landed.carried_in == 1 and not landed.failed and landed.pending == 0
    assert exported[-1] == ["main-ivr"] and pending.items == {}
    clone_branch(server, "live/prod", tmp_path / "clone")
    assert git(tmp_path / "clone", "log", "--format=%an|%s") == (
        "Jane Architect|scan-8: changed outside Git, live in prod (carried from a failed mirror: 1 flow(s))"
    )
    assert (tmp_path / "clone/flows/inboundCall/main-ivr.yaml").read_text() == FILES[0].text
