"""Accepting one provider push webhook: verify, parse, route, read the commit, start once.

Order matters: size, then authenticity (nothing is fetched for an unsigned request), then the
payload, routing, the delivery log, and only then the repository. A release is keyed by
(provider, repository, commit, environment): its Step Functions execution name is derived from
that key, and names are unique per state machine, so a redelivered or replayed push can never
start a second release, whatever its delivery id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from flowops.git.providers import (
    MAX_PUSH_BODY_BYTES,
    PingEvent,
    Provider,
    PushEvent,
    lower_keys,
    parse_github,
    parse_gitlab,
    provider_of,
    verify_github,
    verify_gitlab,
)
from flowops.git.repository import RepositoryReader, RepositoryUnavailableError
from flowops.git.routing import GitRepositoryRoute, GitRouting
from flowops.observability import logger
from flowops.release.bundle import (
    ENVIRONMENTS_DIR,
    FLOWS_DIR,
    YAML_SUFFIXES,
    ReleaseBundle,
    bundle_from_files,
)
from flowops.release.errors import BundleError
from flowops.webhook.errors import DependencyUnavailableError, PayloadTooLargeError

AnswerStatus = Literal["started", "ignored", "pong", "refused"]
DEFAULT_TOKEN_USER: dict[Provider, str] = {"github": "x-access-token", "gitlab": "oauth2"}


class PushAnswer(BaseModel):
    """The 2xx body: what this delivery did, and why when it did nothing."""

    model_config = ConfigDict(frozen=True)

    status: AnswerStatus
    reason: str = ""
    delivery_id: str = ""
    environment: str = ""
    commit: str = ""
    release_id: str = ""
    execution_arn: str = ""
    flows: list[str] = Field(default_factory=list)
    replayed: bool = False


class GitSecrets(Protocol):
    def webhook_secret(self, provider: Provider) -> SecretStr | None:
        """GitHub's webhook secret / GitLab's secret token; None when the provider is not set up."""
        ...

    def read_token(self, provider: Provider) -> SecretStr | None:
        """The token that reads repositories over smart HTTP (None: public repositories)."""
        ...


class DeliveryLog(Protocol):
    def answered(self, delivery_id: str) -> PushAnswer | None: ...

    def record(self, delivery_id: str, answer: PushAnswer) -> None:
        """Keep the answer (first writer wins; a later one for the same id is dropped)."""
        ...


class ReleaseStarter(Protocol):
    def start(
        self, name: str, bundle: ReleaseBundle, *, environment: str, requester: str, reason: str
    ) -> str:
        """Store the bundle and start the release execution `name`; its ARN. Starting a name
        that exists returns the existing execution's ARN and starts nothing."""
        ...


class StatusReporter(Protocol):
    def pending(self, event: PushEvent, environment: str, release_id: str, description: str) -> None: ...

    def failed(self, event: PushEvent, environment: str, description: str) -> None: ...


ReaderFactory = Callable[[str, str, SecretStr | None], RepositoryReader]


def release_name(provider: Provider, repository: str, commit: str, environment: str) -> str:
    """The release's execution name: a function of (provider, repository, commit, environment)."""
    digest = hashlib.sha256(f"{provider}\n{repository.lower()}\n{commit}\n{environment}".encode()).hexdigest()
    return f"git-{environment}-{commit[:12]}-{digest[:24]}"


def _relative(files: Mapping[str, bytes], route: GitRepositoryRoute) -> dict[str, bytes]:
    return dict(files)


def changed_flow_paths(
    before: Mapping[str, bytes] | None, after: Mapping[str, bytes], environment: str
) -> tuple[list[str], list[str], str]:
    """(flow files to release, flow files deleted, why) between two release-directory trees.

    `before` None (new branch, force-push that removed it, unreadable) → every flow file: the
    plan against the org then decides what actually changes. A change to the environment's
    options file changes every flow's substitutions, so it also releases every flow.
    """
    flows = sorted(p for p in after if p.startswith(f"{FLOWS_DIR}/") and p.endswith(YAML_SUFFIXES))
    if before is None:
        return flows, [], "the previous commit is not readable: every flow file"
    env_files = {f"{ENVIRONMENTS_DIR}/{environment}{suffix}" for suffix in YAML_SUFFIXES}
    if any(before.get(path) != after.get(path) for path in env_files):
        return flows, [], f"{ENVIRONMENTS_DIR}/{environment}.yaml changed: every flow file"
    changed = [path for path in flows if before.get(path) != after[path]]
    deleted = sorted(
        p for p in before if p.startswith(f"{FLOWS_DIR}/") and p.endswith(YAML_SUFFIXES) and p not in after
    )
    return changed, deleted, "flow files changed"


