"""End to end: commit → `git push` to the local Git server → signed GitHub push webhook → the
real synthesized Release state machine (local runtime, simulator org) → its status-change events
through the synthesized EventBridge rule to the real `GitReleaseStatus` function → commit status
set and `live/<env>` holding the published YAML; then a person publishes in Architect (out of
band) → the next scan of the synthesized Scan machine (a stack with `git`) commits it to
`live/<env>` with its author; then the flow is deleted in the org → the next scan removes its
file from `live/<env>`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pydantic import SecretStr

from flowops.git.adapters import DynamoDeliveryLog, DynamoStatusTargets, StepFunctionsReleaseStarter
from flowops.git.factory import smart_http_reader
from flowops.git.mirror import DELETED_BY, author_of
from flowops.git.routing import GitRouting
from flowops.git.service import PushReleaser
from flowops.git.status import CommitStatusClient, PushStatusReporter
from flowops.local.gitserver import LocalGitServer
from flowops.local.runtime.execution import wait_for_execution
from tests.e2e.release.helpers import RELEASE_STATE_MACHINE, ReleaseWorld, start_release_world
from tests.helpers.gitrepo import Webhook, commit, git
from tests.helpers.recording_http import RecordingServer
from tests.integration.release.world import ENV, flow_yaml, module, queue
from tests.unit.git.fakes import GITHUB_SECRET, Secrets

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("git") is None, reason="needs git")]
TOKEN = "local-read-token"
RUNS = "http://127.0.0.1/runs"
SCAN_STATE_MACHINE = "ScanWorkflow/StateMachine"
GIT_SECRET = f"flowops/{ENV}/git"


def routing(clone_url: str) -> dict[str, Any]:
    return {
        "repositories": [
            {
                "provider": "github",
                "repository": "local/flows",
                "branches": {"main": ENV},
                "cloneUrl": clone_url,
            }
        ]
    }


@pytest.fixture(scope="module")
def git_template() -> dict[str, Any]:
    """The stack of an environment with `git` (the one `flowops local up` synthesizes): the push
    route, the status function and its EventBridge rule, and the scan's drift mirror step."""
    from flowops.local.gitserver.hosting import LOCAL_GIT_STACK
    from flowops.local.runtime.synth import synth_template

    return synth_template("dev", git=LOCAL_GIT_STACK)


@pytest.fixture
def pushed(
    start_simulator: Callable[..., Any],
    local_cloud_factory: Callable[..., Any],
    git_template: dict[str, Any],
    tmp_path: Path,
) -> Iterator[tuple[ReleaseWorld, LocalGitServer, RecordingServer, Path]]:
    world = start_release_world(
        start_simulator, lambda **kw: local_cloud_factory(template=git_template, **kw), tmp_path
    )
    env = world.env
    api = RecordingServer()  # stands in for GitHub's REST API (statuses)
    # The push side as the GitPush function wires it: pending on the commit, the target kept
    releaser = PushReleaser(
        routing=GitRouting.model_validate(routing("")),
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
        statuses=PushStatusReporter(
            CommitStatusClient(
                github_api=api.url, tokens={"github": SecretStr("status-token"), "gitlab": None}
            ),
            DynamoStatusTargets(env["STATE_TABLE"], client=world.cloud.dynamodb),
            run_url=RUNS,
        ),
    )
    webhook = Webhook(releaser)
    server = LocalGitServer(tmp_path / "repos", webhook_url=webhook.url, secret=GITHUB_SECRET, token=TOKEN)
    with server:
        url = server.create_repository("flows")
        # The functions' side (GitReleaseStatus, GitMirrorDrift): the Git secret and where things are
        world.cloud.client("secretsmanager").create_secret(
            Name=GIT_SECRET,
            SecretString=json.dumps({"github_status_token": "status-token", "github_write_token": TOKEN}),
        )
        world.cloud.runner.env_overrides.update(
            {
                "GIT_SECRET_ID": GIT_SECRET,
                "GIT_ROUTING": json.dumps(routing(url)),
                "GIT_GITHUB_API": api.url,
                "GIT_RUN_URL": RUNS,
            }
        )
        work = tmp_path / "work"
        work.mkdir()
        git(work, "init", "-q", "-b", "main")
        git(work, "remote", "add", "origin", url.replace("http://", f"http://ci:{TOKEN}@"))
        yield world, server, api, work
    webhook.server.shutdown()
    api.close()


def live_org(world: ReleaseWorld) -> Any:
    from flowops.genesys import ClientCredentials, GenesysClient
    from flowops.local.runtime.cloud import LOCAL_GENESYS_CREDENTIALS
    from flowops.release.live import GenesysLiveOrg

    client_id, secret = LOCAL_GENESYS_CREDENTIALS
    client = GenesysClient(
        ClientCredentials(client_id=client_id, client_secret=secret), base_url=world.sim.url
    )
    return GenesysLiveOrg(client, org=world.org, poll_seconds=0.05)


def finish(world: ReleaseWorld, answer: dict[str, Any]) -> Any:
    """The release's end, once its status-change events reached the status function."""
    result = wait_for_execution(world.cloud, answer["execution_arn"], timeout=240)
    deliveries = world.cloud.events.drain(timeout=180)
    failed = [d for d in deliveries if d.error]
    assert failed == [], failed
    return result


