"""Real provider payload shapes: GitHub's from `@octokit/webhooks-examples` (npm devDependency,
validated against `@octokit/webhooks-schemas`), GitLab's from its documentation."""

from __future__ import annotations

import copy
import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from flowops.webhook.signature import sign

_ROOT = Path(__file__).resolve().parents[3] / "node_modules" / "@octokit"
EXAMPLES = _ROOT / "webhooks-examples" / "api.github.com" / "index.json"
SCHEMA = _ROOT / "webhooks-schemas" / "schema.json"


@cache
def _examples() -> dict[str, list[dict[str, Any]]]:
    return {entry["name"]: entry["examples"] for entry in json.loads(EXAMPLES.read_text())}


@cache
def _schema() -> dict[str, Any]:
    return dict(json.loads(SCHEMA.read_text()))


def validate_github(event: str, payload: dict[str, Any]) -> None:
    """Raise unless `payload` is a valid `<event>$event` per @octokit/webhooks-schemas."""
    schema = _schema()
    wrapper = {"$ref": f"#/definitions/{event}$event", "definitions": schema["definitions"]}
    jsonschema.Draft7Validator(wrapper).validate(payload)


def github_examples(event: str) -> list[dict[str, Any]]:
    return copy.deepcopy(_examples()[event])


def github_branch_push(
    *,
    after: str,
    before: str = "0" * 40,
    ref: str = "refs/heads/master",
    forced: bool = False,
    repository: str = "Codertocat/Hello-World",
    clone_url: str | None = None,
) -> dict[str, Any]:
    """The octokit branch-push example with this push's commits and repository; schema-checked."""
    payload = next(e for e in github_examples("push") if e["ref"].startswith("refs/heads/"))
    payload.update(ref=ref, before=before, after=after, forced=forced, created=before == "0" * 40)
    owner, name = repository.split("/")
    payload["repository"]["full_name"] = repository
    payload["repository"]["name"] = name
    if clone_url is not None:
        payload["repository"]["clone_url"] = clone_url
    validate_github("push", payload)
    return payload


def github_headers(
    body: bytes, secret: str, *, event: str = "push", delivery: str | None = None
) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body, secret),
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/044aadd",
    }


def gitlab_push(*, after: str, before: str, ref: str = "refs/heads/master") -> dict[str, Any]:
    """GitLab's documented push event, verbatim but for the commit ids and ref:
    https://docs.gitlab.com/user/project/integrations/webhook_events/#push-events"""
    return {
        "object_kind": "push",
        "event_name": "push",
        "before": before,
        "after": after,
        "ref": ref,
        "ref_protected": True,
        "checkout_sha": after,
        "message": "Hello World",
        "user_id": 4,
        "user_name": "John Smith",
        "user_username": "jsmith",
        "user_email": "john@example.com",
        "user_avatar": "https://s.gravatar.com/avatar/d4c74594d841139328695756648b6bd6?s=80",
        "project_id": 15,
        "project": {
            "id": 15,
            "name": "Diaspora",
            "description": "",
            "web_url": "http://example.com/mike/diaspora",
            "avatar_url": None,
            "git_ssh_url": "git@example.com:mike/diaspora.git",
            "git_http_url": "http://example.com/mike/diaspora.git",
            "namespace": "Mike",
            "visibility_level": 0,
            "path_with_namespace": "mike/diaspora",
            "default_branch": "master",
            "homepage": "http://example.com/mike/diaspora",
            "url": "git@example.com:mike/diaspora.git",
            "ssh_url": "git@example.com:mike/diaspora.git",
            "http_url": "http://example.com/mike/diaspora.git",
        },
        "repository": {
            "name": "Diaspora",
            "url": "git@example.com:mike/diaspora.git",
            "description": "",
            "homepage": "http://example.com/mike/diaspora",
            "git_http_url": "http://example.com/mike/diaspora.git",
            "git_ssh_url": "git@example.com:mike/diaspora.git",
            "visibility_level": 0,
        },
        "commits": [
            {
                "id": "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327",
                "message": "Update Catalan translation to e38cb41.",
                "title": "Update Catalan translation to e38cb41.",
                "timestamp": "2011-12-12T14:27:31+02:00",
                "url": "http://example.com/mike/diaspora/commit/b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327",
                "author": {"name": "Jordi Mallach", "email": "jordi@softcatala.org"},
                "added": ["CHANGELOG"],
                "modified": ["app/controller/application.rb"],
                "removed": [],
            }
        ],
        "total_commits_count": 4,
    }


def gitlab_headers(token: str, *, uuid_value: str | None = None, event: str = "Push Hook") -> dict[str, str]:
    return {
        "X-Gitlab-Event": event,
        "X-Gitlab-Token": token,
        "X-Gitlab-Event-UUID": uuid_value or str(uuid.uuid4()),
        "X-Gitlab-Webhook-UUID": str(uuid.uuid4()),
        "X-Gitlab-Instance": "https://gitlab.example.com",
        "Content-Type": "application/json",
    }
