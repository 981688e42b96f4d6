"""In-memory collaborators of PushReleaser: each models the real one's contract."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import SecretStr

from flowops.git.mirror import MirrorChange
from flowops.git.pending import PendingMirror, carried
from flowops.git.providers import Provider, PushEvent
from flowops.git.repository import RepositoryUnavailableError
from flowops.git.service import PushAnswer
from flowops.release.bundle import ReleaseBundle

GITHUB_SECRET = "It's a Secret to Everybody"
GITLAB_TOKEN = "gitlab-secret-token"


class Secrets:
    def __init__(self, *, read_token: str | None = "read-token") -> None:  # noqa: S107 (a fake)
        self._read = SecretStr(read_token) if read_token else None

    def webhook_secret(self, provider: Provider) -> SecretStr | None:
        return SecretStr(GITHUB_SECRET if provider == "github" else GITLAB_TOKEN)

    def read_token(self, provider: Provider) -> SecretStr | None:
        return self._read


class Deliveries:
    def __init__(self) -> None:
        self.answers: dict[str, PushAnswer] = {}

    def answered(self, delivery_id: str) -> PushAnswer | None:
        return self.answers.get(delivery_id)

    def record(self, delivery_id: str, answer: PushAnswer) -> None:
        self.answers.setdefault(delivery_id, answer)


@dataclass
class Starter:
    """Step Functions' contract: an execution name starts at most one execution."""

    started: dict[str, ReleaseBundle] = field(default_factory=dict)
    calls: int = 0
    requesters: list[str] = field(default_factory=list)

    def start(
        self, name: str, bundle: ReleaseBundle, *, environment: str, requester: str, reason: str
    ) -> str:
        self.calls += 1
        if name not in self.started:
            self.started[name] = bundle
            self.requesters.append(requester)
        return f"arn:aws:states:eu-west-1:123456789012:execution:Release:{name}"


@dataclass
class Repository:
    """Commits as {commit: {path: bytes}}; `down` makes every read fail like a dead server."""

    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)
    down: bool = False
    reads: list[tuple[str, str, str, str | None]] = field(default_factory=list)

    def reader(self, url: str, username: str, token: SecretStr | None) -> Repository:
        self._url, self._username = url, username
        self._token = token.get_secret_value() if token else None
        return self

    def files(self, commit: str, directory: str) -> dict[str, bytes] | None:
        self.reads.append((commit, self._url, self._username, self._token))
        if self.down:
            raise RepositoryUnavailableError("connection refused")
        tree = self.commits.get(commit)
        if tree is None:
            return None
        prefix = f"{directory.strip('/')}/" if directory.strip("/") else ""
        return {p[len(prefix) :]: data for p, data in tree.items() if p.startswith(prefix)}


@dataclass
class Statuses:
    calls: list[tuple[str, str, str, str]] = field(default_factory=list)

    def pending(self, event: PushEvent, environment: str, release_id: str, description: str) -> None:
        self.calls.append(("pending", event.after, environment, description))

    def failed(self, event: PushEvent, environment: str, description: str) -> None:
        self.calls.append(("failure", event.after, environment, description))


class MemoryPendingMirrors:
    """DynamoPendingMirrors' contract in a dict: compare-and-set on the revision."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], PendingMirror] = {}

    def pending(self, environment: str, repository: str) -> PendingMirror | None:
        return self.items.get((environment, repository))

    def carry(self, environment: str, repository: str, changes: Sequence[MirrorChange], reason: str) -> None:
        now = self.items.get((environment, repository))
        merged = carried(now, changes, reason)
        self.items[(environment, repository)] = merged.model_copy(update={"revision": merged.revision + 1})

    def settle(self, environment: str, repository: str, landed: PendingMirror) -> None:
        now = self.items.get((environment, repository))
        if now is not None and now.revision == landed.revision:
            del self.items[(environment, repository)]
