"""EventBridge "Step Functions Execution Status Change" (Release state machine) → the final
commit status of a git-started release. A status the provider did not take raises, so Lambda's
asynchronous retries post it again."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext
from flowops.git.adapters import DynamoStatusTargets
from flowops.git.factory import git_secrets, status_client
from flowops.git.settings import GitPushSettings
from flowops.git.status import report_outcome
from flowops.observability import logger


def handle(event: dict[str, Any], settings: GitPushSettings) -> dict[str, Any]:
    detail = event.get("detail") or {}
    name = str(detail.get("name", ""))
    status = str(detail.get("status", ""))
    if not name.startswith("git-") or status in ("", "RUNNING"):
        return {"reported": False, "reason": "not a finished git-started release"}
    secrets = git_secrets(settings)
    target = report_outcome(
        name,
        status,
        detail.get("output"),
        detail.get("error"),
        detail.get("cause"),
        targets=DynamoStatusTargets(settings.state_table, client=boto3.client("dynamodb")),
        client=status_client(settings, secrets),
        run_url=settings.git_run_url,
    )
    logger.info(
        "release status reported", extra={"release_id": name, "status": status, "found": target is not None}
    )
    return {"reported": target is not None, "release_id": name, "status": status}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(event, GitPushSettings())  # type: ignore[call-arg]  # filled from the environment