def test_git_push_releases_and_the_commit_shows_the_outcome(
    pushed: tuple[ReleaseWorld, LocalGitServer, RecordingServer, Path],
) -> None:
    world, server, api, work = pushed
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
    # Then the real release state machine released it
    result = finish(world, answer)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert "Released" in result.states_entered()
    assert world.published_versions()["INBOUNDCALL/Main IVR"] not in (None, "2", "2.0")
    # And the commit went pending (push) → success (the status function, on the release's end event)
    states = [(c.path, c.body["state"], c.body["context"]) for c in api.calls]
    assert states == [
        (f"/repos/local/flows/statuses/{sha}", "pending", f"flowops/{ENV}"),
        (f"/repos/local/flows/statuses/{sha}", "success", f"flowops/{ENV}"),
    ]
    assert api.calls[1].body["target_url"] == f"{RUNS}/{answer['release_id']}"
    assert api.calls[1].headers["Authorization"] == "Bearer status-token"
    # And live/<env> holds the published YAML, authored as whoever published it in Genesys
    live = live_org(world)
    git(work, "fetch", "-q", "origin", f"live/{ENV}")
    main_ivr = live.find_flow("INBOUNDCALL", "Main IVR")
    assert main_ivr is not None
    shown = git(work, "show", "FETCH_HEAD:flows/inboundCall/main-ivr.yaml")
    assert shown == live.published_yaml(main_ivr).rstrip("\n")
    author = git(work, "log", "-1", "--format=%an|%cn", "FETCH_HEAD")
    assert author == f"{author_of(live.genesys.get_flow(main_ivr.id))[0]}|flowops"

    # When a commit with a flow that references a queue the org lacks is pushed
    bad = commit(
        work,
        {"flows/inboundCall/main-ivr.yaml": flow_yaml("INBOUNDCALL", "Main IVR", queue("No Such Queue"))},
        "bad",
    )
    git(work, "push", "-q", "origin", "main")
    answer = server.deliveries[-1].answer
    result = finish(world, answer)
    # Then the release is refused at validation and the commit says why
    assert result.status == "FAILED" and result.error == "Release.Invalid"
    assert api.calls[-1].path.endswith(bad) and api.calls[-1].body["state"] == "failure"
    assert api.calls[-1].body["description"].startswith("invalid")

    # Given a first scan (the baseline: nothing to compare with, so nothing is committed)
    first = world.cloud.start_and_wait(SCAN_STATE_MACHINE, {"page_size": 25}, name="scan-1", timeout=180)
    assert first.status == "SUCCEEDED", (first.error, first.cause)
    assert "git_mirror" not in first.output
    head_before = git(work, "ls-remote", "origin", f"refs/heads/live/{ENV}").split()[0]
    # When a person edits Main IVR in Architect's UI and publishes it (out of band)
    edited = flow_yaml("INBOUNDCALL", "Main IVR", queue("Support"), description="edited in Architect")
    response = requests.post(
        f"{world.sim.url}/__sim/flows/{main_ivr.id}/publish",
        json={"userName": "Jane Architect", "userId": "7d5e1c90-8f5e-4a59-9c41-0b1f2e3a4b5c", "yaml": edited},
        timeout=10,
    )
    response.raise_for_status()
    # And the next scan runs
    second = world.cloud.start_and_wait(SCAN_STATE_MACHINE, {"page_size": 25}, name="scan-2", timeout=240)
    # Then the scan committed the change to live/<env>, authored as her, on top of the release's commit
    assert second.status == "SUCCEEDED", (second.error, second.cause)
    assert "Commit the changed flows to Git" in second.states_entered()
    mirrored_drift = second.output["git_mirror"]
    (repository,) = mirrored_drift["repositories"]
    assert repository["commits"] == 1 and repository["error"] == "", mirrored_drift
    git(work, "fetch", "-q", "origin", f"live/{ENV}")
    assert git(work, "show", "FETCH_HEAD:flows/inboundCall/main-ivr.yaml") == edited.rstrip("\n")
    assert git(work, "log", "-1", "--format=%an|%cn", "FETCH_HEAD") == "Jane Architect|flowops"
    assert git(work, "rev-parse", "FETCH_HEAD~1") == head_before
    assert repository["commit"] == git(work, "rev-parse", "FETCH_HEAD")

    # When the flow is deleted in the org (out of band: another client calls the API)
    live.genesys.delete_flow(main_ivr.id)
    third = world.cloud.start_and_wait(SCAN_STATE_MACHINE, {"page_size": 25}, name="scan-3", timeout=240)
    # Then the next scan removed its file from live/<env>: Git shows what runs
    assert third.status == "SUCCEEDED", (third.error, third.cause)
    (repository,) = third.output["git_mirror"]["repositories"]
    assert repository["commits"] == 1 and repository["error"] == "", third.output["git_mirror"]
    git(work, "fetch", "-q", "origin", f"live/{ENV}")
    assert "flows/inboundCall/main-ivr.yaml" not in git(work, "ls-tree", "-r", "--name-only", "FETCH_HEAD")
    assert git(work, "log", "-1", "--format=%an <%ae>", "FETCH_HEAD") == f"{DELETED_BY[0]} <{DELETED_BY[1]}>"
    assert (
        git(work, "show", "--name-status", "--format=", "FETCH_HEAD") == "D\tflows/inboundCall/main-ivr.yaml"
    )
