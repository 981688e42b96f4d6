"""Start a state machine execution in the local cloud and wait for it (bounded)."""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from flowops.local.runtime.delays import RecordedDelay

if TYPE_CHECKING:
    from flowops.local.runtime.cloud import LocalCloud

TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
# A Standard execution's history holds at most this many events; AWS fails the execution beyond.
HISTORY_EVENT_LIMIT = 25_000


class ExecutionTimeoutError(TimeoutError):
    pass


class ExecutionResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    execution_arn: str
    name: str
    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    events: list[dict[str, Any]] = Field(default_factory=list)
    """AWS-style history events (get_execution_history), oldest first."""
    delays: list[RecordedDelay] = Field(default_factory=list)
    """Wait and Retry delays recorded instead of slept, in order."""
    children: list[ExecutionResult] = Field(default_factory=list)
    """The executions this one started (`startExecution.sync`), each with its own history and
    children, in the order started. Their events are not in `events`, as in AWS."""

    @property
    def history_event_count(self) -> int:
        """Events in the execution's history (AWS allows HISTORY_EVENT_LIMIT)."""
        return len(self.events)

    @property
    def history_limit_exceeded(self) -> bool:
        """True when AWS would have failed this execution for its history size."""
        return self.history_event_count > HISTORY_EVENT_LIMIT

    def states_entered(self) -> list[str]:
        """States entered by this execution, then by its child executions (depth first)."""
        own = [
            event["stateEnteredEventDetails"]["name"]
            for event in self.events
            if "stateEnteredEventDetails" in event
        ]
        return own + [name for child in self.children for name in child.states_entered()]

    def delays_of(self, state: str, kind: str | None = None) -> list[float]:
        return [
            delay.seconds
            for delay in self.delays
            if delay.state == state and (kind is None or delay.kind == kind)
        ]


def start_and_wait(
    cloud: LocalCloud,
    state_machine: str,
    execution_input: Any,
    *,
    name: str | None = None,
    timeout: float = 60.0,
    poll_interval: float = 0.02,
) -> ExecutionResult:
    """Run `state_machine` (logical id, its stem, construct path tail or name) to a terminal status."""
    arn = cloud.state_machine_arn(state_machine)
    # Always name executions: moto collides unnamed starts on "...:None".
    execution_name = name or f"local-{uuid.uuid4().hex[:12]}"
    started = cloud.sfn.start_execution(
        stateMachineArn=arn, name=execution_name, input=json.dumps(execution_input)
    )
    execution_arn = started["executionArn"]
    return wait_for_execution(cloud, execution_arn, timeout=timeout, poll_interval=poll_interval)


def wait_for_execution(
    cloud: LocalCloud, execution_arn: str, *, timeout: float = 60.0, poll_interval: float = 0.02
) -> ExecutionResult:
    deadline = time.monotonic() + timeout
    while True:
        description = cloud.sfn.describe_execution(executionArn=execution_arn)
        if description["status"] in TERMINAL_STATUSES:
            break
        if time.monotonic() > deadline:
            raise ExecutionTimeoutError(
                f"execution {execution_arn} still {description['status']} after {timeout:.0f} s"
            )
        time.sleep(poll_interval)
    return _result(cloud, description, _history(cloud, execution_arn))


def _history(cloud: LocalCloud, execution_arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    paginator = cloud.sfn.get_paginator("get_execution_history")
    for page in paginator.paginate(executionArn=execution_arn):
        events.extend(page["events"])
    return events


def _result(cloud: LocalCloud, description: dict[str, Any], events: list[dict[str, Any]]) -> ExecutionResult:
    execution_arn = description["executionArn"]
    children = []
    for child_arn in _started_executions(events):
        child = cloud.sfn.describe_execution(executionArn=child_arn)
        children.append(_result(cloud, child, _history(cloud, child_arn)))
    raw_output = description.get("output")
    return ExecutionResult(
        execution_arn=execution_arn,
        name=description["name"],
        status=description["status"],
        output=json.loads(raw_output) if raw_output else None,
        error=description.get("error"),
        cause=description.get("cause"),
        events=[_plain(event) for event in events],
        delays=cloud.delays.delays_for(execution_arn),
        children=children,
    )


def _started_executions(events: list[dict[str, Any]]) -> list[str]:
    """ARNs of the child executions a `startExecution` task submitted, in history order."""
    arns: list[str] = []
    for event in events:
        details = event.get("taskSubmittedEventDetails")
        if not details or details.get("resourceType") != "states":
            continue
        try:
            output = json.loads(details.get("output") or "{}")
        except ValueError:
            continue
        arn = output.get("ExecutionArn") if isinstance(output, dict) else None
        if isinstance(arn, str) and arn not in arns:
            arns.append(arn)
    return arns


def _plain(event: dict[str, Any]) -> dict[str, Any]:
    # History events carry datetimes; keep them JSON-friendly for reports and assertions.
    return {
        key: (value.isoformat() if hasattr(value, "isoformat") else value) for key, value in event.items()
    }
