"""Per-environment settings from the cdk.json context `flowops:environments`.

One entry per deployment target (dev / test / prod): its Genesys region, the NAMES of the
Secrets Manager secrets (OAuth client, CI webhook key, trace delivery key), the scan schedule,
where alarms and trace deliveries go, and the data and log retention. Every setting of an
environment lives here.
The stack is built from this model only, so adding an environment is a cdk.json edit.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flowops.config import GenesysRateLimit
from infra.constants import CONTEXT_GENESYS_RATE_LIMIT

_GENESYS_REGION = re.compile(r"^[a-z]{2}_[a-z]+_\d$")
_SCHEDULE = re.compile(r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$")
# Domains reserved for documentation and tests (RFC 2606, RFC 6761): a placeholder, never a person.
RESERVED_EXAMPLE_DOMAINS = (
    ".example.com",
    ".example.net",
    ".example.org",
    ".example",
    ".invalid",
    ".test",
    ".localhost",
)
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653)


class GitConfig(BaseModel):
    """`git` of an environment: push webhooks from GitHub/GitLab release (docs/git.md)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    secret_name: str = Field(default="", alias="secretName")
    """Name of an EXISTING secret (JSON, fields in docs/git.md); defaults to `flowops/<env>/git`."""
    repositories: list[dict[str, Any]] = Field(min_length=1)
    """Routes as `flowops.git.routing.GitRepositoryRoute` reads them (validated by the function)."""
    run_url: str = Field(default="", alias="runUrl")
    """Link on commit statuses, `<runUrl>/<release id>`; empty: no commit statuses."""
    github_api: str = Field(default="https://api.github.com", alias="githubApi", pattern=r"^https://\S+$")
    gitlab_api: str = Field(default="https://gitlab.com/api/v4", alias="gitlabApi", pattern=r"^https://\S+$")
    mirror: bool = True


