"""`flowops scan`: run one execution of the scan state machine and print what it found.

Against a running `flowops local up` (or a deployed stack) the command starts the execution
through boto3 like any client would; with neither, it starts an embedded local cloud (the
simulator with a generated org + the stack's resources in moto) for the duration of the
command. Either way the SYNTHESIZED state machine runs with the real handlers.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from flowops.cli import exit_codes
from flowops.cli.executions import execution_failure
from flowops.cli.files import logs_to_file, save_artifact
from flowops.cli.local_cloud import (
    CloudConnection,
    CloudUnavailableError,
    EmbeddedCloudError,
    connect,
    embedded_cloud,
    refuse_embedded_options,
)
from flowops.cli.progress import HistoryReader
from flowops.cli.terminal import echo_lines, fail, labelled

TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
PLAN_STATE = "List the pages of flows"

ProgressCallback = Callable[[int, int, str], None]


class ScanExecutionError(Exception):
    def __init__(self, message: str, execution_arn: str) -> None:
        super().__init__(message)
        self.execution_arn = execution_arn


def run_scan_execution(
    connection: CloudConnection,
    request: dict[str, Any],
    *,
    name: str | None = None,
    timeout: float = 1800.0,
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Start a scan, wait for it, and return the CLI's JSON document (see `scan_document`)."""
    if not connection.scan_state_machine_arn:
        raise ScanExecutionError("no scan state machine known (set FLOWOPS_SCAN_STATE_MACHINE_ARN)", "")
    sfn = connection.client("stepfunctions")
    execution_name = name or f"scan-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    execution_arn = sfn.start_execution(
        stateMachineArn=connection.scan_state_machine_arn, name=execution_name, input=json.dumps(request)
    )["executionArn"]
    deadline = time.monotonic() + timeout
    progress = _ScanProgress(sfn, execution_arn)
    while True:
        description = sfn.describe_execution(executionArn=execution_arn)
        status = description["status"]
        if on_progress is not None:
            on_progress(*progress.read())
        if status in TERMINAL_STATUSES:
            break
        if time.monotonic() > deadline:
            raise ScanExecutionError(f"scan still running after {timeout:.0f} s", execution_arn)
        time.sleep(0.2)
    if status != "SUCCEEDED":
        error, cause = execution_failure(sfn, execution_arn, description)
        raise ScanExecutionError(f"scan {status}: {error}: {cause}", execution_arn)
    outcome = json.loads(description["output"])
    return scan_document(connection, outcome, execution_arn)


def scan_document(connection: CloudConnection, outcome: dict[str, Any], execution_arn: str) -> dict[str, Any]:
    """The printed result: counts from the execution output, lists from the report artifact."""
    from flowops.store import ArtifactStore

    artifacts = ArtifactStore(connection.artifacts_bucket, connection.client("s3"))
    report = artifacts.get_json(outcome["report_key"])
    analysis = report["analysis"]
    names = _names_of_lock(artifacts, outcome["lock_key"])
    return {
        "execution_arn": execution_arn,
        "scan_id": outcome["scan_id"],
        "org": outcome["org"],
        "flows": outcome["flows"],
        "nodes": outcome["nodes"],
        "edges": outcome["edges"],
        "cycles": [cycle["members"] for cycle in analysis["cycles"]],
        "cycle_names": [[names.get(member, "") for member in c["members"]] for c in analysis["cycles"]],
        "waves": analysis["waves"],
        "missing": analysis["missing"],
        "problems": [
            {
                "code": problem["code"],
                "object_ids": problem["object_ids"],
                "consumer_ids": problem["consumer_ids"],
                "message": problem["message"],
            }
            for problem in analysis["problems"]
        ],
        "lock_sha256": outcome["lock_sha256"],
        "lock_key": outcome["lock_key"],
        "report_key": outcome["report_key"],
        "report_html_key": outcome["report_html_key"],
        "api_calls": outcome["api_calls"],
        "reused_flows": outcome["reused_flows"],
        "read_flows": outcome["read_flows"],
        "unread_flows": outcome.get("unread_flows", 0),
        "unread": [
            {"id": problem["object_ids"][0], "message": problem["message"]}
            for problem in analysis["problems"]
            if problem["code"] == "DEPENDENCIES_UNREAD"
        ],
        "pointer": outcome["pointer"],
        "drift": outcome["drift"],
        "duration_seconds": outcome["duration_seconds"],
        # The `live/<env>` mirror's outcome (stacks with Git; git_mirror_lines prints it)
        "git_mirror": outcome.get("git_mirror"),
        "git_mirror_error": outcome.get("git_mirror_error"),
    }


