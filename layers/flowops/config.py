"""Settings read from the environment at the edge (handlers, CLI), never inside the core.

`EnvironmentSettings` fills a pydantic model from `os.environ` the way pydantic-settings did for
these flat models (field name = variable name, any case; arguments win over the environment;
defaults validated), without importing pydantic-settings: its sources (dotenv, AWS, Azure, GCP,
CLI) cost every handler's cold start about as much as pydantic itself (`python -m bench.cold_start`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from flowops.genesys.client import GenesysClient
    from flowops.genesys.credentials import SecretValueProvider
    from flowops.genesys.ratelimit import SharedSchedule

RateLimitScope = Literal["token", "client", "org"]
"""What one Genesys rate-limit budget counts (docs/genesys-limits.md)."""
# Genesys's documented budget of client credentials: 300 requests a minute per token.
DEFAULT_RATE_SCOPE: RateLimitScope = "token"
DEFAULT_RATE_PER_MINUTE = 300


class GenesysRateLimit(BaseModel):
    """cdk.json `genesysRateLimit` of an environment: how its org's Genesys budget is counted
    (docs/genesys-limits.md). `token` (default, what Genesys documents for client credentials):
    each page reader's token has its own budget and the readers run in parallel. `client` or
    `org`: one budget for all of them, shared through one schedule item in the state table.
    The stack (infra/environment.py) and the local cloud (flowops.local.rate_model) read it."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    scope: RateLimitScope = DEFAULT_RATE_SCOPE
    requests_per_minute: int = Field(
        default=DEFAULT_RATE_PER_MINUTE, alias="requestsPerMinute", ge=1, le=100_000
    )
    """The budget until Genesys's `inin-ratelimit-allowed` says otherwise (raised limits)."""

    @property
    def shared(self) -> bool:
        return self.scope != "token"


def environment_values(field_names: list[str]) -> dict[str, str]:
    """The variables named like these fields, in any case: read at call time (the local runtime
    overlays each invocation's environment on `os.environ` per thread)."""
    wanted = set(field_names)
    return {name.lower(): value for name, value in os.environ.items() if name.lower() in wanted}


class EnvironmentSettings(BaseModel):
    """A frozen settings model whose fields not given as arguments come from the environment.

    Only flat values (str, numbers, bools, `Json[...]` for structures): a variable's text is
    validated as the field's value, as pydantic-settings does for non-complex fields.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, validate_default=True)

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**environment_values(list(type(self).model_fields)), **values})


class GenesysSettings(EnvironmentSettings):
    """Where Genesys is and which secret holds the OAuth client (GENESYS_*, FLOWOPS_TIME_SCALE)."""

    genesys_region: str | None = Field(default=None, description="region key, e.g. eu_west_1")
    genesys_base_url: str | None = Field(
        default=None, description="explicit API base URL; overrides the region"
    )
    genesys_token_url: str | None = Field(
        default=None,
        description="explicit OAuth token URL; only needed with a GENESYS_BASE_URL whose login host "
        "cannot be derived (neither api.<domain> nor loopback)",
    )
    genesys_secret_id: str | None = Field(
        default=None, description="Secrets Manager id of {client_id, client_secret}"
    )
    flowops_time_scale: float = Field(default=1.0, gt=0, description="accelerated time for local runs")
    genesys_rate_scope: RateLimitScope = Field(
        default=DEFAULT_RATE_SCOPE,
        description="what one rate-limit budget counts: each token (Genesys's documented default), "
        "the OAuth client or the org; client and org make concurrent readers share one schedule",
    )
    genesys_rate_per_minute: int = Field(
        default=DEFAULT_RATE_PER_MINUTE,
        ge=1,
        description="the budget's requests per minute until inin-ratelimit-allowed says",
    )
    genesys_rate_utilization: float = Field(
        default=0.97,
        gt=0,
        le=1,
        description="share of the budget the client paces at; the rest absorbs timing jitter",
    )

    @property
    def shares_rate_budget(self) -> bool:
        """Whether several processes (the scan's page readers) draw on one budget."""
        return self.genesys_rate_scope != "token"


class StorageSettings(EnvironmentSettings):
    """Where artifacts and state live (FLOWOPS_ORG, ARTIFACTS_BUCKET, STATE_TABLE, AUDIT_TABLE)."""

    flowops_org: str = Field(default="dev", min_length=1)
    artifacts_bucket: str
    state_table: str
    audit_table: str


def build_client_from_settings(
    settings: GenesysSettings,
    secrets_provider: SecretValueProvider | None = None,
    *,
    rate_schedule: SharedSchedule | None = None,
) -> GenesysClient:
    """A client for the configured Genesys location, credentials read from Secrets Manager, paced
    at the configured share of its budget (with `rate_schedule`: a budget shared with other
    processes)."""
    # Imported here so that reading settings never pulls requests/powertools in.
    from flowops.clock import process_clock
    from flowops.genesys.client import GenesysClient
    from flowops.genesys.credentials import load_credentials_from_secrets_manager
    from flowops.genesys.ratelimit import RateLimiter
    from flowops.genesys.regions import resolve_endpoints

    # Validate the location before touching Secrets Manager: a config error should say so.
    resolve_endpoints(
        region=settings.genesys_region,
        base_url=settings.genesys_base_url,
        token_url=settings.genesys_token_url,
    )
    credentials = load_credentials_from_secrets_manager(
        settings.genesys_secret_id or "", provider=secrets_provider
    )
    clock = process_clock(settings.flowops_time_scale)
    return GenesysClient(
        credentials,
        region=settings.genesys_region,
        base_url=settings.genesys_base_url,
        token_url=settings.genesys_token_url,
        clock=clock,
        rate_limiter=RateLimiter(
            clock,
            allowed_per_window=settings.genesys_rate_per_minute,
            utilization=settings.genesys_rate_utilization,
            shared=rate_schedule,
        ),
    )


class DeploymentSettings(EnvironmentSettings):
    """Which environment of the chain this stack serves (FLOWOPS_ENVIRONMENT: dev, test, prod)."""

    flowops_environment: str = Field(default="", description="the stack's environment name")
    flowops_approval_required: bool = Field(
        default=False, description="releases wait for `flowops approve` (cdk.json flowops:promotion.approval)"
    )
    flowops_promotes_from: str = Field(
        default="",
        description="the environment before this one in cdk.json flowops:promotion.chain (empty: first)",
    )