class PushReleaser:
    """The provider push webhook's core; every collaborator is injectable."""

    def __init__(
        self,
        *,
        routing: GitRouting,
        environments: frozenset[str],
        secrets: GitSecrets,
        deliveries: DeliveryLog,
        starter: ReleaseStarter,
        reader_factory: ReaderFactory,
        statuses: StatusReporter | None = None,
        max_body_bytes: int = MAX_PUSH_BODY_BYTES,
    ) -> None:
        self.routing = routing
        self.environments = environments
        self._secrets = secrets
        self._deliveries = deliveries
        self._starter = starter
        self._reader_factory = reader_factory
        self._statuses = statuses
        self.max_body_bytes = max_body_bytes

    def __repr__(self) -> str:
        return f"PushReleaser(environments={sorted(self.environments)!r})"

    def _authenticate(self, provider: Provider, body: bytes, headers: Mapping[str, str]) -> None:
        secret = self._secrets.webhook_secret(provider)
        if secret is None:
            from flowops.webhook.errors import SignatureError

            raise SignatureError(
                f"no {provider} webhook secret is configured: every {provider} delivery is refused"
            )
        if provider == "github":
            verify_github(body, headers, secret)
        else:
            verify_gitlab(headers, secret)

    def accept(self, body: bytes, headers: Mapping[str, str]) -> PushAnswer:
        if len(body) > self.max_body_bytes:
            raise PayloadTooLargeError(
                f"request body is {len(body)} bytes; the limit is {self.max_body_bytes}"
            )
        lowered = lower_keys(headers)
        provider = provider_of(lowered)
        self._authenticate(provider, body, lowered)
        event = parse_github(body, lowered) if provider == "github" else parse_gitlab(body, lowered)
        if event is None:
            kind = lowered.get("x-github-event") or lowered.get("x-gitlab-event") or "?"
            return PushAnswer(status="ignored", reason=f"{kind!r} events release nothing (only pushes)")
        if isinstance(event, PingEvent):
            return PushAnswer(status="pong", delivery_id=event.delivery_id, reason="webhook verified")
        previous = self._deliveries.answered(event.delivery_id)
        if previous is not None:
            return previous.model_copy(update={"replayed": True})
        answer = self._answer(event)
        self._deliveries.record(event.delivery_id, answer)
        logger.info(
            "git push handled",
            extra={
                "status": answer.status,
                "reason": answer.reason,
                "delivery_id": event.delivery_id,
                "release_id": answer.release_id,
            },
        )
        return answer

    def _ignored(self, event: PushEvent, reason: str, environment: str = "") -> PushAnswer:
        return PushAnswer(
            status="ignored",
            reason=reason,
            delivery_id=event.delivery_id,
            commit=event.after,
            environment=environment,
        )

    def _answer(self, event: PushEvent) -> PushAnswer:
        route = self.routing.route(event.provider, event.repository)
        if route is None:
            return self._ignored(event, f"repository {event.repository!r} is not configured for flowops")
        branch = event.branch
        if branch is None:
            return self._ignored(event, f"{event.ref!r} is not a branch")
        if event.deleted:
            return self._ignored(event, f"branch {branch!r} was deleted: nothing to release")
        environment = route.branches.get(branch)
        if environment is None:
            mapped = ", ".join(sorted(route.branches)) or "none"
            return self._ignored(
                event, f"branch {branch!r} releases to no environment (configured: {mapped})"
            )
        if environment not in self.environments:
            return self._ignored(
                event, f"branch {branch!r} releases to {environment!r}, not served here", environment
            )
        token = self._secrets.read_token(event.provider)
        reader = self._reader_factory(
            route.clone_url or event.clone_url,
            route.token_username or DEFAULT_TOKEN_USER[event.provider],
            token,
        )
        try:
            after = reader.files(event.after, route.directory)
        except RepositoryUnavailableError as error:
            # 5xx: the provider redelivers (GitHub on request, GitLab automatically); nothing started.
            raise DependencyUnavailableError(f"the repository could not be read: {error}") from None
        if after is None:
            raise DependencyUnavailableError(f"the repository does not (yet) serve commit {event.after}")
        before: dict[str, bytes] | None = None
        if not event.created and not event.forced:
            try:
                before = reader.files(event.before, route.directory)
            except RepositoryUnavailableError:
                before = None
        changed, deleted, why = changed_flow_paths(before, after, environment)
        if not changed:
            note = f" ({len(deleted)} deleted; flowops never deletes flows from a push)" if deleted else ""
            return self._ignored(event, f"no flow file changed under {route.flows_prefix}{note}", environment)
        selected = {path: after[path] for path in changed}
        selected.update({p: data for p, data in after.items() if p.startswith(f"{ENVIRONMENTS_DIR}/")})
        name = release_name(event.provider, event.repository, event.after, environment)
        try:
            bundle = bundle_from_files(selected, source_revision=f"git:{event.after}")
            bundle.substitutions(environment)
        except BundleError as error:
            if self._statuses is not None:
                self._statuses.failed(event, environment, str(error))
            return PushAnswer(
                status="refused",
                reason=str(error),
                delivery_id=event.delivery_id,
                commit=event.after,
                environment=environment,
                flows=changed,
            )
        reason = f"git push {event.repository}@{event.after[:12]} to {branch} ({why})"
        try:
            arn = self._starter.start(
                name, bundle, environment=environment, requester=event.pusher or event.provider, reason=reason
            )
        except DependencyUnavailableError:
            raise
        if self._statuses is not None:
            self._statuses.pending(
                event, environment, name, f"release {name} started ({len(changed)} flow files)"
            )
        return PushAnswer(
            status="started",
            reason=why,
            delivery_id=event.delivery_id,
            commit=event.after,
            environment=environment,
            release_id=name,
            execution_arn=arn,
            flows=changed,
        )
