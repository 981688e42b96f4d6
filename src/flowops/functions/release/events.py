"""What each release state passes to its Lambda (JSONPath payloads)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from flowops.release.models import (
    FlowProgress,
    FlowResult,
    PreparedRelease,
    ReleaseRequest,
    ReleaseTiming,
    RollbackItem,
    RollbackPlan,
    RunRef,
    StepFailure,
    WaveItem,
)


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class PrepareEvent(_Event):
    run: RunRef
    request: ReleaseRequest


class PreparationFailedEvent(PrepareEvent):
    failure: StepFailure


class StartFlowEvent(_Event):
    run: RunRef
    item: WaveItem
    timing: ReleaseTiming


class CheckJobEvent(_Event):
    progress: FlowProgress
    timing: ReleaseTiming
    rollback: bool = False


class HealthEvent(_Event):
    item: WaveItem
    progress: FlowProgress
    timing: ReleaseTiming


class RecordWaveEvent(_Event):
    run: RunRef
    wave: int
    results: list[FlowResult]
    rollback: bool = False


class PreparedEvent(_Event):
    run: RunRef
    prepared: PreparedRelease
    requester: str


class PlanRollbackEvent(PreparedEvent):
    failure: StepFailure


class StartRollbackEvent(_Event):
    run: RunRef
    item: RollbackItem
    timing: ReleaseTiming


class VerifyRestoredEvent(_Event):
    item: RollbackItem
    progress: FlowProgress
    timing: ReleaseTiming | None = None


class RolledBackEvent(PreparedEvent):
    rollback: RollbackPlan


class ApprovalEvent(PreparedEvent):
    token: str


class NotApprovedEvent(PreparedEvent):
    failure: StepFailure
