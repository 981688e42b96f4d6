"""What the trace handlers need beyond the shared wiring (flowops.functions._shared): the Genesys trace
source and the delivery webhook with its signing secret."""

from __future__ import annotations

from flowops.functions._shared import (
    artifacts,
    audit_log,
    aws_client,
    genesys_client,
    step_errors,
    storage_settings,
    utc_now,
)
from flowops.trace.delivery import WebhookEndpoint, parse_signing_secret
from flowops.trace.genesys_source import GenesysTraceSource
from flowops.trace.request import DeliveryFailedError
from flowops.trace.settings import TraceDeliverySettings


def delivery_settings() -> TraceDeliverySettings:
    return TraceDeliverySettings()


def trace_source() -> GenesysTraceSource:
    return GenesysTraceSource(genesys_client())


def webhook_endpoint(settings: TraceDeliverySettings) -> WebhookEndpoint | None:
    """The configured webhook with its signing secret, or None when no URL is configured."""
    if not settings.trace_webhook_url:
        return None
    if not settings.trace_webhook_secret_id:
        raise DeliveryFailedError("TRACE_WEBHOOK_URL is set but TRACE_WEBHOOK_SECRET_ID is not: cannot sign")
    try:
        secret_string = aws_client("secretsmanager").get_secret_value(
            SecretId=settings.trace_webhook_secret_id
        )["SecretString"]
    except Exception as error:
        # The type only: a Secrets Manager message could quote more than the secret's name.
        raise DeliveryFailedError(
            f"cannot read the trace webhook secret {settings.trace_webhook_secret_id!r}: "
            f"{type(error).__name__}"
        ) from None
    return WebhookEndpoint(
        url=settings.trace_webhook_url,
        secret=parse_signing_secret(str(secret_string)),
        timeout_seconds=settings.trace_webhook_timeout_seconds,
    )


__all__ = [
    "artifacts",
    "audit_log",
    "aws_client",
    "delivery_settings",
    "step_errors",
    "storage_settings",
    "trace_source",
    "utc_now",
    "webhook_endpoint",
]
