"""`flowops trace`: run one execution of the trace state machine and print the bottleneck table.

    flowops trace --flow <id|name> --since 2h [--until ...] [--errors-only] [--json]
    flowops trace redrive            # post traces parked in the dead-letter queue again

Like `flowops scan`, it talks to a running `flowops local up` or a deployed stack through boto3,
else starts an embedded local cloud for the duration of the command. Locally `--flow` may be
left out: the flow with the most runs in the window is traced (found through the real
instances query).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from flowops.cli import exit_codes
from flowops.cli.executions import execution_failure
from flowops.cli.local_cloud import (
    CloudConnection,
    CloudUnavailableError,
    EmbeddedCloudError,
    connect,
    embedded_cloud,
    refuse_embedded_options,
)
from flowops.cli.terminal import echo_lines, fail

TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
STATE_MACHINE_MARKER = "TraceWorkflowStateMachine"  # logical-id stem, in local and deployed names
REDRIVE_FUNCTION_MARKER = "RedriveTraceDeliveries"
ENV_STATE_MACHINE_ARN = "FLOWOPS_TRACE_STATE_MACHINE_ARN"
ENV_REDRIVE_FUNCTION = "FLOWOPS_TRACE_REDRIVE_FUNCTION"
DEMO_SINCE = "9d"  # inside the 10-day retention with room for the time the trace itself takes

trace_app = typer.Typer(help="Trace flow executions: bottlenecks, critical paths, failing paths.")


class TraceExecutionError(Exception):
    def __init__(self, message: str, execution_arn: str = "", error: str = "") -> None:
        super().__init__(message)
        self.execution_arn = execution_arn
        self.error = error


def trace_state_machine_arn(connection: CloudConnection) -> str:
    """The trace state machine: $FLOWOPS_TRACE_STATE_MACHINE_ARN, else found by its logical-id stem."""
    explicit = os.environ.get(ENV_STATE_MACHINE_ARN)
    if explicit:
        return explicit
    paginator = connection.client("stepfunctions").get_paginator("list_state_machines")
    for page in paginator.paginate():
        for machine in page["stateMachines"]:
            if STATE_MACHINE_MARKER in machine["name"]:
                return str(machine["stateMachineArn"])
    raise TraceExecutionError(f"no trace state machine found (set {ENV_STATE_MACHINE_ARN})")


def redrive_function_name(connection: CloudConnection) -> str:
    explicit = os.environ.get(ENV_REDRIVE_FUNCTION)
    if explicit:
        return explicit
    paginator = connection.client("lambda").get_paginator("list_functions")
    for page in paginator.paginate():
        for function in page["Functions"]:
            if REDRIVE_FUNCTION_MARKER in function["FunctionName"]:
                return str(function["FunctionName"])
    raise TraceExecutionError(f"no redrive function found (set {ENV_REDRIVE_FUNCTION})")


# The trace's main steps in order: what the progress bar counts.
TRACE_STEPS = (
    "ValidateTraceRequest",
    "QueryInstances",
    "StartExecutionDataJob",
    "WaitForExecutionData",
    "AnalyzeExecutions",
    "DeliverTrace",
    "RecordTraceOutcome",
)
TraceProgress = Callable[[int, str, int], None]  # (steps reached, current state, job checks so far)


def _trace_progress(sfn: Any, execution_arn: str) -> tuple[int, str, int]:
    """Steps reached, the state running now, and how many times the jobs were checked."""
    events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    reached = max((TRACE_STEPS.index(state) + 1 for state in entered if state in TRACE_STEPS), default=0)
    checks = sum(1 for state in entered if state == "CheckExecutionData")
    return reached, entered[-1] if entered else "starting", checks


def run_trace_execution(
    connection: CloudConnection,
    request: dict[str, Any],
    *,
    name: str | None = None,
    timeout: float = 1800.0,
    on_progress: TraceProgress | None = None,
) -> dict[str, Any]:
    """Start a trace, wait for it, return the CLI's JSON document (execution output + report)."""
    sfn = connection.client("stepfunctions")
    execution_name = name or f"trace-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    execution_arn = sfn.start_execution(
        stateMachineArn=trace_state_machine_arn(connection), name=execution_name, input=json.dumps(request)
    )["executionArn"]
    deadline = time.monotonic() + timeout
    while True:
        description = sfn.describe_execution(executionArn=execution_arn)
        if on_progress is not None:
            on_progress(*_trace_progress(sfn, execution_arn))
        if description["status"] in TERMINAL_STATUSES:
            break
        if time.monotonic() > deadline:
            raise TraceExecutionError(f"trace still running after {timeout:.0f} s", execution_arn)
        time.sleep(0.1)
    if description["status"] != "SUCCEEDED":
        error, cause = execution_failure(sfn, execution_arn, description)
        raise TraceExecutionError(f"trace {description['status']}: {error}: {cause}", execution_arn, error)
    outcome: dict[str, Any] = json.loads(description["output"])
    document: dict[str, Any] = {"execution_arn": execution_arn, **outcome}
    if outcome.get("report_key"):
        from flowops.store import ArtifactStore

        report = ArtifactStore(connection.artifacts_bucket, connection.client("s3")).get_json(
            outcome["report_key"]
        )
        document["summary"] = report["summary"]
        document["bottlenecks"] = report["report"]["bottlenecks_by_total"]
        document["errors"] = report["report"]["errors"]
        document["coverage"] = report["report"]["coverage"]
        document["failed_downloads"] = report["failed_downloads"]
    return document


