"""Publish errors, each with the ASL error name Step Functions' Retry/Catch match on.

Lambda reports `type(exc).__name__` as the error type; handlers therefore raise
`flowops.stepfunctions.as_step_functions_error(error)` (a subclass named after
`asl_error_name`), and the local runtime reports class names exactly as Lambda does. Names
under `Publish.` are never retried by the state machine: they describe the flow or the org,
and trying again would give the same answer.
"""

from __future__ import annotations

from typing import ClassVar

# Re-exported: publish code and its tests import it from here.
from flowops.stepfunctions import as_step_functions_error as as_step_functions_error


class PublishError(Exception):
    asl_error_name: ClassVar[str] = "Publish.Error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidPublishInputError(PublishError):
    """The execution input is not a publish request (a bug or a hand-started execution)."""

    asl_error_name = "Publish.InvalidInput"


class SnapshotUnavailableError(PublishError):
    """The currently published version could not be exported (nothing has changed yet)."""

    asl_error_name = "Publish.SnapshotUnavailable"


class PublishJobFailedError(PublishError):
    """Genesys reported the publish (job or operation) as failed; messages are verbatim."""

    asl_error_name = "Publish.JobFailed"


class PublishDeadlineExceededError(PublishError):
    """The publish did not finish before the overall deadline."""

    asl_error_name = "Publish.DeadlineExceeded"


class HealthCheckFailedError(PublishError):
    """The publish reported success but the flow is not in the state it should be in."""

    asl_error_name = "Publish.HealthCheckFailed"


class RollbackFailedError(PublishError):
    """Restoring the snapshot failed (job Failure, deadline, or nothing to restore)."""

    asl_error_name = "Publish.RollbackFailed"


class LeaseHeldError(PublishError):
    """Another run holds this flow's publish lease."""

    asl_error_name = "Publish.FlowBusy"


class FlowChangedError(PublishError):
    """The target flow was renamed or deleted during the run (the deploy addresses it by name)."""

    asl_error_name = "Publish.FlowChanged"


class ContentMismatchError(PublishError):
    """The live version's content is not what was deployed (verified by export)."""

    asl_error_name = "Publish.ContentMismatch"
