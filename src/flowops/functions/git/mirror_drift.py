"""Scan step `MirrorDriftToGit` (only in stacks with `git` mirroring): the flows the scan found
changed are committed to `live/<env>` of each repository that releases to this environment.

Thin: the scan's full diff from its report, one write token per provider from the Git secret,
what earlier failed mirrors left pending (state table), then `flowops.git.drift.mirror_drift`.
A repository that did not take the commit fails the step (`Git.MirrorFailed`) after the others
got theirs, with its flows carried to the next mirror; the state machine retries, then records it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions._shared import (
    LazyGenesysClient,
    artifacts,
    genesys_settings,
    step_errors,
    storage_settings,
)
from flowops.git.drift import (
    DriftMirrorRequest,
    GitMirrorFailedError,
    MirrorTarget,
    clone_url,
    drift_changes,
    mirror_drift,
    routes_to,
    scan_drift,
    token_username,
)
from flowops.git.factory import git_secrets, pending_mirrors
from flowops.git.mirror import GitMirror
from flowops.git.service import DEFAULT_TOKEN_USER
from flowops.git.settings import GitSettings
from flowops.lambda_event import parse_event
from flowops.observability import logger
from flowops.release.live import GenesysLiveOrg


def mirror_targets(settings: GitSettings) -> list[MirrorTarget]:
    secrets = git_secrets(settings)
    targets = []
    for route in routes_to(settings.git_routing, settings.flowops_environment):
        token = secrets.write_token(route.provider)
        url = clone_url(route, github_api=settings.git_github_api, gitlab_api=settings.git_gitlab_api)
        mirror = (
            GitMirror(url, username=token_username(route, DEFAULT_TOKEN_USER), token=token)
            if token is not None
            else None
        )
        targets.append(MirrorTarget(repository=route.repository, mirror=mirror))
    return targets


@logger.inject_lambda_context
@step_errors
@parse_event(model=DriftMirrorRequest)
def handler(event: DriftMirrorRequest, context: LambdaContext) -> dict[str, Any]:
    settings = GitSettings()  # type: ignore[call-arg]  # filled from the environment
    storage = storage_settings()
    store = artifacts(storage)
    diff = scan_drift(event, store.get_bytes)
    changes = drift_changes(diff) if diff is not None else []
    targets = mirror_targets(settings)
    pending = pending_mirrors(storage.state_table, storage.flowops_org)
    environment = settings.flowops_environment
    if not changes and not any(
        t.mirror is not None and pending.pending(environment, t.repository) for t in targets
    ):
        return {"flows": 0, "reason": "no flow's published content changed and no mirror is pending"}
    live = GenesysLiveOrg(
        LazyGenesysClient(genesys_settings()),  # type: ignore[arg-type]
        org=storage.flowops_org,
        artifacts=store,
    )
    outcome = mirror_drift(event, environment, changes, live=live, targets=targets, pending=pending)
    answer = outcome.model_dump(mode="json")
    logger.info("scan drift mirrored to git", extra={"scan_id": event.scan_id, **answer})
    if outcome.failed:
        raise GitMirrorFailedError(
            "; ".join(
                f"{r.repository} {r.branch}: {r.error} ({r.pending} flow(s) pending since "
                f"{r.pending_since.isoformat() if r.pending_since else 'now'}, carried to the next mirror)"
                for r in outcome.failed
            )[:1000]
        )
    return answer