def _names_of_lock(artifacts: Any, key: str) -> dict[str, str]:
    from flowops.cli.names import names_by_id
    from flowops.lock import parse_lock

    return names_by_id(parse_lock(artifacts.get_bytes(key)))


def save_html_report(connection: CloudConnection, document: dict[str, Any]) -> Path:
    """Copy the scan's HTML report from S3 to `.flowops/reports/<scan id>.html` (src/flowops/cli/files.py);
    its absolute path."""
    from flowops.store import ArtifactStore
    from flowops.store.artifacts import DEFAULT_MAX_READ_BYTES
    from flowops.store.compression import inflate_if_gzip

    key = document["report_html_key"]
    stored = ArtifactStore(connection.artifacts_bucket, connection.client("s3")).get_bytes(key)
    html = inflate_if_gzip(stored, DEFAULT_MAX_READ_BYTES, key)
    return save_artifact("reports", f"{document['scan_id']}.html", html)


class _ScanProgress:
    """(pages read, pages planned, latest state), read from the execution history as it grows:
    each poll reads only the new events, over every page of the history (a scan of a few hundred
    pages writes thousands of events)."""

    def __init__(self, sfn: Any, execution_arn: str) -> None:
        self._reader = HistoryReader(sfn, execution_arn)
        self.done = self.total = 0
        self.state = ""

    def read(self) -> tuple[int, int, str]:
        for event in self._reader.new_events():
            if "stateEnteredEventDetails" in event:
                self.state = event["stateEnteredEventDetails"]["name"]
            exited = event.get("stateExitedEventDetails")
            if exited and exited["name"] == PLAN_STATE:
                plan = json.loads(exited.get("output") or "{}").get("plan", {})
                self.total = int(plan.get("page_count", 0))
            if event["type"] == "MapIterationSucceeded":
                self.done += 1
        return self.done, self.total, self.state


def _cycle_example(document: dict[str, Any]) -> str:
    members = document["cycles"][0][:4]
    names = (document.get("cycle_names") or [[]])[0]
    shown = [labelled(member, names[i] if i < len(names) else "") for i, member in enumerate(members)]
    return " <-> ".join(shown) + (" ..." if len(document["cycles"][0]) > 4 else "")


def summary_lines(document: dict[str, Any]) -> list[str]:
    drift = document["drift"]
    pointer = document["pointer"]
    lines = [
        f"scanned {document['flows']} flows of org {document['org']}: "
        f"{document['nodes']} nodes, {document['edges']} edges",
        f"lock     {document['lock_sha256']}  ({pointer['message']})",
        f"cycles   {len(document['cycles'])}"
        + (f"  e.g. {_cycle_example(document)}" if document["cycles"] else ""),
        f"waves    {len(document['waves'])}",
        f"missing  {len(document['missing'])}   problems {len(document['problems'])}",
        f"drift    flows +{drift['flows_added']} added -{drift['flows_removed']} removed "
        f"~{drift['flows_reversioned']} re-versioned, "
        f"edges +{drift['edges_added']} -{drift['edges_removed']}",
        f"api      {document['api_calls']} Genesys calls ({document['read_flows']} flows read, "
        f"{document['reused_flows']} reused from the previous lock)",
        *_unread_lines(document),
        *git_mirror_lines(document),
        f"report   {document['report_key']}",
        *([f"html     file://{document['report_html']}"] if document.get("report_html") else []),
    ]
    return lines


UNREAD_LINES_SHOWN = 10


