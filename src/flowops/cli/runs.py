"""`flowops runs list|show|watch`: Step Functions executions, rendered as the console shows them.

Everything comes from `list_executions`, `describe_execution`, `describe_state_machine` and
`get_execution_history` through boto3, so the same commands work against `flowops local up`
(moto behind an endpoint URL) and a deployed stack.

How a history becomes "state runs": every `*StateEntered` event opens a run; each later event
belongs to the run its `previousEventId` chain leads to, and `*StateExited` closes it. A task's
attempts are its `*Scheduled` events; a failure followed by another attempt is a retry, whose
backoff is shown as observed (failure → next attempt) and as configured in the definition's
`Retry` (IntervalSeconds * BackoffRate^n, capped by MaxDelaySeconds). The branch a Choice took,
or the state a Catch went to, is the state entered right after the run. States inside a Map
iteration carry the iteration index.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any

import typer
from pydantic import BaseModel, Field

from flowops.cli import exit_codes
from flowops.cli.interrupted import RUN_KINDS, RunRecords, read_interruption, run_records
from flowops.cli.terminal import echo_lines, fail, table

runs_app = typer.Typer(
    help="Executions of the flowops state machines (scan, publish, trace).", no_args_is_help=True
)

TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
FAILED_STATUSES = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})
WORKFLOW_MARKER = "Workflow"  # every flowops state machine is a "<Concern>Workflow" construct
MAP_ROWS_SHOWN = 10  # iterations listed one by one; beyond that they are summarized per state
ARTIFACT_PREFIXES = ("locks/", "scans/", "flows/", "publish/", "trace/", "traces/", "reports/", "config/")

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document (for scripts).")]


class RunsError(Exception):
    """A problem the user must fix or wait out; `exit_code` says which."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Attempt(BaseModel):
    number: int
    scheduled_at: datetime | None = None
    ended_at: datetime | None = None
    error: str | None = None
    cause: str | None = None


class Retry(BaseModel):
    """A failed attempt that was tried again."""

    attempt: int = Field(description="the attempt that failed (1 = first)")
    error: str
    observed_backoff_seconds: float | None
    configured_backoff_seconds: float | None


class StateRun(BaseModel):
    name: str
    type: str = Field(description="Task, Choice, Map, Wait, Pass, Succeed, Fail, Parallel")
    entered_at: datetime | None
    exited_at: datetime | None = None
    status: str = Field(description="running | failing (retry or catch pending) | succeeded | failed")
    iteration: int | None = Field(default=None, description="Map iteration index, when inside one")
    map_state: str | None = None
    attempts: list[Attempt] = Field(default_factory=list)
    retries: list[Retry] = Field(default_factory=list)
    next_state: str | None = Field(
        default=None, description="state entered next: Choice branch or Catch target"
    )
    error: str | None = None
    cause: str | None = None
    artifacts: list[str] = Field(default_factory=list)

    @property
    def duration_seconds(self) -> float | None:
        if self.entered_at is None or self.exited_at is None:
            return None
        return (self.exited_at - self.entered_at).total_seconds()


class ExecutionView(BaseModel):
    execution_arn: str
    name: str
    state_machine: str
    status: str
    started_at: datetime | None
    stopped_at: datetime | None
    error: str | None = None
    cause: str | None = None
    states: list[StateRun]
    artifacts: list[str]

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.stopped_at is None:
            return None
        return (self.stopped_at - self.started_at).total_seconds()

    def document(self) -> dict[str, Any]:
        document = self.model_dump(mode="json")
        document["duration_seconds"] = self.duration_seconds
        for state, run in zip(document["states"], self.states, strict=True):
            state["duration_seconds"] = run.duration_seconds
        return document


# --- reading the history -------------------------------------------------------------------


def _details(event: dict[str, Any]) -> dict[str, Any]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


