"""A mirror that did not land is carried: the flows a refused (or unreachable) `live/<env>`
push missed are kept per repository and folded into the next mirror commit — the next scan's,
even one that finds no new drift, or the next release's — until one lands.

Kept in the state table (`pk = gitmirror#<org>`, `sk = <environment>#<repository>`) with an
expiry that each new failure moves on: a repository refusing for longer than that has a person
looking at it (the Lambda error alarm), and the next release or drift of those flows brings
them back. Carrying re-exports the flows as they are in the org THEN, so replaying an old
failure commits the current state, never a stale one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from flowops.git.mirror import (
    GitMirror,
    MirrorChange,
    MirrorFile,
    MirrorRejectedError,
    live_branch,
    merge_changes,
    mirror_files,
)
from flowops.git.repository import RepositoryUnavailableError
from flowops.release.live import GenesysLiveOrg

MAX_CARRIED = 1000
"""Flows kept per repository (a DynamoDB item holds 400 KB; a change is ~150 bytes)."""
CARRY_DAYS = 30


class PendingMirror(BaseModel):
    """What one repository's `live/<env>` still misses, since when, and why."""

    model_config = ConfigDict(frozen=True)

    changes: list[MirrorChange] = Field(default_factory=list)
    since: datetime
    failures: int = 1
    reason: str = ""
    dropped: int = 0
    """Flows no longer carried (over MAX_CARRIED): the next change or release of them brings them."""
    revision: int = 0
    """The stored revision read (compare-and-set: a concurrent carry is never lost)."""


class PendingMirrors(Protocol):
    def pending(self, environment: str, repository: str) -> PendingMirror | None: ...

    def carry(self, environment: str, repository: str, changes: Sequence[MirrorChange], reason: str) -> None:
        """Merge `changes` into what is pending (created when none is)."""
        ...

    def settle(self, environment: str, repository: str, landed: PendingMirror) -> None:
        """`landed` reached the branch: forget it, unless more was carried meanwhile (then it
        stays, and the next mirror lands it again with no empty commit)."""
        ...


def carried(pending: PendingMirror | None, changes: Sequence[MirrorChange], reason: str) -> PendingMirror:
    """`pending` with `changes` merged in (the oldest dropped past MAX_CARRIED)."""
    merged = merge_changes(pending.changes if pending else [], changes)
    over = max(0, len(merged) - MAX_CARRIED)
    return PendingMirror(
        changes=merged[over:],
        since=pending.since if pending else datetime.now(UTC),
        failures=(pending.failures + 1) if pending else 1,
        reason=reason[:500],
        dropped=(pending.dropped if pending else 0) + over,
        revision=pending.revision if pending else 0,
    )


class RepositoryMirror(BaseModel):
    """What one repository's `live/<env>` got."""

    model_config = ConfigDict(frozen=True)

    repository: str
    branch: str
    commit: str | None = None
    """The branch head after the push (None: nothing pushed)."""
    commits: int = 0
    attempts: int = 0
    rejections: list[str] = Field(default_factory=list)
    error: str = ""
    """Why nothing was pushed: no write token, unreachable, rejected every attempt."""
    failed: bool = False
    """The push was tried and did not land (a retry may): not a configuration gap."""
    carried_in: int = 0
    """Flows an earlier failed mirror missed, folded into this one."""
    pending: int = 0
    """Flows waiting for the next mirror after this one failed (0 once it landed)."""
    pending_since: datetime | None = None
    skipped: list[str] = Field(default_factory=list)
    flows: int = 0


def mirror_carrying(
    repository: str,
    environment: str,
    changes: Sequence[MirrorChange],
    message: str,
    *,
    live: GenesysLiveOrg,
    mirror: GitMirror,
    pending: PendingMirrors,
    export_cache: dict[str, tuple[list[MirrorFile], list[str]]] | None = None,
) -> RepositoryMirror:
    """Mirror `changes` plus whatever an earlier failure left pending for this repository to
    `live/<environment>`; a failure carries all of them to the next mirror."""
    branch = live_branch(environment)
    before = pending.pending(environment, repository)
    wanted = merge_changes(before.changes if before else [], changes)
    if not wanted:
        return RepositoryMirror(repository=repository, branch=branch)
    key = MirrorChangeList(changes=wanted).model_dump_json()
    cache = export_cache if export_cache is not None else {}
    if key not in cache:
        cache[key] = mirror_files(live, wanted)
    files, skipped = cache[key]
    if not files:  # nothing to write or remove (never published, gone without a name)
        if before is not None:
            pending.settle(environment, repository, before)
        return RepositoryMirror(repository=repository, branch=branch, skipped=skipped)
    note = f" (carried from a failed mirror: {len(before.changes)} flow(s))" if before else ""
    carried_in = len(before.changes) if before else 0
    try:
        result = mirror.publish(branch, files, f"{message}{note}")
    except (MirrorRejectedError, RepositoryUnavailableError) as error:
        pending.carry(environment, repository, wanted, str(error))
        after = pending.pending(environment, repository)
        rejected = isinstance(error, MirrorRejectedError)
        return RepositoryMirror(
            repository=repository,
            branch=branch,
            attempts=mirror.attempts if rejected else 1,
            error=str(error)[:500],
            failed=True,
            carried_in=carried_in,
            pending=len(after.changes) if after else len(wanted),
            pending_since=after.since if after else None,
            skipped=skipped,
            flows=len(files),
        )
    if before is not None:
        pending.settle(environment, repository, before)
    return RepositoryMirror(
        repository=repository,
        branch=branch,
        commit=result.commit,
        commits=result.commits,
        attempts=result.attempts,
        rejections=result.rejections,
        carried_in=carried_in,
        skipped=skipped,
        flows=len(files),
    )


class MirrorChangeList(BaseModel):
    """The stored form of a pending mirror's changes."""

    changes: list[MirrorChange]
