"""Commit statuses: pending at start, then the release's outcome, on GitHub's and GitLab's APIs
(a recording server on 127.0.0.1 stands in for the providers)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from flowops.git.routing import GitRouting
from flowops.git.service import PushReleaser
from flowops.git.status import (
    CommitStatusClient,
    PushStatusReporter,
    StatusPostError,
    StatusTarget,
    outcome_of,
    report_outcome,
    report_running,
)
from tests.helpers.recording_http import RecordingServer

from .fakes import GITHUB_SECRET, GITLAB_TOKEN, Deliveries, Repository, Secrets, Starter
from .payloads import github_branch_push, github_headers, gitlab_headers, gitlab_push

C1, C2 = "1" * 40, "2" * 40
FILES = {"flows/inboundCall/main.yaml": b"inboundCall:\n  name: A\n", "environments/dev.yaml": b""}


class Targets:
    def __init__(self) -> None:
        self.kept: dict[str, StatusTarget] = {}

    def keep(self, target: StatusTarget) -> None:
        self.kept[target.release_id] = target

    def find(self, release_id: str) -> StatusTarget | None:
        return self.kept.get(release_id)


@pytest.fixture
def api() -> Iterator[RecordingServer]:
    server = RecordingServer()
    yield server
    server.close()


def client(api: RecordingServer) -> CommitStatusClient:
    return CommitStatusClient(
        github_api=api.url,
        gitlab_api=f"{api.url}/api/v4",
        tokens={"github": SecretStr("gh-status"), "gitlab": SecretStr("gl-status")},
    )


def releaser(api: RecordingServer, targets: Targets) -> PushReleaser:
    routing = GitRouting.model_validate(
        {
            "repositories": [
                {"provider": "github", "repository": "Codertocat/Hello-World", "branches": {"master": "dev"}},
                {"provider": "gitlab", "repository": "mike/diaspora", "branches": {"master": "dev"}},
            ]
        }
    )
    repository = Repository(commits={C1: {}, C2: FILES})
    return PushReleaser(
        routing=routing,
        environments=frozenset({"dev"}),
        secrets=Secrets(),
        deliveries=Deliveries(),
        starter=Starter(),
        reader_factory=repository.reader,
        statuses=PushStatusReporter(client(api), targets, run_url="https://runs.example/releases"),
    )


def test_github_push_gets_pending_then_the_final_status_with_a_link(api: RecordingServer) -> None:
    targets = Targets()
    body = json.dumps(github_branch_push(after=C2, before=C1)).encode()
    answer = releaser(api, targets).accept(body, github_headers(body, GITHUB_SECRET))
    pending = api.calls[0]
    assert pending.path == f"/repos/Codertocat/Hello-World/statuses/{C2}"
    assert pending.headers["Authorization"] == "Bearer gh-status"
    assert pending.body["state"] == "pending" and pending.body["context"] == "flowops/dev"
    assert pending.body["target_url"] == f"https://runs.example/releases/{answer.release_id}"
    # When the release ends invalid, Then the commit says failure and why
    report_outcome(
        answer.release_id,
        "FAILED",
        None,
        "Release.Invalid",
        "main.yaml: unknown queue 'Sales'",
        targets=targets,
        client=client(api),
        run_url="https://runs.example/releases",
    )
    final = api.calls[1].body
    assert final["state"] == "failure" and final["description"] == "invalid: main.yaml: unknown queue 'Sales'"


def test_gitlab_push_gets_its_states_on_the_project_id(api: RecordingServer) -> None:
    targets = Targets()
    body = json.dumps(gitlab_push(after=C2, before=C1)).encode()
    answer = releaser(api, targets).accept(body, gitlab_headers(GITLAB_TOKEN))
    assert api.calls[0].path == f"/api/v4/projects/15/statuses/{C2}"
    assert api.calls[0].headers["PRIVATE-TOKEN"] == "gl-status"
    assert api.calls[0].body == {
        "state": "pending",
        "ref": "master",
        "name": "flowops/dev",
        "target_url": f"https://runs.example/releases/{answer.release_id}",
        "description": api.calls[0].body["description"],
    }
    report_outcome(
        answer.release_id,
        "SUCCEEDED",
        json.dumps({"status": "RELEASED", "summary": "1 flow released"}),
        None,
        None,
        targets=targets,
        client=client(api),
        run_url="https://runs.example/releases",
    )
    assert api.calls[1].body["state"] == "success" and api.calls[1].body["description"] == "1 flow released"


def test_gitlab_shows_running_when_the_release_starts_github_keeps_pending(api: RecordingServer) -> None:
    targets = Targets()
    gitlab = releaser(api, targets).accept(
        json.dumps(gitlab_push(after=C2, before=C1)).encode(), gitlab_headers(GITLAB_TOKEN)
    )
    body = json.dumps(github_branch_push(after=C2, before=C1)).encode()
    github = releaser(api, targets).accept(body, github_headers(body, GITHUB_SECRET))
    assert [c.body["state"] for c in api.calls] == ["pending", "pending"]
    # When each release execution starts (its RUNNING status-change event)
    for answer in (gitlab, github):
        report_running(answer.release_id, targets=targets, client=client(api), run_url="https://runs.example")
    # Then GitLab's commit shows running (GitHub has no such state: its pending stays)
    (running,) = api.calls[2:]
    assert running.path == f"/api/v4/projects/15/statuses/{C2}"
    assert running.body["state"] == "running" and running.body["name"] == "flowops/dev"
    assert running.body["target_url"] == f"https://runs.example/{gitlab.release_id}"
    # And an ABORTED release is canceled on GitLab, an error on GitHub
    for answer in (gitlab, github):
        report_outcome(
            answer.release_id, "ABORTED", None, None, None, targets=targets, client=client(api), run_url="x"
        )
    assert [c.body["state"] for c in api.calls[3:]] == ["canceled", "error"]


def test_a_running_status_gitlab_refuses_is_not_an_error(api: RecordingServer) -> None:
    # GitLab refuses `running` after a final status (events come unordered): nothing to retry
    targets = Targets()
    answer = releaser(api, targets).accept(
        json.dumps(gitlab_push(after=C2, before=C1)).encode(), gitlab_headers(GITLAB_TOKEN)
    )
    api.statuses = [400]
    assert report_running(answer.release_id, targets=targets, client=client(api), run_url="x") is not None


def test_a_status_the_provider_refuses_never_fails_the_delivery_but_the_final_one_raises(
    api: RecordingServer,
) -> None:
    targets = Targets()
    api.statuses = [502, 401]
    body = json.dumps(github_branch_push(after=C2, before=C1)).encode()
    answer = releaser(api, targets).accept(body, github_headers(body, GITHUB_SECRET))
    assert answer.status == "started"
    with pytest.raises(StatusPostError, match="401"):
        report_outcome(
            answer.release_id, "SUCCEEDED", None, None, None, targets=targets, client=client(api), run_url="x"
        )


def test_a_release_not_started_by_a_push_reports_nothing(api: RecordingServer) -> None:
    assert (
        report_outcome(
            "release-dev-abc",
            "SUCCEEDED",
            None,
            None,
            None,
            targets=Targets(),
            client=client(api),
            run_url="x",
        )
        is None
    )
    assert api.calls == []


@pytest.mark.parametrize(
    ("status", "output", "error", "cause", "expected"),
    [
        (
            "SUCCEEDED",
            json.dumps({"summary": "2 flows released"}),
            None,
            None,
            ("success", "2 flows released"),
        ),
        (
            "SUCCEEDED",
            json.dumps({"nothing_to_do": True, "summary": "no changes"}),
            None,
            None,
            ("success", "no changes"),
        ),
        (
            "FAILED",
            None,
            "Release.RolledBack",
            "wave 1 failed",
            ("failure", "failed and rolled back: wave 1 failed"),
        ),
        ("TIMED_OUT", None, None, None, ("error", "timed_out")),
        ("ABORTED", None, None, None, ("canceled", "aborted")),
    ],
)
def test_execution_outcomes_map_to_commit_states(
    status: str, output: str | None, error: str | None, cause: str | None, expected: tuple[str, str]
) -> None:
    assert outcome_of(status, output, error, cause) == expected
