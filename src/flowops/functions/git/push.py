"""API Gateway handler of `POST /git/push`: GitHub and GitLab push webhooks.

Thin: raw body and headers to `PushReleaser.accept`; its answer is the 200 body (started,
ignored with the reason, pong, refused with the reason); `WebhookError`s map to their status.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions.webhook.api import raw_body
from flowops.git.factory import build_push_releaser
from flowops.git.service import PushReleaser
from flowops.git.settings import GitPushSettings
from flowops.observability import get_tracer, logger, metrics
from flowops.webhook.errors import WebhookError

app = APIGatewayRestResolver()
tracer = get_tracer()


@lru_cache(maxsize=4)
def releaser_for(settings: GitPushSettings) -> PushReleaser:
    return build_push_releaser(settings)


@app.post("/git/push")
def push() -> Response[str]:
    releaser = releaser_for(GitPushSettings())  # type: ignore[call-arg]  # filled from the environment
    event = app.current_event
    answer = releaser.accept(raw_body(event), dict(event.headers or {}))
    return Response(
        status_code=200, content_type=content_types.APPLICATION_JSON, body=answer.model_dump_json()
    )


@app.exception_handler(WebhookError)
def refuse(error: WebhookError) -> Response[str]:
    logger.info(
        "git push refused", extra={"status": error.status_code, "code": error.code, "reason": error.message}
    )
    return Response(
        status_code=error.status_code,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"message": error.message, "code": error.code}),
    )


@app.exception_handler(Exception)
def fail(error: Exception) -> Response[str]:
    logger.exception("git push failed unexpectedly", extra={"error_type": type(error).__name__})
    return Response(
        status_code=500,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"message": "internal error", "code": "git.internal"}),
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
