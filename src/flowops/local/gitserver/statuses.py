"""GitHub's commit statuses API, served by the local Git server under `/api/v3` (the path GitHub
Enterprise Server serves its REST API on), so flowops posts statuses locally exactly as it does
to GitHub: `flowops.git.status.CommitStatusClient` with `github_api = <server>/api/v3`.

Modelled on https://docs.github.com/en/rest/commits/statuses:
- `POST /repos/{owner}/{repo}/statuses/{sha}` — `state` (error, failure, pending, success) is
  required, `target_url`, `description`, `context` (default `default`) optional; 201 with the
  status; 422 for a bad state or a commit the repository does not have; 404 for an unknown
  repository; 401 without the server's token when it has one (`Authorization: Bearer|token`).
- `GET /repos/{owner}/{repo}/commits/{ref}/statuses` — the statuses of a commit (a sha or a
  branch), newest first.
Statuses are kept in memory for the server's life, like the rest of the local cloud.
"""

from __future__ import annotations

import hmac
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dulwich.objects import Commit, ObjectID
from dulwich.repo import Repo

API_PREFIX = "/api/v3"
STATES = frozenset({"error", "failure", "pending", "success"})
MAX_BODY_BYTES = 64 * 1024
MAX_DESCRIPTION = 1024
_CREATE = re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/statuses/(?P<sha>[0-9a-f]{40})$")
_LIST = re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/commits/(?P<ref>[^/]+)/statuses$")

StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class CommitStatus:
    id: int
    repository: str
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    created_at: str


class LocalStatusApi:
    """The statuses of every repository under `root` (`<name>.git`), owned by `owner`."""

    def __init__(self, root: Path, *, owner: str, token: str | None, base_url: Callable[[], str]) -> None:
        self.root = root
        self.owner = owner
        self._token = token
        self._base_url = base_url
        self._lock = threading.Lock()
        self.statuses: list[CommitStatus] = []

    def of(self, repository: str, sha: str) -> list[CommitStatus]:
        """The statuses posted on one commit, oldest first."""
        with self._lock:
            return [s for s in self.statuses if s.repository == repository and s.sha == sha]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", "")).removeprefix(API_PREFIX)
        method = environ.get("REQUEST_METHOD", "GET")
        if not self._authorized(environ):
            return _answer(start_response, 401, {"message": "Requires authentication"})
        create, listing = _CREATE.match(path), _LIST.match(path)
        if create and method == "POST":
            return self._create(environ, start_response, create.groupdict())
        if listing and method == "GET":
            return self._list(start_response, listing.groupdict())
        return _answer(start_response, 404, {"message": "Not Found"})

    def _authorized(self, environ: dict[str, Any]) -> bool:
        if self._token is None:
            return True
        scheme, _, value = str(environ.get("HTTP_AUTHORIZATION", "")).partition(" ")
        return scheme.lower() in ("bearer", "token") and hmac.compare_digest(
            value.strip().encode(), self._token.encode()
        )

    def _repository(self, owner: str, name: str) -> Repo | None:
        path = self.root / f"{name}.git"
        if owner != self.owner or path.parent != self.root or not path.is_dir():
            return None
        return Repo(str(path))

    def _create(
        self, environ: dict[str, Any], start_response: StartResponse, match: dict[str, str]
    ) -> Iterable[bytes]:
        repo = self._repository(match["owner"], match["repo"])
        if repo is None:
            return _answer(start_response, 404, {"message": "Not Found"})
        length_text = str(environ.get("CONTENT_LENGTH") or "0")
        length = int(length_text) if length_text.isdigit() else -1
        if not 0 < length <= MAX_BODY_BYTES:
            return _answer(start_response, 400, {"message": "Problems parsing JSON"})
        try:
            body = json.loads(environ["wsgi.input"].read(length))
        except ValueError:
            return _answer(start_response, 400, {"message": "Problems parsing JSON"})
        if not isinstance(body, dict) or body.get("state") not in STATES:
            return _validation_failed(start_response, "state", "invalid")
        sha = match["sha"]
        try:
            found = isinstance(repo.object_store[ObjectID(sha.encode())], Commit)
        except KeyError:
            found = False
        if not found:
            return _answer(start_response, 422, {"message": f"No commit found for SHA: {sha}"})
        description = body.get("description")
        with self._lock:
            status = CommitStatus(
                id=len(self.statuses) + 1,
                repository=f"{match['owner']}/{match['repo']}",
                sha=sha,
                state=str(body["state"]),
                context=str(body.get("context") or "default"),
                description=str(description)[:MAX_DESCRIPTION] if description is not None else None,
                target_url=str(body["target_url"]) if body.get("target_url") else None,
                created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
            self.statuses.append(status)
        return _answer(start_response, 201, self._document(status))

    def _list(self, start_response: StartResponse, match: dict[str, str]) -> Iterable[bytes]:
        repo = self._repository(match["owner"], match["repo"])
        if repo is None:
            return _answer(start_response, 404, {"message": "Not Found"})
        ref = match["ref"]
        sha = ref
        if not re.fullmatch(r"[0-9a-f]{40}", ref):
            head = repo.refs.as_dict().get(f"refs/heads/{ref}".encode())
            if head is None:
                return _answer(start_response, 422, {"message": f"No commit found for SHA: {ref}"})
            sha = head.decode()
        statuses = self.of(f"{match['owner']}/{match['repo']}", sha)
        return _answer(start_response, 200, [self._document(s) for s in reversed(statuses)])

    def _document(self, status: CommitStatus) -> dict[str, Any]:
        document = asdict(status)
        repository, sha = document.pop("repository"), document.pop("sha")
        document["updated_at"] = document["created_at"]
        document["url"] = f"{self._base_url()}{API_PREFIX}/repos/{repository}/statuses/{sha}"
        return document


def _validation_failed(start_response: StartResponse, field: str, code: str) -> Iterable[bytes]:
    return _answer(
        start_response,
        422,
        {"message": "Validation Failed", "errors": [{"resource": "Status", "field": field, "code": code}]},
    )


def _answer(start_response: StartResponse, status: int, body: object) -> Iterable[bytes]:
    reasons = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}
    data = json.dumps(body).encode()
    start_response(
        f"{status} {reasons.get(status, 'Unprocessable Entity')}",
        [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(data)))],
    )
    return [data]
