"""Provider push webhooks → at most one release per (repository, commit, environment)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flowops.git.providers import parse_github
from flowops.git.routing import GitRouting
from flowops.git.service import PushReleaser, release_name
from flowops.webhook.errors import DependencyUnavailableError, InvalidRequestError, SignatureError

from .fakes import GITHUB_SECRET, GITLAB_TOKEN, Deliveries, Repository, Secrets, Starter, Statuses
from .payloads import (
    github_branch_push,
    github_examples,
    github_headers,
    gitlab_headers,
    gitlab_push,
    validate_github,
)

C1, C2, C3 = "1" * 40, "2" * 40, "3" * 40
FLOW = b"inboundCall:\n  name: Main IVR\n"
ENV = b"substitutions:\n  queue: Support\n"


def tree(**flows: bytes) -> dict[str, bytes]:
    files = {f"flows/inboundCall/{name}.yaml": text for name, text in flows.items()}
    files.update({"environments/dev.yaml": ENV, "environments/test.yaml": ENV, "README.md": b"hi"})
    return files


def world(**overrides: Any) -> tuple[PushReleaser, Starter, Repository, Deliveries, Statuses]:
    routing = GitRouting.model_validate(
        {
            "repositories": [
                {
                    "provider": "github",
                    "repository": "Codertocat/Hello-World",
                    "branches": {"master": "dev", "release": "test"},
                },
                {"provider": "gitlab", "repository": "mike/diaspora", "branches": {"master": "dev"}},
            ]
        }
    )
    starter, repository, deliveries, statuses = Starter(), Repository(), Deliveries(), Statuses()
    repository.commits = {C1: tree(main=FLOW), C2: tree(main=FLOW + b"  description: v2\n", other=FLOW)}
    releaser = PushReleaser(
        routing=routing,
        environments=frozenset(overrides.get("environments", {"dev", "test"})),
        secrets=Secrets(),
        deliveries=deliveries,
        starter=starter,
        reader_factory=repository.reader,
        statuses=statuses,
    )
    return releaser, starter, repository, deliveries, statuses


def push(after: str = C2, before: str = C1, **kwargs: Any) -> bytes:
    return json.dumps(github_branch_push(after=after, before=before, **kwargs)).encode()


def test_the_oracle_payloads_are_schema_valid_and_parse() -> None:
    # Given every push and ping example GitHub publishes (octokit), When parsed, Then the parser
    # reads ref/before/after from each; the current schema accepts all but the first (recorded
    # before GitHub added repository.topics/visibility/..., which the parser does not need).
    for example in github_examples("push")[1:]:
        validate_github("push", example)
    for example in github_examples("push"):
        body = json.dumps(example).encode()
        event = parse_github(body, {"x-github-event": "push", "x-github-delivery": "d-1"})
        assert event is not None and event.ref == example["ref"] and event.after == example["after"]
    for example in github_examples("ping")[1:]:
        validate_github("ping", example)


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "sha1=abc", "sha256=zz"])
def test_a_wrong_or_missing_signature_is_401_and_nothing_is_fetched(signature: str | None) -> None:
    releaser, starter, repository, *_ = world()
    body = push()
    headers = github_headers(body, GITHUB_SECRET)
    headers.pop("X-Hub-Signature-256")
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    with pytest.raises(SignatureError) as refused:
        releaser.accept(body, headers)
    assert refused.value.status_code == 401
    assert repository.reads == [] and starter.calls == 0


def test_a_body_changed_after_signing_is_401() -> None:
    releaser, starter, repository, *_ = world()
    body = push()
    headers = github_headers(body, GITHUB_SECRET)
    with pytest.raises(SignatureError):
        releaser.accept(body.replace(b"master", b"release"), headers)
    assert repository.reads == [] and starter.calls == 0


def test_ping_answers_pong() -> None:
    releaser, starter, *_ = world()
    body = json.dumps(github_examples("ping")[0]).encode()
    answer = releaser.accept(body, github_headers(body, GITHUB_SECRET, event="ping"))
    assert answer.status == "pong" and starter.calls == 0


def test_a_push_releases_the_changed_flows_of_the_pushed_commit() -> None:
    # Given main.yaml modified and other.yaml added between C1 and C2
    releaser, starter, repository, _, statuses = world()
    body = push()
    answer = releaser.accept(body, github_headers(body, GITHUB_SECRET))
    # Then one release of exactly those files at git:C2, for dev, reported pending on the commit
    assert answer.status == "started" and answer.environment == "dev"
    assert answer.release_id == release_name("github", "Codertocat/Hello-World", C2, "dev")
    bundle = starter.started[answer.release_id]
    assert bundle.source_revision == f"git:{C2}"
    assert [f.path for f in bundle.flows] == ["flows/inboundCall/main.yaml", "flows/inboundCall/other.yaml"]
    assert set(bundle.environments) == {"dev", "test"}
    assert statuses.calls[0][:3] == ("pending", C2, "dev")
    # And the read used the read token with GitHub's token user
    assert repository.reads[0][2:] == ("x-access-token", "read-token")


def test_twenty_redeliveries_and_replays_start_one_release() -> None:
    releaser, starter, *_ = world()
    body = push()
    headers = github_headers(body, GITHUB_SECRET, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    answers = [releaser.accept(body, headers) for _ in range(20)]
    # A replay under fresh delivery ids (GitHub signs no delivery id) is the same content: same key.
    answers += [releaser.accept(body, github_headers(body, GITHUB_SECRET)) for _ in range(20)]
    assert len(starter.started) == 1
    assert {a.release_id for a in answers} == {answers[0].release_id}
    assert all(a.replayed for a in answers[1:20])


def test_the_same_commit_pushed_to_two_environments_is_two_releases() -> None:
    releaser, starter, *_ = world()
    first, second = push(ref="refs/heads/master"), push(ref="refs/heads/release")
    a = releaser.accept(first, github_headers(first, GITHUB_SECRET))
    b = releaser.accept(second, github_headers(second, GITHUB_SECRET))
    assert (a.environment, b.environment) == ("dev", "test")
    assert len(starter.started) == 2


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"ref": "refs/heads/feature/x"}, "releases to no environment"),
        ({"ref": "refs/tags/v1"}, "is not a branch"),
        ({"repository": "someone/else"}, "not configured"),
        ({"after": "0" * 40}, "was deleted"),
    ],
)
def test_other_branches_tags_and_repositories_are_ignored_with_the_reason(
    kwargs: dict[str, Any], reason: str
) -> None:
    releaser, starter, repository, *_ = world()
    body = push(**kwargs)
    answer = releaser.accept(body, github_headers(body, GITHUB_SECRET))
    assert answer.status == "ignored" and reason in answer.reason
    assert starter.calls == 0 and repository.reads == []


def test_a_branch_of_an_environment_this_stack_does_not_serve_is_ignored() -> None:
    releaser, starter, *_ = world(environments={"prod"})
    body = push()
    answer = releaser.accept(body, github_headers(body, GITHUB_SECRET))
    assert answer.status == "ignored" and "not served here" in answer.reason and starter.calls == 0


def test_a_push_touching_no_flow_file_is_ignored() -> None:
    releaser, starter, repository, *_ = world()
    repository.commits[C3] = dict(repository.commits[C2], **{"README.md": b"changed"})
    body = push(after=C3, before=C2)
    answer = releaser.accept(body, github_headers(body, GITHUB_SECRET))
    assert answer.status == "ignored" and "no flow file changed under flows/" in answer.reason
    assert starter.calls == 0


def test_a_changed_environment_file_releases_every_flow() -> None:
    releaser, starter, repository, *_ = world()
    repository.commits[C3] = dict(
        repository.commits[C2], **{"environments/dev.yaml": b"substitutions:\n  q: X\n"}
    )
    body = push(after=C3, before=C2)
    answer = releaser.accept(body, github_headers(body, GITHUB_SECRET))
    assert answer.status == "started" and len(answer.flows) == 2


def test_a_force_push_is_planned_from_the_new_tree_not_the_payload() -> None:
    # Given a force-push whose `before` no longer exists and whose payload lists no files
    releaser, starter, repository, *_ = world()
    body = push(after=C2, before="9" * 40, forced=True)
    payload = json.loads(body)
    assert payload["forced"] is True
    answer = releaser.accept(body, github_headers(body, GITHUB_SECRET))
    # Then every flow file of the new tree goes to the plan (which skips unchanged ones)
    assert answer.status == "started"
    assert answer.flows == ["flows/inboundCall/main.yaml", "flows/inboundCall/other.yaml"]
    assert [r[0] for r in repository.reads] == [C2]


def test_an_unreachable_repository_is_503_nothing_started_and_the_redelivery_retries() -> None:
    releaser, starter, repository, deliveries, _ = world()
    repository.down = True
    body = push()
    headers = github_headers(body, GITHUB_SECRET)
    with pytest.raises(DependencyUnavailableError) as failed:
        releaser.accept(body, headers)
    assert failed.value.status_code == 503 and starter.calls == 0 and deliveries.answers == {}
    repository.down = False
    assert releaser.accept(body, headers).status == "started"


def test_a_commit_not_yet_served_is_503() -> None:
    releaser, starter, *_ = world()
    body = push(after=C3)
    with pytest.raises(DependencyUnavailableError):
        releaser.accept(body, github_headers(body, GITHUB_SECRET))
    assert starter.calls == 0


def test_a_bad_release_directory_is_refused_and_the_commit_says_why() -> None:
    releaser, starter, repository, _, statuses = world()
    repository.commits[C3] = dict(repository.commits[C2], **{"environments/dev.yaml": b"clientSecret: x\n"})
    body = push(after=C3, before=C2)
    answer = releaser.accept(body, github_headers(body, GITHUB_SECRET))
    assert answer.status == "refused" and "credentials" in answer.reason and starter.calls == 0
    assert statuses.calls == [("failure", C3, "dev", answer.reason)]


def test_gitlab_push_with_its_token_releases() -> None:
    releaser, starter, repository, *_ = world()
    body = json.dumps(gitlab_push(after=C2, before=C1)).encode()
    answer = releaser.accept(body, gitlab_headers(GITLAB_TOKEN))
    assert answer.status == "started" and answer.environment == "dev"
    assert starter.requesters == ["jsmith"]
    assert repository.reads[0][1:3] == ("http://example.com/mike/diaspora.git", "oauth2")
    again = releaser.accept(body, gitlab_headers(GITLAB_TOKEN))
    assert again.release_id == answer.release_id and len(starter.started) == 1


@pytest.mark.parametrize("token", [None, "", "gitlab-secret-tokeN", GITHUB_SECRET])
def test_gitlab_wrong_or_missing_token_is_401(token: str | None) -> None:
    releaser, starter, repository, *_ = world()
    body = json.dumps(gitlab_push(after=C2, before=C1)).encode()
    headers = gitlab_headers("x")
    headers.pop("X-Gitlab-Token")
    if token is not None:
        headers["X-Gitlab-Token"] = token
    with pytest.raises(SignatureError):
        releaser.accept(body, headers)
    assert repository.reads == [] and starter.calls == 0


def test_gitlab_other_hooks_are_ignored() -> None:
    releaser, starter, *_ = world()
    body = json.dumps({"object_kind": "tag_push"}).encode()
    answer = releaser.accept(body, gitlab_headers(GITLAB_TOKEN, event="Tag Push Hook"))
    assert answer.status == "ignored" and starter.calls == 0


def test_a_request_from_no_known_provider_is_400() -> None:
    releaser, *_ = world()
    with pytest.raises(InvalidRequestError):
        releaser.accept(b"{}", {"Content-Type": "application/json"})


def test_a_signed_but_malformed_push_is_400() -> None:
    releaser, starter, *_ = world()
    body = json.dumps({"ref": "refs/heads/master", "before": "x", "after": C2, "repository": {}}).encode()
    with pytest.raises(InvalidRequestError):
        releaser.accept(body, github_headers(body, GITHUB_SECRET))
    assert starter.calls == 0
