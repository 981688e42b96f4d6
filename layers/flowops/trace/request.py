"""Trace requests: what a caller asks for, the validated plan the state machine carries, errors.

A request names one or more flows (id or name), a window (`since`/`until` as ISO-8601 instants
or as durations before the submission time such as "2h", "30m", "3d") and optional filters. It
is validated before anything is sent to Genesys: the window must lie inside the 10-day
execution-data retention, every flow must exist, and the org must store execution data.

Every error carries `asl_error_name`, the name the state machine's Catch matches on.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flowops.trace.window import TraceRequestError

MAX_FILTER_VALUES = 50  # conversation / action ids per request: each becomes one query criterion
DEFAULT_MAX_RUNS = 2000
DEFAULT_DEADLINE_SECONDS = 900  # Genesys jobs finish in seconds to minutes; 15 min is generous

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

ENABLE_STORAGE_HINT = (
    'Enable it with PATCH /api/v2/flows/instances/settings/executiondata {"enabled": true} '
    "(Architect > Settings > Flow execution history), then republish the flows to trace: only runs "
    "of versions published after enabling are recorded. flowops did not change the setting."
)


class TraceError(Exception):
    """Base of trace pipeline errors (messages never hold secrets)."""

    asl_error_name = "Trace.Failed"


class StorageDisabledError(TraceError):
    asl_error_name = "Trace.StorageDisabled"


class UnknownFlowError(TraceError):
    asl_error_name = "Trace.UnknownFlow"


class DeliveryFailedError(TraceError):
    """The observability webhook did not accept the trace (retried by the state machine)."""

    asl_error_name = "Trace.DeliveryFailed"


class TraceStateError(TraceError):
    """A step received state it cannot work with (a missing artifact, an inconsistent input)."""

    asl_error_name = "Trace.InvalidState"


def resolve_moment(value: str, *, now: datetime) -> datetime:
    """An ISO-8601 instant (timezone required), or a duration before `now` ("2h", "90m", "3d")."""
    relative = _RELATIVE.match(value)
    if relative is not None:
        amount, unit = float(relative.group(1)), relative.group(2)
        return now - timedelta(seconds=amount * _UNIT_SECONDS[unit])
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)  # Python 3.11+ reads a trailing Z
    except ValueError:
        raise TraceRequestError(
            f"{value!r} is neither an ISO-8601 instant nor a duration like '2h', '30m' or '3d'"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TraceRequestError(f"{value!r} has no timezone: add 'Z' or an offset such as '+00:00'")
    return moment.astimezone(UTC)


class TraceRequest(BaseModel):
    """The state machine input (and what `flowops trace` sends)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    flow: str | None = Field(default=None, description="flow id or name")
    flows: list[str] = Field(default_factory=list, description="more flow ids or names")
    since: str = Field(default="2h", description="ISO-8601 instant or duration before submission")
    until: str | None = Field(default=None, description="ISO-8601 instant or duration; default now")
    errors_only: bool = False
    conversation_ids: list[str] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    action_ids: list[str] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    max_runs: int = Field(default=DEFAULT_MAX_RUNS, ge=1, le=20000)
    deadline_seconds: int = Field(default=DEFAULT_DEADLINE_SECONDS, ge=10, le=7200)
    trigger: str = Field(default="api", max_length=40)

    @field_validator("flows", "conversation_ids", "action_ids")
    @classmethod
    def _no_blank_values(cls, values: list[str]) -> list[str]:
        cleaned = [value.strip() for value in values]
        if any(not value for value in cleaned):
            raise ValueError("values must not be blank")
        return list(dict.fromkeys(cleaned))

    @model_validator(mode="after")
    def _names_a_flow(self) -> TraceRequest:
        if not self.flow_refs:
            raise ValueError("name at least one flow (flow or flows)")
        return self

    @property
    def flow_refs(self) -> list[str]:
        refs = ([self.flow.strip()] if self.flow and self.flow.strip() else []) + self.flows
        return list(dict.fromkeys(refs))


class TraceContext(BaseModel):
    """Who this trace is: the execution name and when it was submitted ($$.Execution.*)."""

    model_config = ConfigDict(frozen=True)

    trace_id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._-]+$")
    submitted_at: datetime
    request: dict[str, Any] = Field(default_factory=dict, description="the raw execution input")

    @field_validator("submitted_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class PlannedFlow(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str | None = None
    type: str | None = None


class TracePlan(BaseModel):
    """The validated request: resolved flows and an absolute window inside the retention."""

    model_config = ConfigDict(frozen=True)

    flows: list[PlannedFlow] = Field(min_length=1)
    since: datetime
    until: datetime
    errors_only: bool = False
    conversation_ids: list[str] = Field(default_factory=list)
    action_ids: list[str] = Field(default_factory=list)
    max_runs: int = DEFAULT_MAX_RUNS
    deadline_seconds: int = DEFAULT_DEADLINE_SECONDS
    trigger: str = "api"
