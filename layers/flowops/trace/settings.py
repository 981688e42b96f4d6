"""Delivery settings read at the edge (the DeliverTrace and RedriveTraceDeliveries handlers)."""

from __future__ import annotations

from pydantic import Field

from flowops.config import EnvironmentSettings


class TraceDeliverySettings(EnvironmentSettings):
    """TRACE_WEBHOOK_URL, TRACE_WEBHOOK_SECRET_ID, TRACE_DEAD_LETTER_QUEUE_URL (+ timeout).

    No URL means delivery is not configured: traces still produce their S3 report and say
    `not_configured`. The secret is referenced by its Secrets Manager id, never by value.
    """

    trace_webhook_url: str | None = Field(default=None, description="observability webhook (https)")
    trace_webhook_secret_id: str | None = Field(
        default=None, description="Secrets Manager id of the HMAC key"
    )
    trace_dead_letter_queue_url: str | None = Field(
        default=None, description="SQS queue of undelivered traces"
    )
    trace_webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
