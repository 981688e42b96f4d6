"""API Gateway handler of `POST /git/push`: GitHub and GitLab push webhooks.

Thin: raw body and headers to `PushReleaser.accept`; its answer is the 200 body (started,
ignored with the reason, pong, refused with the reason); `WebhookError`s map to their status.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions._http import Request, Response, Router, raw_body
from flowops.git.factory import build_push_releaser
from flowops.git.service import PushReleaser
from flowops.git.settings import GitPushSettings
from flowops.observability import get_tracer, logger, metrics
from flowops.webhook.errors import WebhookError

app = Router()
tracer = get_tracer()


@lru_cache(maxsize=4)
def releaser_for(settings: GitPushSettings) -> PushReleaser:
    return build_push_releaser(settings)


@app.post("/git/push")
def push(request: Request) -> Response:
    releaser = releaser_for(GitPushSettings())  # type: ignore[call-arg]  # filled from the environment
    answer = releaser.accept(raw_body(request), dict(request.headers))
    return Response(status_code=200, body=answer.model_dump_json())


@app.exception_handler(WebhookError)
def refuse(error: WebhookError) -> Response:
    logger.info(
        "git push refused", extra={"status": error.status_code, "code": error.code, "reason": error.message}
    )
    return Response(
        status_code=error.status_code, body=json.dumps({"message": error.message, "code": error.code})
    )


# Also what an unknown route gets (`RouteNotFoundError` has no handler of its own here): a 500.
@app.exception_handler(Exception)
def fail(error: Exception) -> Response:
    logger.exception("git push failed unexpectedly", extra={"error_type": type(error).__name__})
    return Response(status_code=500, body=json.dumps({"message": "internal error", "code": "git.internal"}))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event)
