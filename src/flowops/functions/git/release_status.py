"""EventBridge "Step Functions Execution Status Change" (Release state machine) → the commit
status of a git-started release (GitLab: `running` when it starts), then its final status, then
(released) `live/<env>` in Git.

A status or mirror push the provider did not take raises, so Lambda's asynchronous retries run
it again (both are idempotent: the same status again, and no empty commit when `live/<env>`
already holds the content).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions._shared import LazyGenesysClient, artifacts, genesys_settings, runs, storage_settings
from flowops.git.factory import git_secrets, status_client, status_targets
from flowops.git.mirror import GitMirror, mirror_release
from flowops.git.service import DEFAULT_TOKEN_USER
from flowops.git.settings import GitPushSettings
from flowops.git.status import StatusTarget, report_outcome, report_running
from flowops.observability import logger
from flowops.release.live import GenesysLiveOrg


def released_flow_ids(release_id: str) -> list[str]:
    record = runs(storage_settings()).get(release_id)
    flows = record.details.get("flows", []) if record is not None else []
    return [str(flow["flow_id"]) for flow in flows if isinstance(flow, dict) and flow.get("flow_id")]


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
    result = mirror_release(
        target.release_id,
        target.environment,
        released_flow_ids(target.release_id),
        live=live,
        mirror=GitMirror(target.clone_url, username=DEFAULT_TOKEN_USER[target.provider], token=token),
    )
    return {"mirrored": result is not None, "commit": result.commit if result else None}


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
    if target is not None and status == "SUCCEEDED" and settings.git_mirror:
        answer.update(mirror(target, settings))
    logger.info("git release reported", extra=answer)
    return answer


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(event, GitPushSettings())  # type: ignore[call-arg]  # filled from the environment
