"""Event models of the publish handlers: what each state passes to its Lambda (JSONPath payloads)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from flowops.publish.models import (
    HealthOutcome,
    JobProgress,
    PublishRunRequest,
    RunRef,
    SnapshotOutcome,
    StepFailure,
    ValidationOutcome,
)


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    run: RunRef


class ValidateEvent(_Event):
    request: PublishRunRequest


class ValidatedEvent(_Event):
    validation: ValidationOutcome


class SnapshotTakenEvent(ValidatedEvent):
    snapshot: SnapshotOutcome


class CheckJobEvent(ValidatedEvent):
    progress: JobProgress


class CheckPublishEvent(SnapshotTakenEvent):
    progress: JobProgress


class PublishedEvent(SnapshotTakenEvent):
    publish: JobProgress


class RecordReleaseEvent(PublishedEvent):
    health: HealthOutcome


class RollbackEvent(SnapshotTakenEvent):
    failure: StepFailure


class RolledBackEvent(RollbackEvent):
    rollback: JobProgress


class RollbackFailedEvent(ValidatedEvent):
    snapshot: SnapshotOutcome | None = None
    failure: StepFailure | None = None
    rollback_failure: StepFailure


class FailedBeforePublishEvent(_Event):
    validation: ValidationOutcome | None = None
    failure: StepFailure
    rollback: JobProgress | None = None
    """Present when the rollback step found nothing to roll back (action `none`)."""


class UnrecordedReleaseEvent(RecordReleaseEvent):
    record_failure: StepFailure