def run_trace_redrive(connection: CloudConnection, *, max_messages: int = 100) -> dict[str, Any]:
    """Invoke the redrive function once; its result (received, delivered, failed, unreadable)."""
    response = connection.client("lambda").invoke(
        FunctionName=redrive_function_name(connection),
        Payload=json.dumps({"max_messages": max_messages}).encode(),
    )
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        message = payload.get("errorMessage") if isinstance(payload, dict) else payload
        raise TraceExecutionError(f"redrive failed: {message}")
    return dict(payload)


def busiest_flow(connection: CloudConnection, *, since_hours: float) -> str | None:
    """Locally: the flow with the most runs among one page of the window (real instances query)."""
    if not connection.genesys_base_url:
        return None
    from datetime import UTC, datetime, timedelta

    from flowops.genesys import ClientCredentials, GenesysClient
    from flowops.genesys.models import FlowInstanceCriteria, FlowInstanceQuery
    from flowops.local.runtime.cloud import LOCAL_GENESYS_CREDENTIALS
    from flowops.trace.pipeline import genesys_timestamp

    client_id, client_secret = LOCAL_GENESYS_CREDENTIALS
    now = datetime.now(UTC)
    query = FlowInstanceQuery.all_of(
        FlowInstanceCriteria(
            key="FlowStartDateTime",
            operator="gte",
            value=genesys_timestamp(now - timedelta(hours=since_hours)),
        ),
        FlowInstanceCriteria(key="FlowStartDateTime", operator="lt", value=genesys_timestamp(now)),
    )
    with GenesysClient(
        ClientCredentials(client_id=client_id, client_secret=client_secret),
        base_url=connection.genesys_base_url,
    ) as client:
        rows = client.query_flow_instances(query).entities
    counts: dict[str, int] = {}
    for row in rows:
        if row.flow_id:
            counts[row.flow_id] = counts.get(row.flow_id, 0) + 1
    return max(sorted(counts), key=lambda flow_id: counts[flow_id]) if counts else None


def run_demo_trace(cloud_connection: CloudConnection) -> dict[str, Any]:
    """`make demo`: trace the busiest flow of the simulator's execution data (last 9 days)."""
    flow = busiest_flow(cloud_connection, since_hours=24 * 9)
    if flow is None:
        raise TraceExecutionError("the simulator holds no execution data to trace")
    return run_trace_execution(
        cloud_connection,
        {"flow": flow, "since": DEMO_SINCE, "trigger": "demo"},
        name=f"demo-trace-{uuid.uuid4().hex[:6]}",
    )


