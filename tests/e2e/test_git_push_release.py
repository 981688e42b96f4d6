"""End to end: commit → `git push` to the local Git server → signed GitHub push webhook → the
real synthesized Release state machine (local runtime, simulator org) → commit status recorded."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flowops.git.adapters import DynamoDeliveryLog, DynamoStatusTargets, StepFunctionsReleaseStarter
from flowops.git.factory import smart_http_reader
from flowops.git.routing import GitRouting
from flowops.git.service import PushReleaser
from flowops.git.status import CommitStatusClient, PushStatusReporter, report_outcome
from pydantic import SecretStr

from local.gitserver import LocalGitServer
from local.runtime.execution import wait_for_execution
from tests.e2e.release.helpers import RELEASE_STATE_MACHINE, ReleaseWorld, start_release_world
from tests.helpers.gitrepo import Webhook, commit, git
from tests.helpers.recording_http import RecordingServer
from tests.integration.release.world import ENV, flow_yaml, module, queue
from tests.unit.git.fakes import GITHUB_SECRET, Secrets

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("git") is None, reason="needs git")]
TOKEN = "local-read-token"
RUNS = "http://127.0.0.1/runs"


@pytest.fixture
def pushed(
    start_simulator: Callable[..., Any], local_cloud_factory: Callable[..., Any], tmp_path: Path
) -> Iterator[
    tuple[ReleaseWorld, LocalGitServer, RecordingServer, Path, DynamoStatusTargets, CommitStatusClient]
]:
    world = start_release_world(start_simulator, local_cloud_factory, tmp_path)
    env = world.env
    api = RecordingServer()
    statuses = CommitStatusClient(
        github_api=api.url, tokens={"github": SecretStr("status-token"), "gitlab": None}
    )
    targets = DynamoStatusTargets(env["STATE_TABLE"], client=world.cloud.dynamodb)
    releaser = PushReleaser(
        routing=GitRouting.model_validate(
            {"repositories": [{"provider": "github", "repository": "local/flows", "branches": {"main": ENV}}]}
        ),
        environments=frozenset({ENV}),
        secrets=Secrets(read_token=TOKEN),
        deliveries=DynamoDeliveryLog(env["STATE_TABLE"], client=world.cloud.dynamodb),
        starter=StepFunctionsReleaseStarter(
            world.cloud.state_machine_arn(RELEASE_STATE_MACHINE),
            org=world.org,
            bucket=env["ARTIFACTS_BUCKET"],
            sfn=world.cloud.sfn,
            s3=world.cloud.s3,
        ),
        reader_factory=smart_http_reader,
        statuses=PushStatusReporter(statuses, targets, run_url=RUNS),
    )
    webhook = Webhook(releaser)
    server = LocalGitServer(tmp_path / "repos", webhook_url=webhook.url, secret=GITHUB_SECRET, token=TOKEN)
    with server:
        url = server.create_repository("flows")
        work = tmp_path / "work"
        work.mkdir()
        git(work, "init", "-q", "-b", "main")
        git(work, "remote", "add", "origin", url.replace("http://", f"http://ci:{TOKEN}@"))
        yield world, server, api, work, targets, statuses
    webhook.server.shutdown()
    api.close()


def finish(world: ReleaseWorld, answer: dict[str, Any], targets: Any, statuses: Any) -> Any:
    """Wait for the release and report its outcome as the status function does on its event."""
    result = wait_for_execution(world.cloud, answer["execution_arn"], timeout=240)
    description = world.cloud.sfn.describe_execution(executionArn=answer["execution_arn"])
    report_outcome(
        answer["release_id"],
        description["status"],
        description.get("output"),
        description.get("error"),
        description.get("cause"),
        targets=targets,
        client=statuses,
        run_url=RUNS,
    )
    return result


def test_git_push_releases_and_the_commit_shows_the_outcome(pushed: Any) -> None:
    world, server, api, work, targets, statuses = pushed
    # Given a repository whose main branch holds Main IVR with a new description
    sha = commit(
        work,
        {
            "flows/inboundCall/main-ivr.yaml": flow_yaml(
                "INBOUNDCALL", "Main IVR", queue("Support"), module("Shared Menu"), description="from git"
            ),
            f"environments/{ENV}.yaml": "substitutions: {}\n",
        },
        "Main IVR from git",
    )
    # When it is pushed
    git(work, "push", "-q", "origin", "main")
    answer = server.deliveries[-1].answer
    assert answer["status"] == "started", answer
    # Then the real release state machine released it, and the commit went pending → success
    result = finish(world, answer, targets, statuses)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert "Released" in result.states_entered()
    # a new version of Main IVR is live
    assert world.published_versions()["INBOUNDCALL/Main IVR"] not in (None, "2", "2.0")
    states = [(c.path, c.body["state"], c.body["context"]) for c in api.calls]
    assert states == [
        (f"/repos/local/flows/statuses/{sha}", "pending", f"flowops/{ENV}"),
        (f"/repos/local/flows/statuses/{sha}", "success", f"flowops/{ENV}"),
    ]
    assert api.calls[1].body["target_url"] == f"{RUNS}/{answer['release_id']}"

    # When a commit with a flow that references a queue the org lacks is pushed
    bad = commit(
        work,
        {"flows/inboundCall/main-ivr.yaml": flow_yaml("INBOUNDCALL", "Main IVR", queue("No Such Queue"))},
        "bad",
    )
    git(work, "push", "-q", "origin", "main")
    answer = server.deliveries[-1].answer
    result = finish(world, answer, targets, statuses)
    # Then the release is refused at validation and the commit says why
    assert result.status == "FAILED" and result.error == "Release.Invalid"
    assert api.calls[-1].path.endswith(bad) and api.calls[-1].body["state"] == "failure"
    assert api.calls[-1].body["description"].startswith("invalid")
