"""API Gateway (REST, proxy integration) handler of the publish and release webhook.

Thin on purpose: take the raw body and headers out of the event, hand them to
`PublishWebhook.accept`, shape the 202. Every refusal becomes a response in `refuse` below:
that function is the one place where errors map to HTTP statuses.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from flowops.functions._http import Request, Response, RouteNotFoundError, Router, raw_body
from flowops.observability import get_tracer, logger, metrics
from flowops.webhook.errors import InvalidRequestError, WebhookError
from flowops.webhook.factory import build_publish_webhook
from flowops.webhook.service import PublishWebhook
from flowops.webhook.settings import WebhookSettings

app = Router()
tracer = get_tracer()


@lru_cache(maxsize=4)
def webhook_for(settings: WebhookSettings) -> PublishWebhook:
    """One `PublishWebhook` per configuration, kept across invocations (its secret cache too)."""
    return build_publish_webhook(settings)


def _accept(route: str, request: Request) -> Response:
    """Verify, claim and start one delivery of `route` ("publish" or "release"); 202 with the run."""
    # Settings are read per call: the local runtime overlays env per invocation thread.
    webhook = webhook_for(WebhookSettings())  # type: ignore[call-arg]  # filled from the environment
    accept = webhook.accept if route == "publish" else webhook.accept_release
    accepted = accept(raw_body(request), dict(request.headers))
    metrics.add_metric(
        name="WebhookReplayed" if accepted.replayed else "WebhookAccepted", unit=MetricUnit.Count, value=1
    )
    return Response(status_code=202, body=accepted.model_dump_json(by_alias=True))


@app.post("/publish")
def publish(request: Request) -> Response:
    return _accept("publish", request)


@app.post("/release")
def release(request: Request) -> Response:
    return _accept("release", request)


@app.exception_handler(WebhookError)
def refuse(error: WebhookError) -> Response:
    """The single error → status mapping: each `WebhookError` carries its status and code."""
    fields = list(error.fields) if isinstance(error, InvalidRequestError) else []
    logger.info(
        "webhook request refused",
        extra={"status": error.status_code, "code": error.code, "reason": error.message, "fields": fields},
    )
    metrics.add_metric(name="WebhookRefused", unit=MetricUnit.Count, value=1)
    payload: dict[str, Any] = {"message": error.message, "code": error.code}
    if fields:
        payload["fields"] = fields
    return Response(status_code=error.status_code, body=json.dumps(payload))


@app.exception_handler(RouteNotFoundError)
def no_such_route(error: RouteNotFoundError) -> Response:
    # Registered explicitly: otherwise the catch-all below would turn unknown routes into 500s.
    return Response(
        status_code=404,
        body=json.dumps(
            {
                "message": "no such route; the webhook serves POST /publish and POST /release",
                "code": "webhook.no_route",
            }
        ),
    )


@app.exception_handler(Exception)
def fail(error: Exception) -> Response:
    # Anything unexpected: log it with its traceback, answer without details (they may be internal).
    logger.exception("webhook failed unexpectedly", extra={"error_type": type(error).__name__})
    # The 500 hides the error from Lambda's Errors metric: this metric is alarmed instead.
    metrics.add_metric(name="WebhookFailed", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=500, body=json.dumps({"message": "internal error", "code": "webhook.internal"})
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event)