def _waterfall_where(document: dict[str, Any]) -> str:
    if document.get("waterfall_file"):
        return f"file://{document['waterfall_file']}"
    return str(document.get("waterfall_key") or "none")


def save_waterfall(connection: CloudConnection, document: dict[str, Any]) -> None:
    """A local copy of the slowest run's waterfall SVG under `.flowops/waterfalls/` (its path
    goes into the document); the S3 key alone is no use to someone at a terminal."""
    key = document.get("waterfall_key")
    if not key:
        return
    from flowops.cli.files import save_artifact
    from flowops.store import ArtifactStore

    svg = ArtifactStore(connection.artifacts_bucket, connection.client("s3")).get_bytes(key)
    trace_id = str(document.get("trace_id") or key.rsplit("/", 2)[-2])
    document["waterfall_file"] = str(save_artifact("waterfalls", f"{trace_id}-waterfall.svg", svg))


def summary_lines(document: dict[str, Any]) -> list[str]:
    if document.get("status") == "EMPTY_WINDOW":
        return [f"no runs to analyze: {document.get('message', '')}"]
    delivery = document.get("delivery", {})
    lines = [document.get("summary", "")]
    lines += [
        "",
        f"report    {document.get('report_key')}",
        f"waterfall {_waterfall_where(document)}",
        f"delivery  {delivery.get('outcome')}"
        + (f" (HTTP {delivery['status_code']})" if delivery.get("status_code") else "")
        + (f" — parked as message {delivery['message_id']}" if delivery.get("message_id") else ""),
        f"latency   {document.get('latency_seconds')} s from submission to report",
    ]
    return lines


def resolve_flow_references(connection: CloudConnection, references: list[str]) -> list[str]:
    """`--flow` values as flow ids, resolved against the org's lock (src/flowops/cli/names.py): an
    unknown or ambiguous name stops here, before an execution starts. Without a lock yet the
    values go to the pipeline as given (it resolves names against the live org)."""
    if not references:
        return []
    from flowops.cli.local_cloud import NoLockError, read_current_lock
    from flowops.cli.names import NameResolutionError, lock_flows, resolve

    try:
        flows = lock_flows(read_current_lock(connection))
    except NoLockError:
        return references
    try:
        return [resolve(reference, flows).id for reference in references]
    except NameResolutionError as error:
        raise TraceExecutionError(str(error), error="Trace.UnknownFlow") from None


def _with_connection(
    work: Any, *, flows: int, seed: int, org_file: Path | None, faults: str | None, ctx: Any = None
) -> Any:
    try:
        connection: CloudConnection | None = connect()
    except CloudUnavailableError:
        connection = None  # nothing running or deployed: run in an embedded local cloud
    if connection is not None:
        if ctx is not None:
            refuse_embedded_options(ctx, connection)
        return work(connection)
    from flowops.cli.files import logs_to_file

    with (
        logs_to_file("trace"),
        embedded_cloud(flows=flows, seed=seed, org_file=org_file, faults=faults, persist=True) as embedded,
    ):
        return work(embedded.connection)


