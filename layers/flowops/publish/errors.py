"""Publish errors, each with the ASL error name Step Functions' Retry/Catch match on.

Lambda reports `type(exc).__name__` as the error type; handlers therefore raise
`as_step_functions_error(error)` (a subclass named after `asl_error_name`). The local runtime
reads `asl_error_name` directly. Names under `Publish.` are never retried by the state
machine: they describe the flow or the org, and trying again would give the same answer.
"""

from __future__ import annotations

from typing import Any, ClassVar


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


_ASL_CLASSES: dict[tuple[type[BaseException], str], type[BaseException]] = {}


def as_step_functions_error(error: BaseException) -> BaseException:
    """The same error as an instance of a class NAMED after its `asl_error_name` (if it has one).

    Works for PublishError, GenesysError and StoreError alike: all carry `asl_error_name`.
    The new class derives from the original, so `isinstance` checks keep working.
    """
    name = getattr(error, "asl_error_name", None)
    if not isinstance(name, str) or not name or type(error).__name__ == name:
        return error
    original = type(error)
    cls = _ASL_CLASSES.get((original, name))
    if cls is None:
        cls = type(name, (original,), {"__module__": original.__module__})
        _ASL_CLASSES[(original, name)] = cls
    converted: Any = cls.__new__(cls)
    converted.__dict__.update(error.__dict__)
    converted.args = error.args
    return converted  # type: ignore[no-any-return]
