"""The 256 KB limit on EVERY state's input, as Step Functions enforces it.

moto's ASL interpreter checks each state's output (and a Lambda task's result) against the quota,
and fails the state with `States.DataLimitExceeded` — the error AWS names. The effective input of
a state (after InputPath/Parameters/ItemSelector, e.g. a Map item or a payload assembled from the
context object) is not checked there; `install()` adds that check in front of every state, with the
same error, so an oversized payload fails locally where it would fail in AWS.
A private moto API (moto is pinned); `uninstall()` restores it.
"""

from __future__ import annotations

from typing import Any

_original: Any = None


def install() -> None:
    global _original
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.quotas import is_within_size_quota

    if _original is not None:
        return
    original = CommonStateField._eval_state_input

    def eval_state_input(state: Any, env: Any) -> None:
        original(state, env)
        if env.stack and not is_within_size_quota(env.stack[-1]):
            error = StatesErrorNameType.StatesStatesDataLimitExceeded
            raise FailureEventException(
                failure_event=FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=error),
                    event_type=HistoryEventType.TaskFailed,
                    event_details=EventDetails(
                        executionFailedEventDetails=ExecutionFailedEventDetails(
                            error=error.to_name(),
                            cause=(
                                f"The state/task '{state.name}' has an input with a size exceeding "
                                "the maximum number of bytes service limit."
                            ),
                        )
                    ),
                )
            )

    _original = original
    CommonStateField._eval_state_input = eval_state_input  # type: ignore[method-assign]


def uninstall() -> None:
    global _original
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField

    if _original is not None:
        CommonStateField._eval_state_input = _original  # type: ignore[method-assign]
        _original = None