@trace_app.callback(invoke_without_command=True)
def trace_command(
    ctx: typer.Context,
    flow: Annotated[
        list[str] | None,
        typer.Option("--flow", help="Flow id or name (repeatable). Locally: default busiest."),
    ] = None,
    since: Annotated[
        str, typer.Option(help="Window start: ISO-8601 instant or duration ('2h', '3d').")
    ] = "2h",
    until: Annotated[str | None, typer.Option(help="Window end: ISO-8601 instant or duration ago.")] = None,
    errors_only: Annotated[
        bool, typer.Option("--errors-only", help="Only runs that ended in an error.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    max_runs: Annotated[int, typer.Option(help="Analyze at most this many (newest) runs.", min=1)] = 2000,
    flows: Annotated[int, typer.Option(help="Embedded cloud only: flows of the generated org.", min=1)] = 200,
    seed: Annotated[int, typer.Option(help="Embedded cloud only: seed of the generated org.")] = 1,
    org_file: Annotated[
        Path | None, typer.Option("--org-file", help="Embedded cloud only: org file.")
    ] = None,
    faults: Annotated[str | None, typer.Option(help="Embedded cloud only: simulator fault spec.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the execution.")] = 1800.0,
) -> None:
    """Start a trace execution, wait for it, print the bottleneck table."""
    if ctx.invoked_subcommand is not None:
        return

    def work(connection: CloudConnection) -> dict[str, Any]:
        flow_refs = resolve_flow_references(connection, list(flow or []))
        if not flow_refs:
            busiest = busiest_flow(connection, since_hours=_hours(since))
            if busiest is None:
                raise TraceExecutionError(
                    "name a flow with --flow (no local execution data to pick one from)",
                    error="Trace.InvalidRequest",
                )
            flow_refs = [busiest]
        request: dict[str, Any] = {
            "flows": flow_refs,
            "since": since,
            "errors_only": errors_only,
            "max_runs": max_runs,
            "trigger": "cli",
        }
        if until:
            request["until"] = until
        if as_json:
            document = run_trace_execution(connection, request, timeout=timeout)
        else:
            document = _run_with_progress_bar(connection, request, timeout)
        save_waterfall(connection, document)  # while an embedded cloud is still up
        return document

    try:
        document = _with_connection(work, flows=flows, seed=seed, org_file=org_file, faults=faults, ctx=ctx)
    except EmbeddedCloudError as error:
        raise fail(str(error), error.exit_code) from None
    except TraceExecutionError as error:
        code = exit_codes.USAGE_ERROR if error.error in _INPUT_ERRORS else exit_codes.FAILED
        where = f" (execution {error.execution_arn})" if error.execution_arn else ""
        raise fail(f"{error}{where}", code) from None
    if as_json:
        typer.echo(json.dumps(document, indent=2, sort_keys=True, default=str))
    else:
        echo_lines(summary_lines(document))


def _run_with_progress_bar(
    connection: CloudConnection, request: dict[str, Any], timeout: float
) -> dict[str, Any]:
    """The trace with a progress bar on stderr (transient; plain output when not a terminal)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("[bold]trace[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=len(TRACE_STEPS))

        def show(reached: int, state: str, checks: int) -> None:
            waiting = f" (execution data checked {checks}x)" if checks else ""
            progress.update(task, completed=reached, description=f"{state}{waiting}")

        return run_trace_execution(connection, request, timeout=timeout, on_progress=show)


_INPUT_ERRORS = frozenset({"Trace.InvalidRequest", "Trace.UnknownFlow", "Trace.StorageDisabled"})


def _hours(since: str) -> float:
    from datetime import UTC, datetime

    from flowops.trace.request import resolve_moment
    from flowops.trace.window import TraceRequestError

    now = datetime.now(UTC)
    try:
        return max(0.01, (now - resolve_moment(since, now=now)).total_seconds() / 3600)
    except TraceRequestError as error:
        raise TraceExecutionError(str(error), error="Trace.InvalidRequest") from None


@trace_app.command("redrive")
def redrive_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    max_messages: Annotated[int, typer.Option(help="Messages to take from the queue.", min=1)] = 100,
) -> None:
    """Post traces parked in the dead-letter queue to the observability webhook again."""
    try:
        result = run_trace_redrive(connect(), max_messages=max_messages)
    except CloudUnavailableError as error:
        raise fail(str(error), exit_codes.UNREACHABLE) from None
    except TraceExecutionError as error:
        raise fail(str(error), exit_codes.FAILED) from None
    if as_json:
        typer.echo(json.dumps(result, indent=2, sort_keys=True))
    else:
        typer.echo(
            f"redrive: {result['received']} parked, {result['delivered']} delivered, "
            f"{result['failed']} failed again, {result['unreadable']} unreadable"
        )
    if result["failed"] or result["unreadable"]:
        raise typer.Exit(exit_codes.FAILURE_FOUND)


def register(app: typer.Typer) -> None:
    app.add_typer(trace_app, name="trace")
