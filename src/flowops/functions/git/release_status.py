"""EventBridge "Step Functions Execution Status Change" (Release state machine) → the commit
status of a git-started release (GitLab: `running` when it starts), then its final status, then
`live/<env>` in Git: the flows it released, or after a rollback what the org runs again (a flow
it created and deleted loses its file), plus what an earlier failed mirror missed.

A status or mirror push the provider did not take raises, so Lambda's asynchronous retries run
it again (both are idempotent: the same status again, and no empty commit when `live/<env>`
already holds the content); a mirror that still fails is carried to the next scan or release.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions._shared import LazyGenesysClient, artifacts, genesys_settings, runs, storage_settings
from flowops.git.drift import GitMirrorFailedError
from flowops.git.factory import git_secrets, pending_mirrors, status_client, status_targets
from flowops.git.mirror import GitMirror, MirrorChange, release_changes
from flowops.git.pending import mirror_carrying
from flowops.git.service import DEFAULT_TOKEN_USER
from flowops.git.settings import GitPushSettings
from flowops.git.status import StatusTarget, report_outcome, report_running
from flowops.observability import logger
from flowops.release.live import GenesysLiveOrg


def released_changes(release_id: str) -> list[MirrorChange]:
    record = runs(storage_settings()).get(release_id)
    flows = record.details.get("flows", []) if record is not None else []
    return release_changes([flow for flow in flows if isinstance(flow, dict)])


def mirror(target: StatusTarget, settings: GitPushSettings) -> dict[str, Any]:
    token = git_secrets(settings).write_token(target.provider)
    if token is None or not target.clone_url:
        return {"mirrored": False, "reason": "no write token for the provider: live/<env> is not kept"}
    storage = storage_settings()
    live = GenesysLiveOrg(
        LazyGenesysClient(genesys_settings()),  # type: ignore[arg-type]
        org=storage.flowops_org,
        artifacts=artifacts(storage),
    )
    result = mirror_carrying(
        target.repository,
        target.environment,
        released_changes(target.release_id),
        f"{target.release_id}: live in {target.environment}",
        live=live,
        mirror=GitMirror(target.clone_url, username=DEFAULT_TOKEN_USER[target.provider], token=token),
        pending=pending_mirrors(storage.state_table, storage.flowops_org),
    )
    if result.failed:
        # Carried already; raised so Lambda's asynchronous retries try again now.
        raise GitMirrorFailedError(f"{target.repository} {result.branch}: {result.error}")
    return {"mirrored": result.commits > 0, "commit": result.commit, "carried_in": result.carried_in}


ROLLED_BACK_ERRORS = frozenset({"Release.RolledBack", "Release.RollbackFailed"})
"""A release that failed after publishing: its rollback restored flows and deleted created ones."""


def changed_the_org(status: str, error: object) -> bool:
    return status == "SUCCEEDED" or (status == "FAILED" and error in ROLLED_BACK_ERRORS)


def handle(event: dict[str, Any], settings: GitPushSettings) -> dict[str, Any]:
    detail = event.get("detail") or {}
    name = str(detail.get("name", ""))
    status = str(detail.get("status", ""))
    if not name.startswith("git-") or not status:
        return {"reported": False, "reason": "not a git-started release"}
    secrets = git_secrets(settings)
    if status == "RUNNING":
        started = report_running(
            name,
            targets=status_targets(settings),
            client=status_client(settings, secrets),
            run_url=settings.git_run_url,
        )
        return {"reported": started is not None, "release_id": name, "status": status}
    target = report_outcome(
        name,
        status,
        detail.get("output"),
        detail.get("error"),
        detail.get("cause"),
        targets=status_targets(settings),
        client=status_client(settings, secrets),
        run_url=settings.git_run_url,
    )
    answer: dict[str, Any] = {"reported": target is not None, "release_id": name, "status": status}
    if target is not None and changed_the_org(status, detail.get("error")) and settings.git_mirror:
        answer.update(mirror(target, settings))
    logger.info("git release reported", extra=answer)
    return answer


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(event, GitPushSettings())  # type: ignore[call-arg]  # filled from the environment
