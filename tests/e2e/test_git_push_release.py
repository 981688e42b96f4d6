"""End to end: commit → `git push` to the local Git server → signed GitHub push webhook → the
real synthesized Release state machine (local runtime, simulator org) → commit status recorded →
`live/<env>` holds the published YAML; then a person publishes in Architect (out of band) → the
next scan of the synthesized Scan machine (a stack with `git`) commits it to `live/<env>`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flowops.git.adapters import DynamoDeliveryLog, DynamoStatusTargets, StepFunctionsReleaseStarter
from flowops.git.factory import smart_http_reader
from flowops.git.mirror import GitMirror, author_of, mirror_release
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
    """The stack of an environment with `git` (its scan then ends with the drift mirror step)."""
    from local.runtime.synth import synth_template

    return synth_template("dev", git={"secretName": GIT_SECRET, **routing("")})


@pytest.fixture
def pushed(
    start_simulator: Callable[..., Any],
    local_cloud_factory: Callable[..., Any],
    git_template: dict[str, Any],
    tmp_path: Path,
) -> Iterator[
    tuple[ReleaseWorld, LocalGitServer, RecordingServer, Path, DynamoStatusTargets, CommitStatusClient]
]:
    world = start_release_world(
        start_simulator, lambda **kw: local_cloud_factory(template=git_template, **kw), tmp_path
    )
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
        # The scan's mirror step pushes with the write token of the Git secret, to this server.
        world.cloud.client("secretsmanager").create_secret(
            Name=GIT_SECRET, SecretString=json.dumps({"github_write_token": TOKEN})
        )
        world.cloud.runner.env_overrides["GIT_ROUTING"] = json.dumps(routing(url))
        work = tmp_path / "work"
        work.mkdir()
        git(work, "init", "-q", "-b", "main")
        git(work, "remote", "add", "origin", url.replace("http://", f"http://ci:{TOKEN}@"))
        yield world, server, api, work, targets, statuses
    webhook.server.shutdown()
    api.close()


def live_org(world: ReleaseWorld) -> Any:
    from flowops.genesys import ClientCredentials, GenesysClient
    from flowops.release.live import GenesysLiveOrg

    from local.runtime.cloud import LOCAL_GENESYS_CREDENTIALS

    client_id, secret = LOCAL_GENESYS_CREDENTIALS
    client = GenesysClient(
        ClientCredentials(client_id=client_id, client_secret=secret), base_url=world.sim.url
    )
    return GenesysLiveOrg(client, org=world.org, poll_seconds=0.05)


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

    # When the released flows are mirrored (what the status function does after a success)
    live = live_org(world)
    flow_ids = [f["flow_id"] for f in world.record(answer["release_id"]).details["flows"] if f.get("flow_id")]
    target = targets.find(answer["release_id"])
    assert target is not None and target.clone_url == server.url("flows")
    mirrored = mirror_release(
        answer["release_id"],
        ENV,
        flow_ids,
        live=live,
        mirror=GitMirror(target.clone_url, token=SecretStr(TOKEN)),
    )
    # Then live/<env> holds the published YAML, authored as whoever published it in Genesys
    assert mirrored is not None and mirrored.commits == 1
    git(work, "fetch", "-q", "origin", f"live/{ENV}")
    main_ivr = live.find_flow("INBOUNDCALL", "Main IVR")
    assert main_ivr is not None
    shown = git(work, "show", "FETCH_HEAD:flows/inboundCall/main-ivr.yaml")
    assert shown == live.published_yaml(main_ivr).rstrip("\n")
    author = git(work, "log", "-1", "--format=%an", "FETCH_HEAD")
    assert author == author_of(live.genesys.get_flow(main_ivr.id))[0] and author

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
