"""What the CLI says about a Step Functions execution that did not succeed.

A Lambda task's failure `cause` is a JSON document with the error type, message and a stack
trace; the operator needs one readable sentence, never the stack trace (it goes to the logs
and `flowops runs show`). Shared by scan, trace, publish and the release commands.
"""

from __future__ import annotations

import json
from typing import Any

CAUSE_CHARACTERS = 400  # an error line stays one readable line


def readable_cause(cause: Any) -> str:
    """The human part of an execution's `cause`: a Lambda error's `errorType: errorMessage`,
    else the text itself — first line only, bounded."""
    text = "" if cause is None else str(cause)
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("errorMessage"), str):
        kind = parsed.get("errorType")
        message = parsed["errorMessage"]
        text = f"{kind}: {message}" if isinstance(kind, str) and kind else message
    first = text.strip().splitlines()[0] if text.strip() else "no cause recorded"
    return first if len(first) <= CAUSE_CHARACTERS else first[: CAUSE_CHARACTERS - 1] + "…"


def execution_failure(sfn: Any, execution_arn: str, description: dict[str, Any]) -> tuple[str, str]:
    """(error, readable cause) of a finished execution, from its description or its history."""
    error, cause = description.get("error"), description.get("cause")
    if not (error or cause):
        events = sfn.get_execution_history(executionArn=execution_arn, maxResults=100, reverseOrder=True)
        for event in events.get("events", []):
            details = (
                event.get("executionFailedEventDetails")
                or event.get("executionTimedOutEventDetails")
                or event.get("executionAbortedEventDetails")
            )
            if details:
                error, cause = details.get("error"), details.get("cause")
                break
    return str(error or "error"), readable_cause(cause)
