"""Live progress of a long Step Functions execution (publish, rollback, release, promote).

One updating line on a terminal — the state in plain words, elapsed time, how often a job was
polled and how many task attempts were retried:

    publish Main Menu: waiting for Architect's publish job · 1m 12s · polled 14x · 1 retry

To a pipe or a CI log it prints one line per PHASE (not per state entered: a job that is polled
for an hour is one line, not 362), each with the elapsed time. `--verbose` adds every state as
it is entered. Everything goes to stderr: stdout keeps the result (or the `--json` document).

`follow_execution()` reads only the history events it has not seen yet (newest first, stopping
at the last event seen), so following a run with thousands of events stays cheap.

Release commands adopt it by passing their own `PHASES` (state name → plain words); states
not listed are shown by their name in words ("WaitForPublishJob" → "wait for publish job").
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, Field

from flowops.cli.terminal import safe

TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})

# The publish workflow's states (infra/constructs/publish_workflow.py) in plain words. A poll
# loop (Wait + Check) is one phase.
PUBLISH_PHASES: Mapping[str, str] = {
    "StartPublishRun": "starting",
    "Validate": "validating the flow against the lock and the org",
    "SnapshotCurrentVersion": "saving the published version (for a rollback)",
    "StartPublish": "starting the publish in Architect",
    "WaitForPublishJob": "waiting for Architect's publish job",
    # One phase with its Wait (the same words); the poll that sees the job end also checks the
    # published flow, in the same step.
    "CheckPublishJob": "waiting for Architect's publish job",
    "RecordRelease": "recording the release",
    "RecordFailureBeforePublish": "recording why it stopped (nothing changed)",
    "RollbackToPreviousVersion": "rolling back to the previous version",
    "WaitForRollback": "waiting for the rollback job",
    "CheckRollbackJob": "waiting for the rollback job",
    "RecordRolledBack": "recording the rollback",
    "RecordRollbackFailure": "recording the failed rollback",
    "NotifyRollbackFailed": "alerting: the rollback failed",
    "Published": "published",
    "RolledBack": "rolled back",
    "ValidationFailed": "validation failed",
    "RollbackFailed": "rollback failed",
}
POLL_STATE_PREFIX = "Check"  # entering Check* is one poll of a job


def plain_words(state: str, phases: Mapping[str, str] | None = None) -> str:
    """A state name as words: from `phases` when listed, else split at capitals."""
    if phases and state in phases:
        return phases[state]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", state).replace("_", " ")
    return words.lower() if words else "starting"


class ProgressSnapshot(BaseModel):
    """Where an execution is, as the progress line shows it."""

    status: str = "RUNNING"
    state: str = ""
    phase: str = "starting"
    elapsed_seconds: float = 0.0
    polls: int = 0
    retries: int = 0
    states: list[str] = Field(default_factory=list, description="every state entered, in order")


def _format_elapsed(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def describe(snapshot: ProgressSnapshot) -> str:
    parts = [snapshot.phase, _format_elapsed(snapshot.elapsed_seconds)]
    if snapshot.polls:
        parts.append(f"polled {snapshot.polls}x")
    if snapshot.retries:
        parts.append(f"{snapshot.retries} {'retry' if snapshot.retries == 1 else 'retries'}")
    return " · ".join(parts)


class HistoryReader:
    """New history events of one execution, oldest first, each returned once."""

    def __init__(self, sfn: Any, execution_arn: str, page_size: int = 200) -> None:
        self._sfn, self._arn, self._page_size = sfn, execution_arn, page_size
        self._last_id = 0

    def new_events(self) -> list[dict[str, Any]]:
        fresh: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            options: dict[str, Any] = {
                "executionArn": self._arn,
                "maxResults": self._page_size,
                "reverseOrder": True,
            }
            if token:
                options["nextToken"] = token
            page = self._sfn.get_execution_history(**options)
            events = page.get("events", [])
            fresh += [event for event in events if event["id"] > self._last_id]
            token = page.get("nextToken")
            if not token or any(event["id"] <= self._last_id for event in events):
                break
        fresh.sort(key=lambda event: event["id"])
        if fresh:
            self._last_id = fresh[-1]["id"]
        return fresh


class ProgressLine:
    """Shows a ProgressSnapshot: a rich status line on a terminal, phase lines elsewhere."""

    def __init__(
        self, label: str, *, verbose: bool = False, stream: Any = None, enabled: bool = True
    ) -> None:
        self._label = safe(label)
        self._verbose = verbose
        self._stream = stream or sys.stderr
        self._enabled = enabled
        self._interactive = enabled and self._stream.isatty()
        self._status: Any = None
        self._last_phase = ""
        self._states_shown = 0

    def __enter__(self) -> ProgressLine:
        if self._interactive:
            from rich.console import Console

            self._console = Console(file=self._stream, highlight=False)
            self._status = self._console.status(f"{self._label}: starting")
            self._status.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._status is not None:
            self._status.__exit__(*exc_info)
            self._status = None

    def _print(self, text: str) -> None:
        if self._interactive:
            self._console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self._stream, flush=True)

    def show(self, snapshot: ProgressSnapshot) -> None:
        if not self._enabled:
            return
        elapsed = _format_elapsed(snapshot.elapsed_seconds)
        if self._verbose:
            for state in snapshot.states[self._states_shown :]:
                self._print(f"  [{elapsed:>7}] → {safe(state)}")
            self._states_shown = len(snapshot.states)
        if self._interactive and self._status is not None:
            self._status.update(f"{self._label}: {safe(describe(snapshot))}")
        elif snapshot.phase != self._last_phase:
            self._print(f"[{elapsed:>7}] {self._label}: {safe(snapshot.phase)}")
        self._last_phase = snapshot.phase


class ExecutionStillRunningError(Exception):
    def __init__(self, execution_arn: str, timeout: float) -> None:
        super().__init__(f"execution still running after {timeout:.0f} s: {execution_arn}")
        self.execution_arn = execution_arn


def follow_execution(
    sfn: Any,
    execution_arn: str,
    *,
    phases: Mapping[str, str] | None = None,
    on_progress: Callable[[ProgressSnapshot], None] | None = None,
    timeout: float = 3600.0,
    poll_interval: float = 0.2,
    max_poll_interval: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[dict[str, Any], ProgressSnapshot]:
    """Wait for the execution to end; (its final description, the last snapshot).

    Polls back off from `poll_interval` to `max_poll_interval` while nothing changes."""
    reader = HistoryReader(sfn, execution_arn)
    started = clock()
    snapshot = ProgressSnapshot()
    task_states_entered = attempts_scheduled = 0
    interval = poll_interval
    while True:
        description = sfn.describe_execution(executionArn=execution_arn)
        events = reader.new_events()
        for event in events:
            kind = event.get("type", "")
            details = event.get("stateEnteredEventDetails")
            if details:
                name = str(details.get("name", ""))
                snapshot.states.append(name)
                snapshot.state = name
                snapshot.phase = plain_words(name, phases)
                if name.startswith(POLL_STATE_PREFIX):
                    snapshot.polls += 1
                if kind == "TaskStateEntered":
                    task_states_entered += 1
            elif kind in {"TaskScheduled", "LambdaFunctionScheduled"}:
                attempts_scheduled += 1
        # Every Task state schedules one attempt; each further attempt is a retry.
        snapshot.retries = max(0, attempts_scheduled - task_states_entered)
        snapshot.status = str(description["status"])
        snapshot.elapsed_seconds = clock() - started
        if on_progress is not None:
            on_progress(snapshot)
        if snapshot.status in TERMINAL_STATUSES:
            return description, snapshot
        if clock() - started > timeout:
            raise ExecutionStillRunningError(execution_arn, timeout)
        interval = poll_interval if events else min(max_poll_interval, interval * 1.5)
        sleep(interval)
