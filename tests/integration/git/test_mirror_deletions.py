"""`live/<env>` follows flows out of the org and across renames: a deleted flow's file is
removed (authored as the named flowops identity: Genesys records nobody on a deleted flow), a
renamed flow's file moves in one commit, and the path is the one export writes."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from flowops.genesys.errors import NotFoundError
from flowops.genesys.models import Flow
from flowops.git.mirror import (
    DELETED_BY,
    FlowName,
    GitMirror,
    MirrorChange,
    MirrorFile,
    mirror_files,
    release_changes,
)
from flowops.local.gitserver import LocalGitServer
from flowops.release.export import flow_file_path
from tests.helpers.gitrepo import MIRROR_TOKEN as TOKEN
from tests.helpers.gitrepo import clone_branch, git

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")


class Org:
    """The slice of GenesysLiveOrg the mirror reads: GET a flow, its published YAML."""

    def __init__(self, flows: dict[str, Flow]) -> None:
        self.flows = flows
        self.genesys = self

    def get_flow(self, flow_id: str) -> Flow:
        if flow_id not in self.flows:
            raise NotFoundError(f"Unable to find flow with id {flow_id}.", status=404)
        return self.flows[flow_id]

    def published_yaml(self, flow: Flow) -> str:
        return f"inboundCall:\n  name: {flow.name}\n"


def flow(flow_id: str, name: str, publisher: str = "Jane Architect") -> Flow:
    return Flow.model_validate(
        {
            "id": flow_id,
            "name": name,
            "type": "INBOUNDCALL",
            "publishedVersion": {"id": "2.0", "createdBy": {"id": "u1", "name": publisher}},
        }
    )


def clone(server: LocalGitServer, tmp_path: Path, name: str) -> Path:
    return clone_branch(server, "live/dev", tmp_path / name)


def test_the_removal_path_is_the_path_export_writes() -> None:
    org: Any = Org({"a": flow("a", "Main IVR (v2)")})
    (written,), _ = mirror_files(org, [MirrorChange(flow_id="a")])
    assert written.path == "flows/inboundCall/main-ivr-v2.yaml"
    assert flow_file_path("INBOUNDCALL", "Main IVR (v2)") == written.path
    # When the flow is gone from the org (404), its file is removed, authored as flowops
    gone: Any = Org({})
    (removal,), skipped = mirror_files(
        gone, [MirrorChange(flow_id="a", type="INBOUNDCALL", name="Main IVR (v2)")]
    )
    assert removal.path == written.path and removal.text is None and skipped == []
    assert (removal.author_name, removal.author_email) == DELETED_BY
    # A gone flow whose name is not known removes nothing and says so
    _, unknown = mirror_files(gone, [MirrorChange(flow_id="b")])
    assert unknown == ["b: no longer in the org (its name is not known: no file removed)"]


def test_deleted_and_renamed_flows_leave_no_stale_file(server: LocalGitServer, tmp_path: Path) -> None:
    mirror = GitMirror(server.url("flows"), token=SecretStr(TOKEN))
    # Given live/dev holds three flows (one alone in its directory)
    first: Any = Org({"a": flow("a", "Main IVR"), "b": flow("b", "After Hours"), "c": flow("c", "Old Name")})
    files, _ = mirror_files(first, [MirrorChange(flow_id=i) for i in "abc"])
    files.append(MirrorFile(path="flows/commonModule/menu.yaml", text="commonModule: {}\n"))
    mirror.publish("live/dev", files, "release 1")
    # When b is deleted in the org and c renamed (and re-published by Bo)
    now: Any = Org({"a": flow("a", "Main IVR"), "c": flow("c", "New Name", publisher="Bo Builder")})
    changes = [
        MirrorChange(flow_id="b", type="INBOUNDCALL", name="After Hours"),
        MirrorChange(flow_id="c", name="New Name", previous=[FlowName(name="Old Name")]),
    ]
    files, _ = mirror_files(now, changes)
    gone = {"author_name": DELETED_BY[0], "author_email": DELETED_BY[1]}
    files.append(MirrorFile(path="flows/commonModule/menu.yaml", text=None, **gone))
    result = mirror.publish("live/dev", files, "scan-2: changed outside Git, live in dev")
    # Then live/dev shows exactly what runs: b's file is gone, c's moved (one file, not two)
    work = clone(server, tmp_path, "after")
    assert sorted(str(p.relative_to(work)) for p in (work / "flows").rglob("*.yaml")) == [
        "flows/inboundCall/main-ivr.yaml",
        "flows/inboundCall/new-name.yaml",
    ]
    assert not (work / "flows/commonModule").exists()  # Git keeps no empty directory
    # And the move is one commit by who published the renamed flow; the deletions are flowops's
    assert result.commits == 2
    moved = git(work, "show", "--name-status", "--format=%an", "HEAD~1")
    assert moved.splitlines()[0] == "Bo Builder"
    assert "D\tflows/inboundCall/old-name.yaml" in moved and "A\tflows/inboundCall/new-name.yaml" in moved
    deleted = git(work, "show", "--name-status", "--format=%an <%ae>", "HEAD")
    assert deleted.splitlines()[0] == f"{DELETED_BY[0]} <{DELETED_BY[1]}>"
    assert "D\tflows/inboundCall/after-hours.yaml" in deleted and "D\tflows/commonModule/menu.yaml" in deleted
    # And removing what is already gone makes no commit
    again = mirror.publish("live/dev", files, "scan-3")
    assert again.commits == 0 and again.commit == result.commit


def test_a_rename_to_the_same_file_name_keeps_the_file() -> None:
    # `Main IVR` → `Main-IVR`: one slug, so the new file IS the old path: nothing is removed
    org: Any = Org({"a": flow("a", "Main-IVR")})
    files, _ = mirror_files(org, [MirrorChange(flow_id="a", previous=[FlowName(name="Main IVR")])])
    assert [(f.path, f.text is None) for f in files] == [("flows/inboundCall/main-ivr.yaml", False)]


def test_a_release_names_its_flows_from_its_run_record() -> None:
    recorded = [
        {"key": "INBOUNDCALL/Main IVR", "flow_id": "a", "action": "update"},
        {"key": "INBOUNDCALL/New Flow", "flow_id": "", "action": "create"},  # never created
        {"key": "COMMONMODULE/Menu", "flow_id": "m", "action": "create"},
    ]
    assert release_changes(recorded) == [
        MirrorChange(flow_id="a", type="INBOUNDCALL", name="Main IVR"),
        MirrorChange(flow_id="m", type="COMMONMODULE", name="Menu"),
    ]


def test_a_rolled_back_release_is_mirrored_an_invalid_one_is_not() -> None:
    from flowops.functions.git.release_status import changed_the_org

    # A rollback deleted what the release created and restored the rest: live/<env> follows
    assert changed_the_org("SUCCEEDED", None)
    assert changed_the_org("FAILED", "Release.RolledBack") and changed_the_org(
        "FAILED", "Release.RollbackFailed"
    )
    # Refused before touching the org: nothing to mirror
    assert not changed_the_org("FAILED", "Release.Invalid") and not changed_the_org("ABORTED", None)
