"""The trace command's progress: steps reached and job checks, read from the execution history."""

from __future__ import annotations

from typing import Any

from flowops.cli.trace import TRACE_STEPS, _trace_progress


class _History:
    def __init__(self, states: list[str]) -> None:
        self.states = states

    def get_execution_history(self, **_: Any) -> dict[str, Any]:
        return {
            "events": [{"type": "ExecutionStarted"}]
            + [{"stateEnteredEventDetails": {"name": state}} for state in self.states]
        }


def test_progress_counts_main_steps_reached_and_each_job_check() -> None:
    # Given an execution waiting for its execution-data jobs for the third time
    history = _History(
        [
            "ValidateTraceRequest",
            "QueryInstances",
            "StartExecutionDataJob",
            "WaitForExecutionData",
            "CheckExecutionData",
            "WaitForExecutionData",
            "CheckExecutionData",
            "WaitForExecutionData",
            "CheckExecutionData",
        ]
    )

    # When its progress is read
    reached, state, checks = _trace_progress(history, "arn:exec")

    # Then four of the main steps were reached, the check is running, three checks so far
    assert (reached, state, checks) == (4, "CheckExecutionData", 3)
    assert TRACE_STEPS[reached - 1] == "WaitForExecutionData"


def test_progress_before_the_first_state() -> None:
    assert _trace_progress(_History([]), "arn:exec") == (0, "starting", 0)
