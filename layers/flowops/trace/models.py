"""Data models of the execution-data analysis.

Durations are milliseconds as floats. `None` always means "not measurable" (a missing or invalid
timestamp, or no later event to measure against) and is never replaced by zero.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class AnomalyKind(StrEnum):
    OUT_OF_ORDER = "out_of_order"  # events were re-sorted by timestamp
    UNKNOWN_EVENT_KIND = "unknown_event_kind"  # kept as kind "unknown"
    MISSING_TIMESTAMP = "missing_timestamp"
    INVALID_TIMESTAMP = "invalid_timestamp"
    MALFORMED_EVENT = "malformed_event"  # not a one-key object holding an object: dropped
    ITEMS_TRUNCATED = "items_truncated"  # Genesys said it cut the event list (executionItemsTruncated)
    UNMATCHED_ERROR = "unmatched_error"  # a flow-level error names no event of the run


class ParseAnomaly(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: AnomalyKind
    detail: str
    event_index: int | None = Field(default=None, description="position in the document's event list")


class ActionExecution(BaseModel):
    """One node of a run's execution graph: one event, in time order."""

    model_config = ConfigDict(frozen=True)

    index: int = Field(description="position in the run after ordering")
    kind: str = Field(description="event kind, or 'unknown' for kinds this analysis does not know")
    raw_kind: str = Field(description="event key exactly as found in the document")
    action_id: str | None = None
    action_name: str | None = None
    tracking_id: str | None = None
    execution_id: str | None = None
    output_path_id: str | None = None
    depth: int = Field(default=0, description="nesting level (items inside a task/loop/module call)")
    at: datetime | None = Field(default=None, description="when the item started; None if unusable")
    offset_ms: float | None = Field(default=None, description="start relative to the run's start")
    duration_ms: float | None = Field(
        default=None, description="next event's time minus this one's; None if either is unknown"
    )
    error_reason: str | None = None

    @property
    def step_key(self) -> str:
        """Identity used to aggregate across runs: the actionId, else the event kind."""
        return self.action_id if self.action_id is not None else self.kind

    @property
    def label(self) -> str:
        return self.action_name or self.step_key


class PathEdge(BaseModel):
    """The run went from node `source` to node `target` through `output_path_id`."""

    model_config = ConfigDict(frozen=True)

    source: int
    target: int
    output_path_id: str | None = None


class ParsedRun(BaseModel):
    instance_id: str | None = None
    conversation_id: str | None = None
    flow_id: str | None = None
    flow_name: str | None = None
    flow_type: str | None = None
    flow_version: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    exit_reason: str | None = None
    actions: list[ActionExecution]
    edges: list[PathEdge]
    anomalies: list[ParseAnomaly] = Field(default_factory=list)
    run_errors: list[str] = Field(
        default_factory=list, description="flow-level error reasons that match no event"
    )

    @property
    def complete(self) -> bool:
        """Parsed without any anomaly: every event known, timed and in order."""
        return not self.anomalies

    @property
    def failed(self) -> bool:
        return bool(self.run_errors) or any(a.error_reason for a in self.actions)

    @property
    def total_ms(self) -> float | None:
        """Wall time from the first to the last known instant of the run."""
        instants = [a.at for a in self.actions if a.at is not None]
        if self.started_at is not None:
            instants.append(self.started_at)
        if self.ended_at is not None:
            instants.append(self.ended_at)
        if len(instants) < 2:
            return None
        return (max(instants) - min(instants)).total_seconds() * 1000.0


class ParseFailure(BaseModel):
    model_config = ConfigDict(frozen=True)

    reason: str = Field(
        description="invalid_json | refused (too deep) | not_an_object | missing_flow | missing_execution"
        " | no_events"
    )
    detail: str
    instance_id: str | None = None


class ActionLatency(BaseModel):
    step_key: str
    label: str
    kind: str
    executions: int
    timed: int = Field(description="executions with a measurable duration")
    unknown: int = Field(description="executions whose duration is unknown (never counted as zero)")
    p50_ms: float | None
    p95_ms: float | None
    max_ms: float | None
    total_ms: float


class Bottleneck(BaseModel):
    rank: int
    step_key: str
    label: str
    total_ms: float
    share_of_time: float = Field(description="share of all measured action time")
    p95_ms: float | None
    executions: int


class CriticalPath(BaseModel):
    """Longest weighted path through the actions of runs (see analyze.critical_path_of)."""

    steps: list[str] = Field(description="step keys in execution order")
    labels: list[str]
    runs: int = Field(description="runs whose critical path is exactly this one")
    share_of_runs: float
    median_total_ms: float | None
    runs_with_unknown_durations: int = Field(
        description="of those runs, how many had steps of unknown duration (weight is a lower bound)"
    )


class ErrorLocation(BaseModel):
    step_key: str | None = Field(description="None when the error could not be tied to an event")
    label: str | None
    output_path_id: str | None
    runs: int


class ErrorCorrelation(BaseModel):
    """Failing runs grouped by error reason, with where they failed."""

    reason: str
    runs: int
    share_of_runs: float = Field(description="failing runs with this reason / all analysed runs")
    common_location: ErrorLocation
    share_at_common_location: float = Field(description="of the runs with this reason")
    other_locations: list[ErrorLocation] = Field(default_factory=list)


class Gap(BaseModel):
    kind: str
    count: int
    example: str


class Coverage(BaseModel):
    """How much of the input the numbers stand on: the honest version of an accuracy rate."""

    documents: int
    parse_failures: int
    runs_parsed_completely: int
    parse_coverage: float = Field(description="runs parsed completely / documents")
    events: int
    events_with_timestamp: int
    timestamp_coverage: float = Field(description="events with a usable timestamp / events")
    durations_known: int
    durations_unknown: int


class TraceReport(BaseModel):
    runs_analyzed: int
    failing_runs: int
    actions: list[ActionLatency]
    bottlenecks_by_total: list[Bottleneck]
    bottlenecks_by_p95: list[Bottleneck]
    critical_path: CriticalPath | None
    errors: list[ErrorCorrelation]
    coverage: Coverage
    gaps: list[Gap]
    slowest_run: ParsedRun | None = Field(default=None, description="input for the waterfall")
