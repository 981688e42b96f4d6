"""Out-of-band changes reach Git: after a scan whose lock differs from the previous one, the
published YAML of each flow that changed is committed to `live/<environment>` of every
repository that releases to the environment, authored as the Genesys user who published it.

What counts: flows added, re-versioned (a new published version), renamed or re-typed since the
lock the scan compared with (a rename moves the file), and flows removed from the org (their file
is removed). A flow a git-started release changed is already on `live/<env>` with the same
content, so it makes no commit: only what changed outside Git shows up as new history. A first
scan (nothing to compare with) is a baseline, not drift: it commits nothing. What an earlier
failed mirror missed is folded in (flowops.git.pending), even when the scan found no drift.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from flowops.git.mirror import FlowName, GitMirror, MirrorChange, MirrorFile, live_branch, merge_changes
from flowops.git.pending import PendingMirrors, RepositoryMirror, mirror_carrying
from flowops.git.providers import Provider
from flowops.git.routing import GitRepositoryRoute, GitRouting
from flowops.lock import LockDiff
from flowops.release.live import GenesysLiveOrg
from flowops.scan.models import StoredDrift

MAX_DRIFT_FLOWS = 300
"""Flows exported per scan: each is one export job; more than this is a bulk change to look at
(the rest are named in the outcome, and the next release or drift of them commits them)."""
GITHUB_API = "https://api.github.com"


class DriftMirrorRequest(BaseModel):
    """The scan step's input: which scan, where its full report is, what it compared with."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    scan_id: str = Field(min_length=1, max_length=200)
    report_key: str = Field(min_length=1)
    compared_with_sha: str | None = None
    drift_key: str | None = None
    """BuildLock's diff alone (`scans/<org>/<id>/drift.json`): read instead of the whole report
    when it was computed against the lock the report compares with (the usual case)."""


class DriftMirrorOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    flows: int = 0
    """Flows whose published YAML was exported and offered to the branch."""
    skipped: list[str] = Field(default_factory=list)
    repositories: list[RepositoryMirror] = Field(default_factory=list)

    @property
    def failed(self) -> list[RepositoryMirror]:
        return [r for r in self.repositories if r.failed]


@dataclass(frozen=True)
class MirrorTarget:
    """A repository whose `live/<env>` the scan keeps, with how to push to it."""

    repository: str
    mirror: GitMirror | None
    """None: no write token for the provider (reported, nothing pushed)."""


def drift_changes(diff: LockDiff) -> list[MirrorChange]:
    """Flows whose published content or file path changed, or that left the org, in a stable
    order (one change per flow: a flow renamed and re-versioned is one move)."""
    changes = [
        MirrorChange(flow_id=flow.id, type=flow.type, name=flow.name)
        for flow in diff.flows_added
        if flow.published_version
    ]
    changes += [
        MirrorChange(flow_id=change.flow_id, name=change.name)
        for change in diff.flows_reversioned
        if change.new_version
    ]
    changes += [
        MirrorChange(flow_id=change.flow_id, name=change.new_name, previous=[FlowName(name=change.old_name)])
        for change in diff.flows_renamed
    ]
    changes += [
        MirrorChange(
            flow_id=change.flow_id,
            type=change.new_type,
            name=change.name,
            previous=[FlowName(type=change.old_type, name=change.name)],
        )
        for change in diff.flows_retyped
    ]
    changes += [MirrorChange(flow_id=flow.id, type=flow.type, name=flow.name) for flow in diff.flows_removed]
    return merge_changes(changes)


def routes_to(routing: GitRouting, environment: str) -> list[GitRepositoryRoute]:
    """The repositories with a branch that releases to `environment`: their `live/<env>` mirrors it."""
    return [route for route in routing.repositories if environment in route.branches.values()]


def clone_url(route: GitRepositoryRoute, *, github_api: str, gitlab_api: str) -> str:
    """The route's `cloneUrl`, else the provider's HTTPS clone URL derived from its API base
    (github.com for api.github.com; `https://HOST` for GitHub Enterprise's `https://HOST/api/v3`
    and self-managed GitLab's `https://HOST/api/v4`)."""
    if route.clone_url:
        return route.clone_url
    api = (github_api if route.provider == "github" else gitlab_api).rstrip("/")
    web = "https://github.com" if api == GITHUB_API else api.removesuffix("/api/v3").removesuffix("/api/v4")
    return f"{web}/{route.repository}.git"


def token_username(route: GitRepositoryRoute, default: dict[Provider, str]) -> str:
    return route.token_username or default[route.provider]


def mirror_drift(
    request: DriftMirrorRequest,
    environment: str,
    changes: Sequence[MirrorChange],
    *,
    live: GenesysLiveOrg,
    targets: Sequence[MirrorTarget],
    pending: PendingMirrors,
) -> DriftMirrorOutcome:
    """Offer the drifted flows (plus what each repository still misses from a failed mirror) to
    each target's `live/<environment>`; exports are made once per distinct set of flows.

    A target that refuses (rejected every attempt, unreachable, token refused) is reported in
    its entry, its flows carried to the next mirror, and the others still get theirs; nothing
    is ever forced."""
    chosen = merge_changes(changes)
    over = chosen[MAX_DRIFT_FLOWS:]
    chosen = chosen[:MAX_DRIFT_FLOWS]
    named = ", ".join(change.flow_id for change in over[:20])
    over_note = (
        [f"{len(over)} more flows over the per-scan limit of {MAX_DRIFT_FLOWS}: {named}"] if over else []
    )
    branch = live_branch(environment)
    message = f"{request.scan_id}: changed outside Git, live in {environment}"
    exports: dict[str, tuple[list[MirrorFile], list[str]]] = {}
    results: list[RepositoryMirror] = []
    for target in targets:
        if target.mirror is None:
            results.append(
                RepositoryMirror(
                    repository=target.repository,
                    branch=branch,
                    error="no write token for the provider in the Git secret: live/<env> is not kept",
                )
            )
            continue
        results.append(
            mirror_carrying(
                target.repository,
                environment,
                chosen,
                message,
                live=live,
                mirror=target.mirror,
                pending=pending,
                export_cache=exports,
            )
        )
    flows = max((r.flows for r in results), default=0)
    skipped = list(dict.fromkeys(s for r in results for s in r.skipped)) + over_note
    return DriftMirrorOutcome(flows=flows, skipped=skipped, repositories=results)


class GitMirrorFailedError(Exception):
    """A repository's `live/<env>` did not take the scan's drift (rejected every attempt or
    unreachable): the step fails under this name so Step Functions retries it, and the Lambda
    error alarm reports it when the retries run out."""

    asl_error_name = "Git.MirrorFailed"


def scan_drift(request: DriftMirrorRequest, read: Callable[[str], bytes]) -> LockDiff | None:
    """The scan's full diff (None: a first scan): BuildLock's stored drift when it compares with
    the same lock as the report, else the report's (`scans/<org>/<id>/report.json`, which also
    holds the whole analysis, so it is the larger read)."""
    if request.drift_key:
        stored = StoredDrift.model_validate_json(read(request.drift_key))
        if stored.compared_with_sha == request.compared_with_sha:
            return stored.diff
    drift = json.loads(read(request.report_key)).get("drift")
    return LockDiff.model_validate(drift) if isinstance(drift, dict) else None
