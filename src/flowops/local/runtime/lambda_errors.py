"""Name Lambda failures in executions as Step Functions does, not as moto's parser does.

For a Task whose Resource is a function ARN, moto names every Invoke API error and every function
error without an `errorType` `Exception`. Step Functions names them after Lambda:

- an Invoke API error (throttling, Lambda service errors) → `Lambda.<ErrorCode>`, e.g.
  `Lambda.TooManyRequestsException`, `Lambda.ServiceException`;
- a function that failed without an error type (killed at its timeout, out of memory) →
  `Lambda.Unknown`, cause "The cause could not be determined because Lambda did not return an
  error type. Returned payload: ...".

`install()` wraps `StateTaskLambda._from_error` (a private moto API: moto is pinned) while a
LocalCloud runs; `uninstall()` restores it.
"""

from __future__ import annotations

import json
from typing import Any

UNKNOWN_CAUSE = (
    "The cause could not be determined because Lambda did not return an error type. "
    "Returned payload: {payload}"
)

_original: Any = None


def install() -> None:
    global _original
    from botocore.exceptions import ClientError
    from moto.stepfunctions.parser.api import HistoryEventType, LambdaFunctionFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import (
        StateTaskLambda,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    if _original is not None:
        return
    original = StateTaskLambda._from_error

    def lambda_failure(env: Any, error: str, cause: str) -> Any:
        return FailureEvent(
            env=env,
            error_name=CustomErrorName(error),
            event_type=HistoryEventType.LambdaFunctionFailed,
            event_details=EventDetails(
                lambdaFunctionFailedEventDetails=LambdaFunctionFailedEventDetails(error=error, cause=cause)
            ),
        )

    def from_error(state: Any, env: Any, ex: Exception) -> Any:
        if isinstance(ex, ClientError):
            code = ex.response.get("Error", {}).get("Code", "Unknown")
            return lambda_failure(env, f"Lambda.{code}", str(ex.response.get("Error", {}).get("Message", "")))
        if isinstance(ex, lambda_eval_utils.LambdaFunctionErrorException):
            try:
                error_type = json.loads(ex.payload).get("errorType")
            except (ValueError, AttributeError):
                error_type = None
            if not error_type:
                return lambda_failure(env, "Lambda.Unknown", UNKNOWN_CAUSE.format(payload=ex.payload))
        return original(state, env, ex)

    _original = original
    StateTaskLambda._from_error = from_error  # type: ignore[method-assign]


def uninstall() -> None:
    global _original
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import (
        StateTaskLambda,
    )

    if _original is not None:
        StateTaskLambda._from_error = _original  # type: ignore[method-assign]
        _original = None
