"""Environment of the webhook function, read once at the edge (never `os.environ` in the core)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from flowops.config import EnvironmentSettings
from flowops.webhook.models import DEFAULT_MAX_INLINE_YAML_BYTES


class WebhookSettings(EnvironmentSettings):
    """`WEBHOOK_*` knobs plus the shared flowops variables the webhook needs."""

    webhook_secret_id: str = Field(min_length=1)
    state_table: str = Field(min_length=1)
    publish_state_machine_arn: str = Field(pattern=r"^arn:[^:]+:states:[^:]*:[^:]*:stateMachine:[^:]+$")
    # Without it `/release` answers 404 (a stack without the Release state machine).
    release_state_machine_arn: str | None = Field(
        default=None, pattern=r"^arn:[^:]+:states:[^:]*:[^:]*:stateMachine:[^:]+$"
    )
    flowops_org: str = Field(min_length=1)
    # Without a bucket the function cannot read the lock or substitutions and skips those checks.
    artifacts_bucket: str | None = None

    webhook_max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    webhook_max_inline_yaml_bytes: int = Field(default=DEFAULT_MAX_INLINE_YAML_BYTES, ge=1)
    webhook_timestamp_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    # Delivery records must outlive the timestamp window, or a replay could slip in after expiry.
    webhook_delivery_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    # Longer than the function timeout: a claim older than this belongs to a dead invocation.
    webhook_claim_lease_seconds: int = Field(default=120, ge=1)
    webhook_secret_cache_seconds: int = Field(default=300, ge=0)
    # Prefix of the status URL returned with 202 (e.g. the API's base URL); `/runs/<name>` follows.
    webhook_status_base_url: str = ""
    webhook_check_environment: bool = True

    @model_validator(mode="after")
    def _ttl_outlives_window(self) -> Self:
        if self.webhook_delivery_ttl_seconds <= self.webhook_timestamp_tolerance_seconds * 2:
            raise ValueError("WEBHOOK_DELIVERY_TTL_SECONDS must exceed twice the timestamp tolerance")
        return self