def _parse_json(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def find_artifact_keys(value: Any) -> list[str]:
    """S3 keys of flowops artifacts mentioned in a state's output (fields named like `*_key`/`key`
    or strings under the artifact prefixes), in first-seen order."""
    found: list[str] = []

    def visit(node: Any, field: str) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                visit(child, str(key))
        elif isinstance(node, list):
            for child in node:
                visit(child, field)
        elif isinstance(node, str) and "/" in node and " " not in node:
            named_like_key = field == "key" or field.endswith(("_key", "Key", "_keys"))
            if (named_like_key or node.startswith(ARTIFACT_PREFIXES)) and node not in found:
                found.append(node)

    visit(value, "")
    return found


def _state_definitions(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state of a definition by name, Map/Parallel inner states included."""
    states: dict[str, dict[str, Any]] = {}

    def visit(machine: dict[str, Any]) -> None:
        for name, state in (machine.get("States") or {}).items():
            states[name] = state
            for inner_key in ("ItemProcessor", "Iterator"):
                if isinstance(state.get(inner_key), dict):
                    visit(state[inner_key])
            for branch in state.get("Branches") or []:
                visit(branch)

    visit(definition)
    return states


def configured_backoff(state: dict[str, Any] | None, error: str, retry_number: int) -> float | None:
    """Seconds the definition's Retry waits before retry `retry_number` (1-based) after `error`."""
    if not state:
        return None
    for rule in state.get("Retry") or []:
        names = rule.get("ErrorEquals") or []
        if (
            error in names
            or "States.ALL" in names
            or ("States.TaskFailed" in names and error != "States.Timeout")
        ):
            interval = float(rule.get("IntervalSeconds", 1))
            rate = float(rule.get("BackoffRate", 2.0))
            delay = interval * rate ** (retry_number - 1)
            if "MaxDelaySeconds" in rule:
                delay = min(delay, float(rule["MaxDelaySeconds"]))
            return delay
    return None


def _open_run_named(runs: list[StateRun], name: str, candidate: int | None) -> int | None:
    """The run a `*StateExited` event closes: the chained one if the name agrees, else the
    latest run of that name still open."""
    if candidate is not None and runs[candidate].name == name:
        return candidate
    for index in range(len(runs) - 1, -1, -1):
        if runs[index].name == name and runs[index].exited_at is None:
            return index
    return candidate


def build_state_runs(
    events: list[dict[str, Any]], definition: dict[str, Any] | None = None
) -> list[StateRun]:
    """State runs of a history (see the module docstring), in the order they were entered."""
    definitions = _state_definitions(definition or {})
    by_id = {event["id"]: event for event in events}
    owner: dict[int, int] = {}  # event id -> index into runs
    iteration_of: dict[int, tuple[str, int]] = {}  # MapIterationStarted event id -> (map, index)
    runs: list[StateRun] = []
    last_failure: dict[int, dict[str, Any]] = {}
    open_maps: dict[str, int] = {}  # Map state name -> index of its latest run

    def context_of(event_id: int | None) -> tuple[str, int] | None:
        """The Map iteration an event sits in, found by walking previousEventId back."""
        seen = 0
        while event_id and seen < 100_000:
            seen += 1
            if event_id in iteration_of:
                return iteration_of[event_id]
            if event_id in owner:
                run = runs[owner[event_id]]
                return (run.map_state, run.iteration) if run.iteration is not None and run.map_state else None
            event_id = by_id.get(event_id, {}).get("previousEventId")
        return None

    for event in events:
        kind, event_id, previous = event["type"], event["id"], event.get("previousEventId")
        details = _details(event)
        timestamp = event.get("timestamp")
        if kind.startswith("Execution"):
            continue
        if kind == "MapIterationStarted":
            iteration_of[event_id] = (str(details.get("name", "")), int(details.get("index", 0)))
            continue
        if kind.startswith("MapIteration"):
            # Iteration ends belong to their Map state, not to the iteration's last inner state.
            map_index = open_maps.get(str(details.get("name", "")))
            if map_index is not None:
                owner[event_id] = map_index
            continue
        if kind.endswith("StateEntered"):
            context = context_of(previous)
            run = StateRun(
                name=str(details.get("name", "?")),
                type=kind[: -len("StateEntered")],
                entered_at=timestamp,
                status="running",
                map_state=context[0] if context else None,
                iteration=context[1] if context else None,
            )
            # The previous run (or failure) this one follows: a Choice branch or a Catch target.
            if previous in owner:
                earlier = runs[owner[previous]]
                if earlier.next_state is None and earlier.iteration == run.iteration:
                    earlier.next_state = run.name
            runs.append(run)
            owner[event_id] = len(runs) - 1
            if run.type == "Map":
                open_maps[run.name] = len(runs) - 1
            continue
        run_index = owner.get(previous) if previous is not None else None
        if kind.endswith("StateExited"):
            run_index = _open_run_named(runs, str(details.get("name", "")), run_index)
        if run_index is None:
            continue
        owner[event_id] = run_index
        run = runs[run_index]
        if kind.endswith("Scheduled") and kind != "MapIterationScheduled":
            if run.attempts and run.attempts[-1].error is not None:
                failure = last_failure[run_index]
                retry_number = len(run.retries) + 1
                observed = None
                if timestamp is not None and failure.get("timestamp") is not None:
                    observed = (timestamp - failure["timestamp"]).total_seconds()
                run.retries.append(
                    Retry(
                        attempt=len(run.attempts),
                        error=run.attempts[-1].error or "error",
                        observed_backoff_seconds=observed,
                        configured_backoff_seconds=configured_backoff(
                            definitions.get(run.name), run.attempts[-1].error or "", retry_number
                        ),
                    )
                )
            run.attempts.append(Attempt(number=len(run.attempts) + 1, scheduled_at=timestamp))
            run.status = "running"
        elif kind.endswith(("Failed", "TimedOut")) and not kind.startswith(("Execution", "MapIteration")):
            error = str(details.get("error") or ("States.Timeout" if kind.endswith("TimedOut") else kind))
            cause = details.get("cause")
            if run.attempts:
                run.attempts[-1].ended_at = timestamp
                run.attempts[-1].error = error
                run.attempts[-1].cause = str(cause) if cause is not None else None
            run.error, run.cause = error, (str(cause) if cause is not None else None)
            # Not final yet: a Retry schedules another attempt, a Catch or the end makes it final.
            run.status = "failing"
            last_failure[run_index] = event
        elif kind.endswith("Succeeded") and not kind.startswith("MapIteration"):
            if run.attempts:
                run.attempts[-1].ended_at = timestamp
            run.error = run.cause = None
            run.status = "succeeded"
        elif kind.endswith("StateExited"):
            run.exited_at = timestamp
            if run.status == "running":
                run.status = "succeeded"
            elif run.status == "failing":
                run.status = "failed"
            run.artifacts = find_artifact_keys(_parse_json(details.get("output")))
    for run in runs:
        # A failure that led on to another state (a Catch) is final.
        if run.status == "failing" and run.next_state is not None:
            run.status = "failed"
        # A Fail state "fails" by design: shown with the execution's error (filled by the caller).
        if run.type == "Fail":
            run.status = "failed"
    return runs


def execution_history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        options: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        if token:
            options["nextToken"] = token
        page = sfn.get_execution_history(**options)
        events.extend(page["events"])
        token = page.get("nextToken")
        if not token:
            return events


def _definition(sfn: Any, state_machine_arn: str) -> dict[str, Any]:
    try:
        definition = json.loads(sfn.describe_state_machine(stateMachineArn=state_machine_arn)["definition"])
    except (KeyError, ValueError):
        return {}
    return definition if isinstance(definition, dict) else {}


def machine_name(state_machine_arn: str) -> str:
    return state_machine_arn.rsplit(":", 1)[-1]


def view_execution(sfn: Any, execution_arn: str) -> ExecutionView:
    description = sfn.describe_execution(executionArn=execution_arn)
    events = execution_history(sfn, execution_arn)
    runs = build_state_runs(events, _definition(sfn, description["stateMachineArn"]))
    error, cause = description.get("error"), description.get("cause")
    if not (error or cause):
        for event in reversed(events):
            details = event.get("executionFailedEventDetails") or event.get("executionAbortedEventDetails")
            details = details or event.get("executionTimedOutEventDetails")
            if details:
                error, cause = details.get("error"), details.get("cause")
                break
    ended = description["status"] in TERMINAL_STATUSES
    for run in runs:
        if run.type == "Fail" and run.error is None:
            run.error, run.cause = error, cause
        if ended and run.status in {"running", "failing"}:
            # The execution ended around it (failed, timed out, aborted): the state did not finish.
            run.status = "failed" if description["status"] != "SUCCEEDED" else "succeeded"
    artifacts: list[str] = []
    for key in [
        *(k for run in runs for k in run.artifacts),
        *find_artifact_keys(_parse_json(description.get("output"))),
    ]:
        if key not in artifacts:
            artifacts.append(key)
    return ExecutionView(
        execution_arn=execution_arn,
        name=description["name"],
        state_machine=machine_name(description["stateMachineArn"]),
        status=description["status"],
        started_at=description.get("startDate"),
        stopped_at=description.get("stopDate"),
        error=error,
        cause=cause,
        states=runs,
        artifacts=artifacts,
    )


# --- finding machines and executions -------------------------------------------------------


def flowops_state_machines(sfn: Any, name_filter: str | None = None) -> list[dict[str, Any]]:
    machines: list[dict[str, Any]] = []
    for page in sfn.get_paginator("list_state_machines").paginate():
        machines.extend(page["stateMachines"])
    chosen = [m for m in machines if WORKFLOW_MARKER in m["name"]]
    if name_filter:
        chosen = [m for m in chosen if name_filter.lower() in m["name"].lower()]
    return sorted(chosen, key=lambda machine: machine["name"])


def resolve_execution(sfn: Any, execution: str) -> str:
    """An execution ARN from an ARN or an execution name (searched in every flowops machine)."""
    if execution.startswith("arn:"):
        return execution
    for machine in flowops_state_machines(sfn):
        arn = machine["stateMachineArn"].replace(":stateMachine:", ":execution:", 1) + f":{execution}"
        try:
            sfn.describe_execution(executionArn=arn)
        except Exception as error:
            if _error_code(error) in {"ExecutionDoesNotExist", "ResourceNotFoundException"}:
                continue
            raise
        return str(arn)
    raise RunsError(
        f"no execution named {execution!r} in the flowops state machines (see `flowops runs list`)",
        exit_codes.USAGE_ERROR,
    )


def list_runs(sfn: Any, *, name_filter: str | None, status: str | None, limit: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for machine in flowops_state_machines(sfn, name_filter):
        options: dict[str, Any] = {
            "stateMachineArn": machine["stateMachineArn"],
            "maxResults": min(limit, 1000),
        }
        if status:
            options["statusFilter"] = status
        for execution in sfn.list_executions(**options)["executions"]:
            started, stopped = execution.get("startDate"), execution.get("stopDate")
            rows.append(
                {
                    "name": execution["name"],
                    "execution_arn": execution["executionArn"],
                    "state_machine": machine["name"],
                    "status": execution["status"],
                    "started_at": started.isoformat() if started else None,
                    "stopped_at": stopped.isoformat() if stopped else None,
                    "duration_seconds": (stopped - started).total_seconds() if started and stopped else None,
                }
            )
    rows.sort(key=lambda row: row["started_at"] or "", reverse=True)
    return rows[:limit]


# --- rendering -------------------------------------------------------------------------------


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}s" if value < 60 else f"{int(value // 60)}m{value % 60:04.1f}s"


def _clip(text: str | None, size: int = 300) -> str:
    text = (text or "").strip()
    return text if len(text) <= size else text[: size - 1] + "…"


def _state_label(run: StateRun) -> str:
    return f"{run.name} [{run.iteration}]" if run.iteration is not None else run.name


def _collapse_iterations(runs: list[StateRun]) -> list[StateRun | dict[str, Any]]:
    """States of large Map runs summarized per state name; small ones listed as they are."""
    iterations: dict[str, set[int]] = {}
    for run in runs:
        if run.map_state and run.iteration is not None:
            iterations.setdefault(run.map_state, set()).add(run.iteration)
    large = {name for name, seen in iterations.items() if len(seen) > MAP_ROWS_SHOWN}
    rows: list[StateRun | dict[str, Any]] = []
    summaries: dict[tuple[str, str], dict[str, Any]] = {}
    for run in runs:
        if run.map_state not in large:
            rows.append(run)
            continue
        key = (run.map_state or "", run.name)
        summary = summaries.get(key)
        if summary is None:
            summary = {
                "name": run.name,
                "map": run.map_state,
                "count": 0,
                "failed": 0,
                "retries": 0,
                "max": 0.0,
            }
            summaries[key] = summary
            rows.append(summary)
        summary["count"] += 1
        summary["failed"] += run.status == "failed"
        summary["retries"] += len(run.retries)
        summary["max"] = max(summary["max"], run.duration_seconds or 0.0)
    return rows


def render_execution(view: ExecutionView) -> list[str]:
    lines = [
        f"{view.name}  ({view.state_machine})",
        f"status   {view.status}   started {view.started_at.isoformat() if view.started_at else '—'}   "
        f"duration {_seconds(view.duration_seconds)}",
    ]
    if view.error or view.cause:
        lines.append(f"error    {view.error or '—'}: {_clip(view.cause)}")
    lines.append("")
    for row in _collapse_iterations(view.states):
        if isinstance(row, dict):
            lines.append(
                f"  {'•':<2} {row['name']} x{row['count']} (in {row['map']})  max {_seconds(row['max'])}"
                f"  retries {row['retries']}  failed {row['failed']}"
            )
            continue
        mark = {"succeeded": "✓", "failed": "✗", "running": "…", "failing": "!"}.get(row.status, "?")
        line = f"  {mark:<2} {_state_label(row):<56} {row.type:<8} {_seconds(row.duration_seconds):>8}"
        if len(row.attempts) > 1:
            line += f"  attempts {len(row.attempts)}"
        lines.append(line)
        for retry in row.retries:
            configured = (
                f", configured {_seconds(retry.configured_backoff_seconds)}"
                if retry.configured_backoff_seconds is not None
                else ""
            )
            lines.append(
                f"       retry after attempt {retry.attempt}: {retry.error}; "
                f"backoff {_seconds(retry.observed_backoff_seconds)}{configured}"
            )
        if row.error and row.status in {"failed", "failing"}:
            lines.append(f"       error {row.error}: {_clip(row.cause)}")
        if row.next_state and (row.type == "Choice" or row.status == "failed"):
            verb = "branch" if row.type == "Choice" else "caught, went to"
            lines.append(f"       {verb} → {row.next_state}")
    if view.artifacts:
        lines += ["", "artifacts"]
        lines += [f"  {key}" for key in view.artifacts]
    return lines


# --- commands --------------------------------------------------------------------------------


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _sfn() -> Any:
    """The connected cloud's Step Functions; with no cloud running, the executions the embedded
    clouds kept (src/flowops/cli/embedded_state.py), announced on stderr."""
    return _sfn_and_records()[0]


def _sfn_and_records() -> tuple[Any, RunRecords | None]:
    """`_sfn()` and the cloud's run records (None: the kept executions of embedded clouds, whose
    state tables are gone)."""
    from flowops.cli.embedded_state import kept_runs_client
    from flowops.cli.local_cloud import CloudUnavailableError, connect

    try:
        connection = connect()
    except CloudUnavailableError as error:
        kept = kept_runs_client()
        if kept is None:
            raise fail(str(error), exit_codes.UNREACHABLE) from None
        client, state = kept
        echo_lines(
            [f"no cloud running: the executions the embedded clouds kept (last saved {state.saved_at})"],
            err=True,
        )
        return client, None
    return connection.client("stepfunctions"), run_records(connection)


def _guarded(action: Callable[[], Any]) -> Any:
    """Run a boto3-backed action; AWS errors become a one-line message and a documented exit code."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

    try:
        return action()
    except RunsError as error:
        raise fail(str(error), error.exit_code) from None
    except (EndpointConnectionError, ConnectionError) as error:
        raise fail(f"cannot reach Step Functions: {error}", exit_codes.UNREACHABLE) from None
    except NoCredentialsError:
        raise fail(
            "no AWS credentials found (set AWS_PROFILE or run `aws configure`)", exit_codes.USAGE_ERROR
        ) from None
    except ClientError as error:
        code = _error_code(error)
        if code in {"ExecutionDoesNotExist", "InvalidArn", "StateMachineDoesNotExist"}:
            raise fail(
                f"{code}: {error.response['Error'].get('Message', '')}", exit_codes.USAGE_ERROR
            ) from None
        if code in {"AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException"}:
            raise fail(
                f"AWS refused the request ({code}): check credentials and region", exit_codes.USAGE_ERROR
            ) from None
        raise fail(f"Step Functions error {code}: {error}", exit_codes.UNREACHABLE) from None
    except BotoCoreError as error:
        raise fail(f"AWS client error: {error}", exit_codes.UNREACHABLE) from None


@runs_app.command("list")
def list_command(
    machine: Annotated[
        str | None,
        typer.Option("--machine", "-m", help="Only state machines whose name contains this (e.g. Scan)."),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(help="Only executions in this status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED."),
    ] = None,
    limit: Annotated[int, typer.Option(help="Newest executions to show.", min=1, max=1000)] = 20,
    as_json: JsonOption = False,
) -> None:
    """Recent executions of the flowops state machines, newest first."""
    if status is not None and status.upper() not in TERMINAL_STATUSES | {"RUNNING", "PENDING_REDRIVE"}:
        raise fail(
            f"--status must be one of RUNNING, {', '.join(sorted(TERMINAL_STATUSES))}", exit_codes.USAGE_ERROR
        )
    sfn = _sfn()
    rows = _guarded(
        lambda: list_runs(sfn, name_filter=machine, status=status.upper() if status else None, limit=limit)
    )
    if as_json:
        typer.echo(json.dumps({"executions": rows}, indent=2))
        return
    if not rows:
        typer.echo("no executions yet")
        return
    table(
        ["STARTED", "STATUS", "DURATION", "STATE MACHINE", "NAME"],
        (
            [
                (row["started_at"] or "—")[:25],
                row["status"],
                _seconds(row["duration_seconds"]),
                row["state_machine"],
                row["name"],
            ]
            for row in rows
        ),
        no_wrap=("STARTED", "NAME"),
    )


@runs_app.command("show")
def show_command(
    execution: Annotated[str, typer.Argument(help="Execution ARN, or its name (from `flowops runs list`).")],
    as_json: JsonOption = False,
) -> None:
    """Show one execution as the console does.

    States in order with durations, retries and their backoff, the branch taken, error and
    cause, and the S3 keys of its artifacts. A publish or release its machine could not finish
    shows the backstop's record (leases freed, what to check by hand). Exit code 6 when the
    execution failed, timed out or was aborted; 7 when it was interrupted and Genesys may run
    what the records do not say (or the interruption is not recorded yet).
    """
    sfn, records = _sfn_and_records()
    view: ExecutionView = _guarded(lambda: view_execution(sfn, resolve_execution(sfn, execution)))
    interruption = (
        _guarded(lambda: read_interruption(records, view.name, view.status, is_run_workflow=_is_run(view)))
        if records is not None
        else None
    )
    if as_json:
        document = view.document()
        document["interruption"] = interruption.document() if interruption is not None else None
        typer.echo(json.dumps(document, indent=2))
    else:
        echo_lines(render_execution(view))
        if interruption is not None:
            echo_lines(["", *interruption.lines()])
    if interruption is not None:
        raise typer.Exit(interruption.exit_code)
    if view.status in FAILED_STATUSES:
        raise typer.Exit(exit_codes.FAILED)


def _is_run(view: ExecutionView) -> bool:
    return _is_run_machine(view.state_machine)


def _is_run_machine(name: str) -> bool:
    """A publish or release machine (their executions have run items): by its name, which CDK
    derives from the construct path (`PublishWorkflowStateMachine…`, `ReleaseWorkflow…`)."""
    return any(f"{kind.capitalize()}Workflow" in name for kind in RUN_KINDS)


def follow_execution(
    sfn: Any,
    execution_arn: str,
    *,
    interval: float,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[str]:
    """Lines describing an execution's progress as it happens, until it ends (or `timeout`)."""
    printed_entered: set[tuple[str, int | None, Any]] = set()
    printed_done: set[tuple[str, int | None, Any, str]] = set()
    printed_retries: set[tuple[str, int | None, Any, int]] = set()
    deadline = time.monotonic() + timeout
    while True:
        view = view_execution(sfn, execution_arn)
        for run in view.states:
            key = (run.name, run.iteration, run.entered_at)
            if key not in printed_entered:
                printed_entered.add(key)
                yield f"▶ {_state_label(run)}"
            for retry in run.retries:
                retry_key = (*key, retry.attempt)
                if retry_key not in printed_retries:
                    printed_retries.add(retry_key)
                    yield (
                        f"  ↻ {_state_label(run)}: attempt {retry.attempt} failed with {retry.error}, "
                        f"retrying after {_seconds(retry.observed_backoff_seconds)}"
                    )
            if run.status not in {"running", "failing"} and (*key, run.status) not in printed_done:
                printed_done.add((*key, run.status))
                mark = "✓" if run.status == "succeeded" else "✗"
                suffix = (
                    f"  {run.error}: {_clip(run.cause, 160)}" if run.status == "failed" and run.error else ""
                )
                yield f"{mark} {_state_label(run)}  {_seconds(run.duration_seconds)}{suffix}"
        if view.status in TERMINAL_STATUSES:
            yield f"execution {view.status} after {_seconds(view.duration_seconds)}"
            if view.error or view.cause:
                yield f"error {view.error}: {_clip(view.cause)}"
            for key in view.artifacts:
                yield f"artifact {key}"
            return
        if time.monotonic() > deadline:
            raise RunsError(
                f"still {view.status} after {timeout:.0f} s (it keeps running)", exit_codes.FAILURE_FOUND
            )
        sleep(interval)


@runs_app.command("watch")
def watch_command(
    execution: Annotated[str, typer.Argument(help="Execution ARN, or its name.")],
    interval: Annotated[float, typer.Option(help="Seconds between polls.", min=0.05)] = 1.0,
    timeout: Annotated[float, typer.Option(help="Stop watching after this many seconds.", min=1)] = 3600.0,
) -> None:
    """Follow an execution live, one line per state entered, retried and finished.

    Exit code 0 when it succeeds, 6 when it fails, 1 when it is still running at --timeout; 7
    when a publish or release was interrupted (timed out, stopped) and Genesys may have changed
    (the backstop's record, waited for briefly, is printed at the end).
    """
    from flowops.cli import interrupted

    sfn, records = _sfn_and_records()

    def follow() -> tuple[str, interrupted.Interruption | None]:
        arn = resolve_execution(sfn, execution)
        for line in follow_execution(sfn, arn, interval=interval, timeout=timeout):
            echo_lines([line])
            sys.stdout.flush()
        description = sfn.describe_execution(executionArn=arn)
        status = str(description["status"])
        if records is None:
            return status, None
        found = interrupted.read_interruption(
            records,
            str(description["name"]),
            status,
            is_run_workflow=_is_run_machine(machine_name(description["stateMachineArn"])),
            grace_seconds=interrupted.RECORD_GRACE_SECONDS,
        )
        return status, found

    status, found = _guarded(follow)
    if found is not None:
        echo_lines(found.lines())
        raise typer.Exit(found.exit_code)
    if status in FAILED_STATUSES:
        raise typer.Exit(exit_codes.FAILED)


def register(app: typer.Typer) -> None:
    app.add_typer(runs_app, name="runs")
