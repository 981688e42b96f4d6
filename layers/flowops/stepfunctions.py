"""Errors as Step Functions sees them.

Lambda's Python runtime reports `type(exception).__name__` as the error type, and that is what
the Retry and Catch blocks of a state machine match. flowops errors carry a dotted
`asl_error_name` ("Genesys.RateLimited", "Store.Throttled", "Publish.JobFailed", ...); a handler
re-raises them as instances of a class NAMED after it, so the deployed state machine and the
local runtime (which reports the class name exactly like Lambda) match the same names.
"""

from __future__ import annotations

import threading
from typing import Any

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
