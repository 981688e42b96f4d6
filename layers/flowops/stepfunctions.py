"""Errors as Step Functions sees them.

Lambda's Python runtime reports `type(exception).__name__` as the error type, and that is what
the Retry and Catch blocks of a state machine match. flowops errors carry a dotted
`asl_error_name` ("Genesys.RateLimited", "Store.Throttled", "Publish.JobFailed", ...); a handler
re-raises them as instances of a class NAMED after it, so the deployed state machine and the
local runtime (which reports the class name exactly like Lambda) match the same names.

Also what every workflow's steps (publish, release) read back from Step Functions the same way:
a Catch's `StepFailure` and its human message, and the Wait + Check loop's backoff.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

_NAMED_CLASSES: dict[tuple[type[BaseException], str], type[BaseException]] = {}
_NAMED_CLASSES_LOCK = threading.Lock()


def as_step_functions_error(error: BaseException) -> BaseException:
    """The same error as an instance of a class named after its `asl_error_name`, if it has one.

    The new class derives from the original, so `isinstance` checks and attributes keep working.
    Errors without an `asl_error_name` (or already named after it) are returned unchanged.
    """
    name = getattr(error, "asl_error_name", None)
    if not isinstance(name, str) or not name or type(error).__name__ == name:
        return error
    original = type(error)
    with _NAMED_CLASSES_LOCK:
        cls = _NAMED_CLASSES.get((original, name))
        if cls is None:
            cls = type(name, (original,), {"__module__": original.__module__})
            _NAMED_CLASSES[(original, name)] = cls
    converted: Any = cls.__new__(cls)
    converted.__dict__.update(error.__dict__)
    converted.args = error.args
    converted.__traceback__ = error.__traceback__
    return converted  # type: ignore[no-any-return]


class StepFailure(BaseModel):
    """What a Catch puts at its result path: `{"Error": ..., "Cause": ...}`."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    error: str = Field(default="States.Unknown", alias="Error")
    cause: str = Field(default="", alias="Cause")

    @field_validator("error", "cause", mode="before")
    @classmethod
    def _absent_is_empty(cls, value: object) -> object:
        # A task failure sent without a cause (send_task_failure) arrives as null.
        return "" if value is None else value


def failure_message(failure: StepFailure) -> str:
    """The human message of a caught error (Lambda wraps it as JSON in `Cause`)."""
    try:
        parsed = json.loads(failure.cause)
    except (TypeError, ValueError):
        return failure.cause
    if isinstance(parsed, dict) and isinstance(parsed.get("errorMessage"), str):
        return str(parsed["errorMessage"])
    return failure.cause


class PollTiming(BaseModel):
    """How a deploy's Wait + Check loop backs off and how long it holds its leases: the fields
    publish's and release's timings share. A workflow narrows a bound by redeclaring the field
    (publish: its state machine's timeout is derived from `max_poll_seconds`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_poll_seconds: int = Field(default=2, ge=1, le=300)
    max_poll_seconds: int = Field(default=30, ge=1, le=900)
    backoff_rate: float = Field(default=2.0, ge=1.0, le=4.0)
    lease_seconds: int = Field(default=7200, ge=60)


def next_wait_seconds(timing: PollTiming, polls: int) -> int:
    """Exponential backoff with a cap: first, first*rate, first*rate², … ≤ max."""
    return int(min(timing.max_poll_seconds, round(timing.first_poll_seconds * timing.backoff_rate**polls)))
