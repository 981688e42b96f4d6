"""Commit status back on the pushed commit: pending when the release starts, then its outcome.

- GitHub: `POST {api}/repos/{owner}/{repo}/statuses/{sha}` with state pending|success|failure|error
  (https://docs.github.com/en/rest/commits/statuses#create-a-commit-status);
- GitLab: `POST {api}/projects/:id/statuses/:sha` with state pending|running|success|failed|canceled
  (https://docs.gitlab.com/api/commits/#set-the-pipeline-status-of-a-commit).

The context is `flowops/<environment>`, so a commit released to two environments shows two
statuses. Base URLs are configuration (GitHub Enterprise, self-managed GitLab, tests).
"""

from __future__ import annotations

import json
from typing import Literal, Protocol
from urllib.parse import quote

import requests
from pydantic import BaseModel, ConfigDict, SecretStr

from flowops.git.providers import Provider, PushEvent
from flowops.observability import logger

Outcome = Literal["pending", "running", "success", "failure", "error", "canceled"]
_GITLAB_STATE: dict[Outcome, str] = {
    "pending": "pending",
    "running": "running",
    "success": "success",
    "failure": "failed",
    "error": "failed",
    "canceled": "canceled",
}
_GITHUB_STATE: dict[Outcome, str] = {
    "pending": "pending",
    "running": "pending",
    "success": "success",
    "failure": "failure",
    "error": "error",
    "canceled": "error",
}
MAX_DESCRIPTION = 140  # GitHub truncates longer descriptions; GitLab's limit is higher
_TIMEOUT = (5.0, 10.0)


class StatusTarget(BaseModel):
    """Where a release's status goes: kept from the push until the release ends."""

    model_config = ConfigDict(frozen=True)

    provider: Provider
    repository: str
    project_id: str = ""
    commit: str
    ref: str
    environment: str
    release_id: str
    clone_url: str = ""
    """Where `live/<environment>` is pushed after the release (the pushed repository)."""

    @classmethod
    def of(cls, event: PushEvent, environment: str, release_id: str) -> StatusTarget:
        return cls(
            provider=event.provider,
            repository=event.repository,
            project_id=event.project_id,
            commit=event.after,
            ref=event.branch or event.ref,
            environment=environment,
            release_id=release_id,
            clone_url=event.clone_url,
        )


class StatusPostError(Exception):
    """The provider did not take the status (network, 5xx, token refused)."""


class StatusTargets(Protocol):
    def keep(self, target: StatusTarget) -> None: ...

    def find(self, release_id: str) -> StatusTarget | None: ...


class CommitStatusClient:
    """Posts commit statuses to GitHub's or GitLab's REST API with a token."""

    def __init__(
        self,
        *,
        github_api: str = "https://api.github.com",
        gitlab_api: str = "https://gitlab.com/api/v4",
        tokens: dict[Provider, SecretStr | None],
        session: requests.Session | None = None,
    ) -> None:
        self.github_api = github_api.rstrip("/")
        self.gitlab_api = gitlab_api.rstrip("/")
        self._tokens = tokens
        self._session = session or requests.Session()

    def __repr__(self) -> str:
        return f"CommitStatusClient({self.github_api!r}, {self.gitlab_api!r})"

    def post(self, target: StatusTarget, outcome: Outcome, description: str, target_url: str) -> None:
        token = self._tokens.get(target.provider)
        if token is None:
            logger.info(
                "no status token for the provider: commit status skipped", extra={"provider": target.provider}
            )
            return
        context = f"flowops/{target.environment}"
        text = description[:MAX_DESCRIPTION]
        if target.provider == "github":
            url = f"{self.github_api}/repos/{target.repository}/statuses/{target.commit}"
            headers = {
                "Authorization": f"Bearer {token.get_secret_value()}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
            }
            body = {
                "state": _GITHUB_STATE[outcome],
                "target_url": target_url,
                "description": text,
                "context": context,
            }
        else:
            project = target.project_id or quote(target.repository, safe="")
            url = f"{self.gitlab_api}/projects/{project}/statuses/{target.commit}"
            headers = {"PRIVATE-TOKEN": token.get_secret_value()}
            body = {
                "state": _GITLAB_STATE[outcome],
                "ref": target.ref,
                "name": context,
                "target_url": target_url,
                "description": text,
            }
        try:
            response = self._session.post(url, json=body, headers=headers, timeout=_TIMEOUT)
        except requests.RequestException as error:
            raise StatusPostError(f"{url}: {type(error).__name__}") from None
        if response.status_code >= 300:
            raise StatusPostError(f"{url} answered {response.status_code}")


