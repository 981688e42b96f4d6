"""Push webhooks as GitHub and GitLab send them: authenticity checks and the push payload.

GitHub signs the raw body with HMAC-SHA256 (`X-Hub-Signature-256: sha256=<hex>`); GitLab sends
the configured secret token verbatim (`X-Gitlab-Token`). Both are compared in constant time.
Neither signs a timestamp, so replay safety comes from the content (the release key), not from
the request (docs/git.md, "Security model").

Payload references:
- https://docs.github.com/en/webhooks/webhook-events-and-payloads#push
- https://docs.gitlab.com/user/project/integrations/webhook_events/#push-events
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from flowops.bounded import JSON_LIMITS, HostileInputError, load_bounded_json
from flowops.webhook.errors import InvalidRequestError, SignatureError
from flowops.webhook.signature import verify as verify_hub_signature

Provider = Literal["github", "gitlab"]
EventKind = Literal["push", "ping", "other"]

GITHUB_EVENT_HEADER = "x-github-event"
GITHUB_DELIVERY_HEADER = "x-github-delivery"
GITHUB_SIGNATURE_HEADER = "x-hub-signature-256"
GITLAB_EVENT_HEADER = "x-gitlab-event"
GITLAB_TOKEN_HEADER = "x-gitlab-token"  # noqa: S105 (a header name, not a secret)
GITLAB_UUID_HEADER = "x-gitlab-event-uuid"
GITLAB_PUSH_EVENT = "Push Hook"

ZERO_SHA = "0" * 40
_SHA = re.compile(r"^[0-9a-f]{40}$")
_DELIVERY = re.compile(r"^[A-Za-z0-9-]{1,100}$")
MAX_PUSH_BODY_BYTES = 25 * 1024 * 1024
"""GitHub caps webhook payloads at 25 MB (and then sends none); GitLab's cap is lower."""


class PushEvent(BaseModel):
    """What flowops needs from a push, provider-neutral. The file lists are never read: providers
    truncate them (GitHub keeps 20 commits, GitLab 20) and a force-push's lists describe the old
    history; the pushed tree is fetched instead."""

    model_config = ConfigDict(frozen=True)

    provider: Provider
    delivery_id: str
    repository: str = Field(min_length=1, max_length=300)
    """`owner/name` (GitHub) or `group/subgroup/project` (GitLab path with namespace)."""
    project_id: str = ""
    """GitLab's numeric project id (its status API is addressed by it)."""
    clone_url: str = Field(min_length=1, max_length=2000)
    ref: str = Field(max_length=500)
    before: str
    after: str
    pusher: str = Field(default="", max_length=200)
    forced: bool = False

    @property
    def branch(self) -> str | None:
        return self.ref.removeprefix("refs/heads/") if self.ref.startswith("refs/heads/") else None

    @property
    def deleted(self) -> bool:
        return self.after == ZERO_SHA

    @property
    def created(self) -> bool:
        return self.before == ZERO_SHA


class PingEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    provider: Provider
    delivery_id: str
    repository: str = ""


def lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def provider_of(headers: Mapping[str, str]) -> Provider:
    """Which provider sent the request, from its event header (lower-cased headers)."""
    if GITHUB_EVENT_HEADER in headers:
        return "github"
    if GITLAB_EVENT_HEADER in headers:
        return "gitlab"
    raise InvalidRequestError(
        "not a provider push webhook: expected X-GitHub-Event (GitHub) or X-Gitlab-Event (GitLab)"
    )


def verify_github(body: bytes, headers: Mapping[str, str], secret: SecretStr) -> None:
    verify_hub_signature(body, headers.get(GITHUB_SIGNATURE_HEADER), secret, header="X-Hub-Signature-256")


def verify_gitlab(headers: Mapping[str, str], token: SecretStr) -> None:
    sent = headers.get(GITLAB_TOKEN_HEADER)
    if not sent:
        raise SignatureError("missing X-Gitlab-Token header")
    if not hmac.compare_digest(sent.encode("utf-8"), token.get_secret_value().encode("utf-8")):
        raise SignatureError("X-Gitlab-Token does not match the configured secret token")


def _delivery_id(headers: Mapping[str, str], header: str) -> str:
    value = headers.get(header, "").strip()
    if not _DELIVERY.match(value):
        raise InvalidRequestError(f"missing or malformed {header} header (the provider's delivery id)")
    return value


def _document(body: bytes) -> dict[str, Any]:
    try:
        document = load_bounded_json(body, JSON_LIMITS, "the push payload")
    except (HostileInputError, ValueError) as error:
        raise InvalidRequestError(f"the push payload is not JSON: {str(error)[:200]}") from None
    if not isinstance(document, dict):
        raise InvalidRequestError("the push payload is not a JSON object")
    return document


def _sha(value: object, field: str) -> str:
    if not isinstance(value, str) or not _SHA.match(value):
        raise InvalidRequestError(f"push payload: {field} is not a 40-hex commit id", (field,))
    return value


def parse_github(body: bytes, headers: Mapping[str, str]) -> PushEvent | PingEvent | None:
    """The push (or ping) GitHub sent; None for any other event (answered as ignored)."""
    delivery = _delivery_id(headers, GITHUB_DELIVERY_HEADER)
    event = headers.get(GITHUB_EVENT_HEADER, "")
    document = _document(body)
    repository = document.get("repository") or {}
    full_name = repository.get("full_name", "") if isinstance(repository, dict) else ""
    if event == "ping":
        return PingEvent(provider="github", delivery_id=delivery, repository=str(full_name or ""))
    if event != "push":
        return None
    if not isinstance(repository, dict):
        raise InvalidRequestError("push payload: repository is missing", ("repository",))
    pusher = document.get("pusher") or {}
    try:
        return PushEvent(
            provider="github",
            delivery_id=delivery,
            repository=str(full_name),
            clone_url=str(repository.get("clone_url", "")),
            ref=str(document.get("ref", "")),
            before=_sha(document.get("before"), "before"),
            after=_sha(document.get("after"), "after"),
            pusher=str(pusher.get("name", "") if isinstance(pusher, dict) else ""),
            forced=bool(document.get("forced", False)),
        )
    except ValidationError as error:
        raise InvalidRequestError(
            f"push payload: {error.errors()[0]['loc']} {error.errors()[0]['msg']}"
        ) from None


def parse_gitlab(body: bytes, headers: Mapping[str, str]) -> PushEvent | None:
    """The push GitLab sent; None for any other hook (tag pushes, merge requests, ...)."""
    delivery = _delivery_id(headers, GITLAB_UUID_HEADER)
    if headers.get(GITLAB_EVENT_HEADER) != GITLAB_PUSH_EVENT:
        return None
    document = _document(body)
    project = document.get("project") or {}
    if not isinstance(project, dict):
        raise InvalidRequestError("push payload: project is missing", ("project",))
    try:
        return PushEvent(
            provider="gitlab",
            delivery_id=delivery,
            repository=str(project.get("path_with_namespace", "")),
            project_id=str(document.get("project_id", project.get("id", ""))),
            clone_url=str(project.get("git_http_url", "")),
            ref=str(document.get("ref", "")),
            before=_sha(document.get("before"), "before"),
            after=_sha(document.get("after") or document.get("checkout_sha"), "after"),
            pusher=str(document.get("user_username") or document.get("user_name") or ""),
        )
    except ValidationError as error:
        raise InvalidRequestError(
            f"push payload: {error.errors()[0]['loc']} {error.errors()[0]['msg']}"
        ) from None