class EnvironmentConfig(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,19}$")
    genesys_region: str = Field(alias="genesysRegion")
    """Genesys region key (e.g. `eu_west_1`), not an AWS region."""
    genesys_secret_name: str = Field(alias="genesysSecretName", min_length=1)
    """Name of an EXISTING secret holding {"client_id", "client_secret"}; its value never enters
    the template."""
    org: str = Field(default="", pattern=r"^[A-Za-z0-9._-]*$")
    """Org key in artifact keys and the lock pointer; defaults to the environment name."""
    scan_schedule: str = Field(default="rate(6 hours)", alias="scanSchedule")
    retain_data: bool = Field(default=False, alias="retainData")
    """RETAIN buckets and tables when the stack is deleted (prod) instead of destroying them."""
    log_retention_days: int = Field(default=30, alias="logRetentionDays")
    webhook_secret_name: str = Field(default="", alias="webhookSecretName")
    """Name of an EXISTING secret whose SecretString is the CI webhook's shared HMAC secret;
    defaults to `flowops/<environment>/webhook`."""
    alarm_email: str | None = Field(default=None, alias="alarmEmail", pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    """Subscribe this address to a new alarm topic (AWS emails a confirmation link once)."""
    alarm_topic_arn: str | None = Field(
        default=None, alias="alarmTopicArn", pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$"
    )
    """Send alarms to this EXISTING SNS topic instead of creating one (e.g. the team's on-call topic)."""
    alarm_webhook_url: str | None = Field(default=None, alias="alarmWebhookUrl", pattern=r"^https://\S+$")
    """An HTTPS endpoint (a chat bridge) subscribed to the alarm and RollbackFailed topics; it must
    confirm the subscription (SNS posts a SubscriptionConfirmation first)."""
    trace_webhook_url: str | None = Field(default=None, alias="traceWebhookUrl", pattern=r"^https://\S+$")
    """Where traces are delivered (signed POST); without it traces are reported but not delivered."""
    trace_webhook_secret_name: str = Field(default="", alias="traceWebhookSecretName")
    """Name of an EXISTING secret holding the trace delivery's HMAC key; defaults to
    `flowops/<environment>/trace-webhook`."""
    noncurrent_version_days: int = Field(default=90, alias="noncurrentVersionDays", ge=1)
    run_artifact_days: int = Field(default=90, alias="runArtifactDays", ge=1)
    tracing: bool = True
    """X-Ray tracing of functions and state machines; off, handlers skip the X-Ray SDK at cold start."""
    git: GitConfig | None = None
    """Git push webhooks (`POST /git/push`); absent: no Git resources in the stack."""
    webhook_requests_per_client: int = Field(
        default=300, alias="webhookRequestsPerClient", ge=10, le=2_000_000_000
    )
    """Requests one source IP may send the webhook in 5 minutes before WAF blocks it (AWS: 10 at least)."""
    genesys_rate_limit: GenesysRateLimit = Field(
        default_factory=GenesysRateLimit, alias=CONTEXT_GENESYS_RATE_LIMIT
    )
    """Days per-run artifacts (scans/, publish/, traces/) are kept."""
    account: str | None = None
    region: str | None = None

    @field_validator("genesys_region")
    @classmethod
    def _genesys_region_shape(cls, value: str) -> str:
        if not _GENESYS_REGION.match(value):
            raise ValueError(f"genesysRegion {value!r} is not a Genesys region key like 'eu_west_1'")
        return value

    @field_validator("scan_schedule")
    @classmethod
    def _schedule_shape(cls, value: str) -> str:
        if not _SCHEDULE.match(value):
            raise ValueError(
                f"scanSchedule {value!r} must be an EventBridge rate(...) or cron(...) expression"
            )
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention_is_supported(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(
                f"logRetentionDays {value} is not a CloudWatch Logs retention ({LOG_RETENTION_DAYS})"
            )
        return value

    @model_validator(mode="after")
    def _one_alarm_destination(self) -> EnvironmentConfig:
        if self.alarm_email and self.alarm_topic_arn:
            raise ValueError(
                "give alarmEmail (a new topic with that subscription) or alarmTopicArn (an existing topic), "
                "not both: subscribe the address to the existing topic instead"
            )
        return self

    @property
    def placeholder_destinations(self) -> list[str]:
        """Alarm and trace destinations on a domain reserved for examples (RFC 2606/6761:
        example.com/.net/.org, *.example, *.invalid, *.test, *.localhost): nothing there ever
        reaches a person, so the stack refuses to deploy with them (docs/deploy.md)."""
        found = []
        for value in (self.alarm_email, self.alarm_webhook_url, self.trace_webhook_url):
            if value is None:
                continue
            host = (
                value.rpartition("@")[2] if "@" in value and "://" not in value else value.split("://", 1)[-1]
            )
            host = host.split("/", 1)[0].split(":", 1)[0].lower().rstrip(".")
            if host.endswith(RESERVED_EXAMPLE_DOMAINS) or host in {
                d.lstrip(".") for d in RESERVED_EXAMPLE_DOMAINS
            }:
                found.append(value)
        return found

    @property
    def has_alarm_subscribers(self) -> bool:
        return bool(self.alarm_email or self.alarm_topic_arn or self.alarm_webhook_url)

    @property
    def webhook_secret(self) -> str:
        return self.webhook_secret_name or f"flowops/{self.name}/webhook"

    @property
    def trace_webhook_secret(self) -> str:
        return self.trace_webhook_secret_name or f"flowops/{self.name}/trace-webhook"

    @property
    def org_key(self) -> str:
        return self.org or self.name

    @property
    def stack_name(self) -> str:
        from infra.constants import STACK_NAME_PREFIX

        return f"{STACK_NAME_PREFIX}-{self.name}"


def parse_environments(raw: Any) -> list[EnvironmentConfig]:
    """Validate the `flowops:environments` context value (a mapping name → settings)."""
    if not isinstance(raw, dict) or not raw:
        raise ValueError("cdk.json context 'flowops:environments' must be a non-empty object of environments")
    environments = []
    for name, settings in raw.items():
        if not isinstance(settings, dict):
            raise ValueError(f"environment {name!r} in 'flowops:environments' must be an object")
        environments.append(EnvironmentConfig.model_validate({"name": name, **settings}))
    return environments