def git_mirror_lines(document: dict[str, Any]) -> list[str]:
    """What the scan's `live/<env>` mirror did per repository (stacks with Git): the commit, or
    why not and how many flows wait for the next mirror (flowops.git.pending)."""
    mirrored = document.get("git_mirror") or {}
    lines = [f"git      {mirrored['reason']}"] if mirrored.get("reason") else []
    for repository in mirrored.get("repositories", []):
        where = f"git      {repository['repository']} {repository['branch']}: "
        carried = (
            f", {repository['carried_in']} carried from a failed mirror"
            if repository.get("carried_in")
            else ""
        )
        if repository.get("failed"):
            since = repository.get("pending_since") or "now"
            lines.append(
                f"{where}NOT committed ({repository['error'][:160]}); {repository.get('pending', 0)} flow(s) "
                f"pending since {since}, retried by the next scan or release"
            )
        elif repository.get("error"):
            lines.append(f"{where}{repository['error'][:200]}")
        elif repository.get("commits"):
            lines.append(
                f"{where}{repository['commits']} commit(s), head {str(repository['commit'])[:12]}{carried}"
            )
        else:
            lines.append(f"{where}up to date")
    if document.get("git_mirror_error"):
        error = document["git_mirror_error"]
        lines.append(f"git      mirror step failed: {error.get('Error')}: {str(error.get('Cause'))[:200]}")
    return lines


def _unread_lines(document: dict[str, Any]) -> list[str]:
    """The lock's completeness: how many flows could not be read, and (some of) why."""
    unread = document.get("unread") or []
    if not unread:
        return []
    lines = [
        f"unread   {len(unread)} flows: what they use is unknown (the next scan asks again, except for "
        "flow types dependency tracking does not cover)"
    ]
    lines += [f"  - {item['message']}" for item in unread[:UNREAD_LINES_SHOWN]]
    if len(unread) > UNREAD_LINES_SHOWN:
        lines.append(f"  ... and {len(unread) - UNREAD_LINES_SHOWN} more (see the report)")
    return lines


def scan_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    full: Annotated[bool, typer.Option("--full", help="Re-read every flow (no reuse of the lock).")] = False,
    page_size: Annotated[int, typer.Option(help="Flows per page (1-500).", min=1, max=500)] = 200,
    flows: Annotated[int, typer.Option(help="Embedded cloud only: flows of the generated org.", min=1)] = 200,
    seed: Annotated[int, typer.Option(help="Embedded cloud only: seed of the generated org.")] = 1,
    org_file: Annotated[
        Path | None, typer.Option("--org-file", help="Embedded cloud only: org file.")
    ] = None,
    faults: Annotated[str | None, typer.Option(help="Embedded cloud only: simulator fault spec.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the execution.")] = 1800.0,
) -> None:
    """Start a scan execution, wait for it, print the result."""
    request = {"full": full, "page_size": page_size, "trigger": "cli"}
    try:
        connection: CloudConnection | None = connect()
    except CloudUnavailableError:
        connection = None  # nothing running or deployed: the scan runs in an embedded local cloud
    if connection is not None:
        refuse_embedded_options(ctx, connection)
    try:
        # Handlers of an embedded cloud run in this process: their log lines go to stderr so
        # stdout carries only the result.
        with contextlib.redirect_stdout(sys.stderr):
            if connection is not None:
                document = _run(connection, request, as_json, timeout)
            else:
                with (
                    logs_to_file("scan"),
                    embedded_cloud(
                        flows=flows, seed=seed, org_file=org_file, faults=faults, persist=True
                    ) as embedded,
                ):
                    document = _run(embedded.connection, request, as_json, timeout)
    except EmbeddedCloudError as error:
        raise fail(str(error), error.exit_code) from None
    except ScanExecutionError as error:
        where = f" (execution {error.execution_arn}: `flowops runs show` has the details)"
        where = where if error.execution_arn else ""
        raise fail(f"{error}{where}", exit_codes.FAILED) from None
    if as_json:
        typer.echo(json.dumps(document, indent=2, sort_keys=True))
    else:
        echo_lines(summary_lines(document))


def _run(connection: CloudConnection, request: dict[str, Any], quiet: bool, timeout: float) -> dict[str, Any]:
    document = _execute(connection, request, quiet, timeout)
    # The HTML report is also written locally while the connection (and an embedded cloud) is up.
    document["report_html"] = str(save_html_report(connection, document))
    return document


def _execute(
    connection: CloudConnection, request: dict[str, Any], quiet: bool, timeout: float
) -> dict[str, Any]:
    if quiet:
        return run_scan_execution(connection, request, timeout=timeout)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("[bold]scan[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=None)

        def show(done: int, total: int, state: str) -> None:
            progress.update(task, completed=done, total=total or None, description=state or "starting")

        return run_scan_execution(connection, request, timeout=timeout, on_progress=show)


def register(app: typer.Typer) -> None:
    app.command("scan")(scan_command)
