"""`git push` to the local Git server → signed GitHub push webhook → the pushed commit read back
over smart HTTP → one release of the changed flows. Real git, real dulwich server, loopback only."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowops.git.factory import smart_http_reader
from flowops.git.repository import RepositoryUnavailableError, SmartHttpReader
from flowops.git.routing import GitRouting
from flowops.git.service import PushReleaser
from flowops.local.gitserver import LocalGitServer
from tests.helpers.gitrepo import Webhook, commit, git
from tests.unit.git.fakes import GITHUB_SECRET, Deliveries, Secrets, Starter
from tests.unit.git.payloads import validate_github

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")
TOKEN = "local-read-token"


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[LocalGitServer, Webhook, Starter, Path]]:
    starter = Starter()
    routing = GitRouting.model_validate(
        {"repositories": [{"provider": "github", "repository": "local/flows", "branches": {"main": "dev"}}]}
    )
    releaser = PushReleaser(
        routing=routing,
        environments=frozenset({"dev"}),
        secrets=Secrets(read_token=TOKEN),
        deliveries=Deliveries(),
        starter=starter,
        reader_factory=smart_http_reader,
    )
    webhook = Webhook(releaser)
    server = LocalGitServer(tmp_path / "repos", webhook_url=webhook.url, secret=GITHUB_SECRET, token=TOKEN)
    with server:
        url = server.create_repository("flows")
        work = tmp_path / "work"
        work.mkdir()
        git(work, "init", "-q", "-b", "main")
        git(work, "remote", "add", "origin", url.replace("http://", f"http://x:{TOKEN}@"))
        yield server, webhook, starter, work
    webhook.server.shutdown()
    webhook.server.server_close()


FLOW = "inboundCall:\n  name: Main IVR\n"


def test_git_push_delivers_a_schema_valid_signed_push_that_starts_one_release(setup: Any) -> None:
    server, webhook, starter, work = setup
    # Given a first commit with one flow and the dev environment file, pushed
    first = commit(
        work, {"flows/inboundCall/main.yaml": FLOW, "environments/dev.yaml": "substitutions: {}\n"}, "one"
    )
    git(work, "push", "-q", "origin", "main")
    # Then the delivery is GitHub's push event (schema-valid) and it started one release at that commit
    assert [d.status for d in server.deliveries] == [200]
    validate_github("push", webhook.payloads[0])
    assert webhook.payloads[0]["after"] == first and webhook.payloads[0]["created"] is True
    assert server.deliveries[0].answer["status"] == "started"
    bundle = next(iter(starter.started.values()))
    assert bundle.source_revision == f"git:{first}" and [f.path for f in bundle.flows] == [
        "flows/inboundCall/main.yaml"
    ]

    # When a README-only commit is pushed, Then it is ignored with the reason
    commit(work, {"README.md": "docs\n"}, "docs")
    git(work, "push", "-q", "origin", "main")
    assert server.deliveries[1].answer["status"] == "ignored"
    assert "no flow file changed" in server.deliveries[1].answer["reason"]

    # When history is rewritten and force-pushed, Then the new tree is released in full
    git(work, "reset", "-q", "--hard", first)
    forced = commit(work, {"flows/inboundCall/other.yaml": FLOW.replace("Main", "Other")}, "rewrite")
    git(work, "push", "-q", "--force", "origin", "main")
    assert webhook.payloads[2]["forced"] is True
    answer = server.deliveries[2].answer
    assert answer["status"] == "started" and answer["commit"] == forced
    assert answer["flows"] == ["flows/inboundCall/main.yaml", "flows/inboundCall/other.yaml"]
    assert len(starter.started) == 2


def test_the_reader_needs_the_token_and_a_live_server(setup: Any) -> None:
    server, _webhook, _starter, work = setup
    sha = commit(work, {"flows/inboundCall/main.yaml": FLOW, "environments/dev.yaml": ""}, "one")
    git(work, "push", "-q", "origin", "main")
    url = server.url("flows")
    # Given the right token, the commit's release directory is read over smart HTTP
    assert SmartHttpReader(url, token=Secrets(read_token=TOKEN).read_token("github")).files(sha, "") == {
        "flows/inboundCall/main.yaml": FLOW.encode(),
        "environments/dev.yaml": b"",
    }
    # Given a refused token or a dead port, the read fails as unavailable (→ 503, redelivery)
    with pytest.raises(RepositoryUnavailableError, match="refused"):
        SmartHttpReader(url, token=Secrets(read_token="wrong").read_token("github")).files(sha, "")
    with pytest.raises(RepositoryUnavailableError):
        SmartHttpReader("http://127.0.0.1:9/flows.git", token=None).files(sha, "")