class PushStatusReporter:
    """The webhook's `StatusReporter`: pending (and the target kept) at start, failure on refusal.

    A status that cannot be posted never fails the delivery: the release matters more than its
    report, and the final status is posted again when the release ends."""

    def __init__(self, client: CommitStatusClient, targets: StatusTargets, *, run_url: str) -> None:
        self._client = client
        self._targets = targets
        self.run_url = run_url.rstrip("/")

    def link(self, release_id: str) -> str:
        return f"{self.run_url}/{release_id}" if release_id else self.run_url

    def pending(self, event: PushEvent, environment: str, release_id: str, description: str) -> None:
        target = StatusTarget.of(event, environment, release_id)
        self._targets.keep(target)
        self._post(target, "pending", description)

    def failed(self, event: PushEvent, environment: str, description: str) -> None:
        self._post(StatusTarget.of(event, environment, ""), "failure", description)

    def _post(self, target: StatusTarget, outcome: Outcome, description: str) -> None:
        try:
            self._client.post(target, outcome, description, self.link(target.release_id))
        except StatusPostError as error:
            logger.warning("commit status not posted", extra={"outcome": outcome, "error": str(error)})


_FAILURE_WORDS = {
    "Release.Invalid": "invalid",
    "Release.RolledBack": "failed and rolled back",
    "Release.RollbackFailed": "failed; ROLLBACK FAILED",
    "Release.NotApproved": "not approved",
}


def outcome_of(
    execution_status: str, output: str | None, error: str | None, cause: str | None
) -> tuple[Outcome, str]:
    """The commit status for a finished release execution (states of release_workflow.py):
    `Released` / `NothingToRelease` succeed; `ReleaseInvalid`, `RolledBack`, ... fail with a cause."""
    document: dict[str, object] = {}
    if output:
        try:
            parsed = json.loads(output)
            document = parsed if isinstance(parsed, dict) else {}
        except ValueError:
            document = {}
    summary = str(document.get("summary", "") or "")
    if execution_status == "SUCCEEDED":
        return "success", summary or "released"
    if execution_status == "RUNNING":
        return "running", "release running"
    word = _FAILURE_WORDS.get(error or "", (error or execution_status).lower())
    text = f"{word}: {cause}" if cause else word
    if execution_status == "ABORTED":
        return "canceled", text
    return ("error" if execution_status == "TIMED_OUT" else "failure"), text


def report_running(
    release_id: str, *, targets: StatusTargets, client: CommitStatusClient, run_url: str
) -> StatusTarget | None:
    """The release execution started: GitLab's commit shows `running` (its states are pending,
    running, success, failed, canceled). GitHub has no such state (its `pending` was posted when
    the push was accepted), so nothing is posted there.

    Informational, so never raised: events are delivered unordered, and a `running` that comes
    after the final status is refused by GitLab itself (a finished status cannot transition to
    running), which is exactly right; GitHub would accept a late `pending`, hence none is sent."""
    target = targets.find(release_id)
    if target is None or target.provider != "gitlab":
        return target
    try:
        client.post(target, "running", "release running", f"{run_url.rstrip('/')}/{release_id}")
    except StatusPostError as error:
        logger.info("running status not posted", extra={"release_id": release_id, "error": str(error)})
    return target


def report_outcome(
    release_id: str,
    execution_status: str,
    output: str | None,
    error: str | None,
    cause: str | None,
    *,
    targets: StatusTargets,
    client: CommitStatusClient,
    run_url: str,
) -> StatusTarget | None:
    """Post the final status of a git-started release; None when the release was not started by
    a push (CLI releases have no commit to report on). Raises StatusPostError for a retry."""
    target = targets.find(release_id)
    if target is None:
        return None
    outcome, description = outcome_of(execution_status, output, error, cause)
    client.post(target, outcome, description, f"{run_url.rstrip('/')}/{release_id}")
    return target
