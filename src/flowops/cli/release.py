"""`flowops export`, `flowops plan` (and the release commands that build on them).

A release directory (docs/releases.md) holds `flows/<yamlKey>/<slug>.yaml` (one flow per file)
and `environments/<env>.yaml` (Archy options files whose `substitutions:` apply per environment).

Exit codes of `plan` (docs/cli.md): 0 no changes, 4 changes to release, 1 invalid (validation
errors), 2 bad input (unreadable directory, unknown environment), 3 nothing reachable.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from flowops.cli import exit_codes
from flowops.cli.local_cloud import CloudConnection, EmbeddedCloudError
from flowops.cli.terminal import CliError, fail

DirOption = Annotated[
    Path,
    typer.Option(
        "--dir",
        help="Release directory: flows/<yamlKey>/<name>.yaml and environments/<env>.yaml.",
        file_okay=False,
    ),
]
EnvOption = Annotated[str, typer.Option("--env", help="Environment: its environments/<env>.yaml applies.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
_MAX_FILES = 2000


class ReleaseCommandError(CliError):
    """A release command's one `error:` line and exit code."""


def _exit_on(error: Exception) -> typer.Exit:
    return fail(error, getattr(error, "exit_code", exit_codes.UNREACHABLE))


# ---- reading a release directory -----------------------------------------------------------------


def read_release_files(directory: Path) -> dict[str, bytes]:
    """Every file under DIR/flows and DIR/environments, by relative POSIX path (bounded)."""
    from flowops.bounded import InputTooLargeError
    from flowops.cli._files import read_bounded_bytes
    from flowops.release.bundle import ENVIRONMENTS_DIR, FLOWS_DIR, MAX_FLOW_BYTES

    if not directory.is_dir():
        raise ReleaseCommandError(f"--dir {directory} is not a directory", exit_codes.USAGE_ERROR)
    files: dict[str, bytes] = {}
    for top in (FLOWS_DIR, ENVIRONMENTS_DIR):
        root = directory / top
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix not in (".yaml", ".yml"):
                continue
            if len(files) >= _MAX_FILES:
                raise ReleaseCommandError(
                    f"more than {_MAX_FILES} YAML files under {directory}", exit_codes.USAGE_ERROR
                )
            relative = path.relative_to(directory).as_posix()
            try:
                files[relative] = read_bounded_bytes(path, MAX_FLOW_BYTES, "release file")
            except InputTooLargeError:
                raise ReleaseCommandError(
                    f"{relative} is larger than {MAX_FLOW_BYTES} bytes", exit_codes.USAGE_ERROR
                ) from None
            except OSError as error:
                raise ReleaseCommandError(
                    f"cannot read {relative}: {error.strerror or error}", exit_codes.USAGE_ERROR
                ) from None
    return files


def source_revision(directory: Path) -> str | None:
    """`git:<commit>` (with `+dirty` when the directory has uncommitted changes), else None."""
    try:
        head = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", str(directory), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return f"git:{head.stdout.strip()}" + ("+dirty" if dirty.stdout.strip() else "")


def load_bundle(directory: Path) -> Any:
    from flowops.release.bundle import bundle_from_files
    from flowops.release.errors import BundleError

    files = read_release_files(directory)
    try:
        return bundle_from_files(files, source_revision=source_revision(directory))
    except BundleError as error:
        raise ReleaseCommandError(error.message, exit_codes.USAGE_ERROR) from None


# ---- the org -------------------------------------------------------------------------------------


def live_org(connection: CloudConnection) -> Any:
    from flowops.cli.publish import genesys_client_for
    from flowops.release.live import GenesysLiveOrg
    from flowops.store import ArtifactStore

    return GenesysLiveOrg(
        genesys_client_for(connection),
        org=connection.org,
        artifacts=ArtifactStore(connection.artifacts_bucket, connection.client("s3")),
        poll_seconds=0.2 if connection.is_local else 1.0,
    )


def current_lock_or_none(connection: CloudConnection) -> Any:
    from flowops.cli.local_cloud import NoLockError, read_current_lock

    try:
        return read_current_lock(connection)
    except NoLockError:
        return None


@contextlib.contextmanager
def _cloud(environment: str) -> Any:
    from flowops.cli.local_cloud import running_local_cloud
    from flowops.cli.publish import PublishCommandError, cloud_for_command

    own = running_local_cloud(environment_endpoints_file(environment))
    if own is not None:  # `flowops local up --envs`: this environment's own stack and org
        yield own
        return
    try:
        with contextlib.redirect_stdout(sys.stderr), cloud_for_command(environment) as connection:
            yield connection
    except PublishCommandError as error:
        raise ReleaseCommandError(str(error), error.exit_code) from None
    except EmbeddedCloudError as error:
        raise ReleaseCommandError(str(error), error.exit_code) from None


# ---- export --------------------------------------------------------------------------------------


def existing_flow_files(directory: Path) -> dict[str, str]:
    """Paths under DIR/flows that already hold a flow → `<yamlKey>/<name>` (read from the file)."""
    from flowops.bounded import FLOW_YAML_LIMITS, InputTooLargeError
    from flowops.cli._files import read_bounded_bytes
    from flowops.flowyaml import FlowYamlError, parse_flow_yaml

    found: dict[str, str] = {}
    root = directory / "flows"
    if not root.is_dir():
        return found
    for path in sorted(root.rglob("*.y*ml")):
        try:
            text = read_bounded_bytes(path, FLOW_YAML_LIMITS.max_bytes, "flow file").decode("utf-8")
            document = parse_flow_yaml(text)
        except (OSError, UnicodeDecodeError, FlowYamlError, InputTooLargeError):
            continue
        found[path.relative_to(directory).as_posix()] = f"{document.yaml_key}/{document.name}"
    return found


def write_export(directory: Path, exported: list[Any]) -> list[str]:
    """Write each file atomically (temp file + rename): an interrupted export leaves whole files."""
    written = []
    for flow in exported:
        target = directory / flow.path
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_text(flow.text, encoding="utf-8", newline="")
        temporary.replace(target)
        written.append(flow.path)
    return written


def export_command(
    directory: DirOption,
    flows: Annotated[
        list[str] | None,
        typer.Option("--flows", help="Flow name, or TYPE/name; repeat or separate with commas."),
    ] = None,
    all_flows: Annotated[bool, typer.Option("--all", help="Every non-system flow of the org.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Export flows' published YAML into a release directory (one file per flow)."""
    from flowops.genesys.errors import GenesysError
    from flowops.release.errors import ReleaseError
    from flowops.release.export import choose_flows, export_flows

    if bool(flows) == all_flows:
        raise _exit_on(ReleaseCommandError("give --flows NAME[,NAME…] or --all", exit_codes.USAGE_ERROR))
    selectors = [name.strip() for item in flows or [] for name in item.split(",") if name.strip()] or None
    if directory.exists() and not directory.is_dir():
        raise _exit_on(ReleaseCommandError(f"--dir {directory} is not a directory", exit_codes.USAGE_ERROR))
    try:
        with _cloud("dev") as connection:
            live = live_org(connection)
            chosen, _ = choose_flows(live, selectors)
            result = export_flows(live, chosen, existing=existing_flow_files(directory))
        written = write_export(directory, result.exported)
    except ReleaseError as error:
        code = exit_codes.USAGE_ERROR if error.asl_error_name == "Release.BundleInvalid" else 1
        raise _exit_on(ReleaseCommandError(error.message, code)) from None
    except GenesysError as error:
        raise _exit_on(ReleaseCommandError(str(error), exit_codes.UNREACHABLE)) from None
    except (ReleaseCommandError, OSError) as error:
        raise _exit_on(error) from None
    if as_json:
        payload = {
            "directory": str(directory),
            "exported": [f.model_dump(exclude={"text"}) for f in result.exported],
            "skipped": result.skipped,
        }
        typer.echo(json.dumps(payload, indent=2, sort_keys=True))
    else:
        for flow in result.exported:
            typer.echo(f"{flow.path}  ←  {flow.flow_type} {flow.name!r} version {flow.version}")
        for reason in result.skipped:
            typer.echo(f"skipped: {reason}", err=True)
        typer.echo(f"exported {len(written)} flow(s) to {directory}")
    raise typer.Exit(exit_codes.OK)


# ---- plan ----------------------------------------------------------------------------------------

_SYMBOL = {"create": "+", "update": "~", "republish": "^", "unchanged": "="}


def plan_exit_code(status: str) -> int:
    return {
        "no-changes": exit_codes.OK,
        "changes": exit_codes.CHANGES_PLANNED,
        "invalid": exit_codes.FAILURE_FOUND,
    }[status]


def plan_json(plan: Any) -> dict[str, Any]:
    return {"status": plan.status, "counts": plan.counts(), **plan.model_dump(mode="json")}


def render_plan(plan: Any) -> list[str]:
    counts = plan.counts()
    lines = [
        f"plan for {plan.environment} (bundle {plan.bundle_sha256[:12]}, source {plan.source_revision}): "
        f"{counts['create']} to create, {counts['update']} to update, {counts['republish']} to republish, "
        f"{counts['unchanged']} unchanged"
    ]
    for wave in plan.waves:
        lines.append(f"wave {wave.index + 1}")
        for key in wave.flows:
            flow = plan.flow(key)
            version = f" (published {flow.live_version})" if flow.live_version else ""
            cycle = " [cycle: same wave]" if flow.in_cycle else ""
            source = flow.path or "from the org"
            lines.append(f"  {_SYMBOL[flow.action]} {flow.action:<9} {key}{version}{cycle}  {source}")
            lines.extend(f"      why: {reason}" for reason in flow.reasons)
    unchanged = [flow for flow in plan.flows if flow.action == "unchanged"]
    if unchanged:
        lines.append("unchanged (not published)")
        lines.extend(f"  = {flow.key}  {flow.reasons[0]}" for flow in unchanged)
    for title, findings in (("errors", plan.errors), ("warnings", plan.warnings)):
        if findings:
            lines.append(f"{title} ({len(findings)})")
            lines.extend(f"  {finding.line()}" for finding in findings)
    lines.append(
        {
            "invalid": "invalid: nothing would be released",
            "changes": f"{len(plan.changed)} flow(s) would be released in {len(plan.waves)} wave(s)",
            "no-changes": "no changes",
        }[plan.status]
    )
    return lines


def make_plan(connection: CloudConnection, bundle: Any, environment: str) -> Any:
    from flowops.release.plan import compute_plan

    live = live_org(connection)
    return compute_plan(
        bundle, environment, live, lock=current_lock_or_none(connection), objects=live.genesys
    )


def plan_command(directory: DirOption, environment: EnvOption, as_json: JsonOption = False) -> None:
    """What a release of DIR would do to ENV: per flow create/update/unchanged, waves, problems.

    Exit 0: no changes · 4: changes to release · 1: invalid · 2: bad input · 3: unreachable."""
    from flowops.genesys.errors import GenesysError
    from flowops.release.errors import ReleaseError

    try:
        bundle = load_bundle(directory)
        try:
            bundle.substitutions(environment)
        except ReleaseError as error:
            raise ReleaseCommandError(error.message, exit_codes.USAGE_ERROR) from None
        with _cloud(environment) as connection:
            plan = make_plan(connection, bundle, environment)
    except ReleaseError as error:
        raise _exit_on(ReleaseCommandError(error.message, exit_codes.FAILURE_FOUND)) from None
    except GenesysError as error:
        raise _exit_on(ReleaseCommandError(str(error), exit_codes.UNREACHABLE)) from None
    except (ReleaseCommandError, OSError) as error:
        raise _exit_on(error) from None
    if as_json:
        typer.echo(json.dumps(plan_json(plan), indent=2, sort_keys=True))
    else:
        for line in render_plan(plan):
            typer.echo(line)
    raise typer.Exit(plan_exit_code(plan.status))


# ---- release -------------------------------------------------------------------------------------

RELEASE_MACHINE_MARKER = "ReleaseWorkflow"
_RELEASE_SUCCESS_STATES = ("Released", "NothingToRelease")


def release_state_machine_arn(connection: CloudConnection) -> str:
    from flowops.cli.runs import flowops_state_machines

    machines = flowops_state_machines(connection.client("stepfunctions"), RELEASE_MACHINE_MARKER)
    if not machines:
        raise ReleaseCommandError(
            "the stack has no release state machine (deployed by an older flowops?)", exit_codes.USAGE_ERROR
        )
    return str(machines[0]["stateMachineArn"])


def upload_bundle(connection: CloudConnection, bundle: Any) -> str:
    """Store the bundle content-addressed (`releases/<org>/bundles/<sha256>.json`); its key."""
    from flowops.release.bundle import bundle_key
    from flowops.store import ArtifactStore

    key = bundle_key(connection.org, bundle.sha256)
    ArtifactStore(connection.artifacts_bucket, connection.client("s3")).put_immutable(
        key, bundle.canonical_bytes()
    )
    return key


def release_run_name(environment: str, bundle_sha: str) -> str:
    import time

    return f"release-{environment}-{bundle_sha[:10]}-{int(time.time() * 1000) % 10**10}"


def start_release(
    connection: CloudConnection,
    bundle: Any,
    environment: str,
    *,
    reason: str,
    promoted_from: str | None = None,
    timing: dict[str, Any] | None = None,
    name: str | None = None,
) -> tuple[str, str]:
    """Upload the bundle and start the release execution; (execution arn, release id)."""
    import os

    key = upload_bundle(connection, bundle)
    request: dict[str, Any] = {
        "bundle_key": key,
        "bundle_sha256": bundle.sha256,
        "environment": environment,
        "requester": os.environ.get("USER", "flowops-cli"),
        "reason": reason,
    }
    if promoted_from:
        request["promoted_from"] = promoted_from
    if timing:
        request["timing"] = timing
    run_name = name or release_run_name(environment, bundle.sha256)
    started = connection.client("stepfunctions").start_execution(
        stateMachineArn=release_state_machine_arn(connection), name=run_name, input=json.dumps(request)
    )
    return str(started["executionArn"]), run_name


def release_outcome(connection: CloudConnection, release_id: str) -> dict[str, Any]:
    """The release record (run item) as a dict, or an empty dict when there is none."""
    from flowops.store import RunStore

    record = RunStore(connection.state_table, connection.client("dynamodb")).get(release_id)
    return record.model_dump(mode="json") if record is not None and record.kind == "release" else {}


def render_release(summary: dict[str, Any], record: dict[str, Any]) -> list[str]:
    details = record.get("details", {})
    lines = [
        f"release {summary.get('name', record.get('run_id'))}: {summary['status']} "
        f"({record.get('status', 'no record')}) environment {details.get('environment')}, "
        f"source {details.get('source_revision', '?')}"
    ]
    if summary["status"] != "SUCCEEDED":
        lines.append(f"  {summary.get('error')}: {str(summary.get('cause'))[:2000]}")
    if summary.get("interruption"):
        lines += [f"  {line}" for line in summary["interruption"]["lines"]]
    restored = {row["key"]: row for row in details.get("restored", [])}
    for flow in sorted(details.get("flows", []), key=lambda f: (f.get("wave", -1), f["key"])):
        wave = f"wave {flow['wave'] + 1}" if flow.get("wave", -1) >= 0 else "skipped"
        versions = f"{flow.get('version_before') or '-'} → {flow.get('version_after') or '-'}"
        if flow["key"] in restored:
            row = restored[flow["key"]]
            state = "restored" if row.get("ok") else "NOT restored"
            versions += f" ({state}: {row.get('version_after') or 'deleted'})"
        lines.append(f"  {wave:<8} {flow['action']:<9} {flow['key']:<40} {versions}")
    return lines


class _WaitingForApproval(Exception):
    """The release entered WaitForApproval: stop following (it waits for `flowops approve`)."""


def follow_release(
    connection: CloudConnection, execution_arn: str, *, timeout: float, stop_at_approval: bool = False
) -> dict[str, Any]:
    """Follow the release on one live progress line (src/flowops/cli/progress.py): a long wave of
    publishes polled for an hour is one updating line, not a line per state entered. With
    `stop_at_approval`, a release waiting for approval ends the following (status
    WAITING_FOR_APPROVAL)."""
    from flowops.cli.progress import ProgressLine
    from flowops.cli.publish import follow_execution

    with ProgressLine(f"release {execution_arn.rsplit(':', 1)[-1]}") as line:

        def show(snapshot: Any) -> None:
            line.show(snapshot)
            if stop_at_approval and snapshot.state == "WaitForApproval":
                raise _WaitingForApproval

        try:
            return follow_execution(connection, execution_arn, on_progress=show, timeout=timeout)
        except _WaitingForApproval:
            return {"status": "WAITING_FOR_APPROVAL", "error": None, "cause": None, "states": []}


def release_exit_code(summary: dict[str, Any], record: dict[str, Any] | None = None) -> int:
    """The documented exit code (src/flowops/cli/exit_codes.py) of how a release ended."""
    if summary["status"] == "SUCCEEDED":
        return exit_codes.OK
    if summary.get("interruption"):
        return int(summary["interruption"]["exit_code"])
    error = summary.get("error") or ""
    if error == "Release.RollbackFailed":
        return exit_codes.ROLLBACK_FAILED
    if error == "Release.Invalid":
        codes = set((record or {}).get("details", {}).get("error_codes") or [])
        # Only someone else's lock or a run in progress stood in the way: nothing changed, retry.
        # The stack refused a promotion from the wrong environment: refused, like the CLI's check.
        refused = {"FLOW_LOCKED", "FLOW_PUBLISH_IN_PROGRESS", "PROMOTION_REFUSED"}
        return exit_codes.REFUSED if codes and codes <= refused else exit_codes.PROBLEMS_FOUND
    if error == "Release.NotApproved":
        return exit_codes.REFUSED
    return exit_codes.FAILED  # rolled back (or stopped before changing anything)


def release_command(
    directory: DirOption,
    environment: EnvOption,
    reason: Annotated[
        str, typer.Option(help="Why (release record, audit trail).")
    ] = "released with flowops CLI",
    as_json: JsonOption = False,
    timeout: Annotated[float, typer.Option(help="Seconds to follow the execution.")] = 7200.0,
) -> None:
    """Release DIR to ENV: validate all, publish wave by wave, roll everything back on a failure.

    Exit 0: released (or nothing to release) · 1: invalid · 5: refused (a flow locked, or in
    another run) · 6: failed and rolled back, or interrupted before changing anything · 7: rollback
    failed, or interrupted (timed out, stopped) when Genesys may have changed · 2: bad input ·
    3: unreachable."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        bundle = load_bundle(directory)
        try:
            bundle.substitutions(environment)
        except Exception as error:
            raise ReleaseCommandError(str(error), exit_codes.USAGE_ERROR) from None
        with _cloud(environment) as connection:
            execution_arn, release_id = start_release(connection, bundle, environment, reason=reason)
            typer.echo(f"release {release_id}: bundle {bundle.sha256[:12]} to {environment}", err=True)
            # An environment that needs approval (cdk.json) waits before its first wave: say so
            # and stop following, as `promote` does.
            summary = follow_release(connection, execution_arn, timeout=timeout, stop_at_approval=True)
            summary["name"] = release_id
            record = release_outcome(connection, release_id)
    except (ClientError, BotoCoreError) as error:
        raise _exit_on(ReleaseCommandError(f"AWS: {error}", exit_codes.UNREACHABLE)) from None
    except (ReleaseCommandError, OSError) as error:
        raise _exit_on(error) from None
    except Exception as error:  # PublishCommandError from follow_execution (timeout)
        raise _exit_on(error) from None
    if as_json:
        typer.echo(
            json.dumps({"execution": summary, "record": record}, indent=2, sort_keys=True, default=str)
        )
    elif summary["status"] == "WAITING_FOR_APPROVAL":
        typer.echo(f"release {release_id} to {environment} waits for approval: flowops approve {release_id}")
    else:
        for line in render_release(summary, record):
            typer.echo(line)
    waiting = summary["status"] == "WAITING_FOR_APPROVAL"
    raise typer.Exit(exit_codes.OK if waiting else release_exit_code(summary, record))


# ---- releases list | show ------------------------------------------------------------------------

releases_app = typer.Typer(help="Releases of this stack: records, flows, waves.", no_args_is_help=True)


EnvironmentOption = Annotated[
    str | None, typer.Option("--env", help="The environment's stack (default: the current cloud).")
]


def _connected(environment: str | None = None) -> CloudConnection:
    from flowops.cli.local_cloud import CloudUnavailableError, connect

    try:
        return connect_environment(environment) if environment else connect()
    except CloudUnavailableError as error:
        raise ReleaseCommandError(str(error), exit_codes.UNREACHABLE) from None


def list_releases(connection: CloudConnection, limit: int) -> list[dict[str, Any]]:
    sfn = connection.client("stepfunctions")
    executions = sfn.list_executions(
        stateMachineArn=release_state_machine_arn(connection), maxResults=min(limit, 1000)
    )
    rows = []
    for execution in executions["executions"]:
        record = release_outcome(connection, execution["name"])
        details = record.get("details", {})
        flows = details.get("flows", [])
        rows.append(
            {
                "release": execution["name"],
                "status": execution["status"],
                "record": record.get("status"),
                "outcome": details.get("outcome"),
                "environment": details.get("environment"),
                "source_revision": details.get("source_revision"),
                "bundle_sha256": details.get("bundle_sha256"),
                "requester": details.get("requester"),
                "reason": details.get("reason"),
                "promoted_from": details.get("promoted_from") or None,
                "changed": sum(1 for f in flows if f.get("action") != "unchanged"),
                "started_at": execution["startDate"].isoformat(),
            }
        )
    rows.sort(key=lambda row: row["started_at"], reverse=True)
    return rows[:limit]


@releases_app.command("list")
def releases_list(
    limit: Annotated[int, typer.Option(help="At most this many, newest first.", min=1)] = 20,
    environment: EnvironmentOption = None,
    as_json: JsonOption = False,
) -> None:
    """Releases of the stack: status, environment, source revision, how many flows changed."""
    try:
        rows = list_releases(_connected(environment), limit)
    except ReleaseCommandError as error:
        raise _exit_on(error) from None
    if as_json:
        typer.echo(json.dumps(rows, indent=2, sort_keys=True))
        raise typer.Exit(exit_codes.OK)
    for row in rows:
        typer.echo(
            f"{row['release']:<40} {row['status']:<10} {row['outcome'] or row['record']!s:<18} "
            f"{row['environment'] or '-':<6} {row['changed']:>3} flow(s)  {row['source_revision'] or '-'}"
        )
    if not rows:
        typer.echo("no releases yet")
    raise typer.Exit(exit_codes.OK)


@releases_app.command("show")
def releases_show(
    release: Annotated[str, typer.Argument(help="Release id (the execution name).")],
    environment: EnvironmentOption = None,
    as_json: JsonOption = False,
) -> None:
    """One release: its flows in waves, versions before → after, why each flow is in it."""
    try:
        connection = _connected(environment)
        record = release_outcome(connection, release)
        if not record:
            raise ReleaseCommandError(
                f"no release {release!r} (see `flowops releases list`)", exit_codes.USAGE_ERROR
            )
        arn = (
            release_state_machine_arn(connection).replace(":stateMachine:", ":execution:", 1) + f":{release}"
        )
        description = connection.client("stepfunctions").describe_execution(executionArn=arn)
    except ReleaseCommandError as error:
        raise _exit_on(error) from None
    from flowops.cli.interrupted import read_interruption, run_records

    interruption = read_interruption(
        run_records(connection), release, description["status"], is_run_workflow=True
    )
    summary = {
        "name": release,
        "status": description["status"],
        "error": description.get("error"),
        "cause": description.get("cause"),
        "interruption": interruption.document() if interruption is not None else None,
    }
    if as_json:
        typer.echo(
            json.dumps({"execution": summary, "record": record}, indent=2, sort_keys=True, default=str)
        )
    else:
        for line in render_release(summary, record):
            typer.echo(line)
        for flow in record.get("details", {}).get("flows", []):
            if flow.get("why"):
                typer.echo(f"    {flow['key']}: {flow['why']}")
    raise typer.Exit(exit_codes.OK)


# ---- promote / approve ---------------------------------------------------------------------------


def promotion_chain() -> Any:
    from flowops.local.packaged import cdk_context
    from flowops.release.promotion import chain_from_context

    try:
        context = cdk_context()
    except (OSError, ValueError) as error:
        raise ReleaseCommandError(f"cannot read cdk.json: {error}", exit_codes.USAGE_ERROR) from None
    return chain_from_context(context)


def environment_endpoints_file(environment: str) -> Path:
    from flowops.cli.local_cloud import endpoints_file

    return endpoints_file().with_name(f"endpoints-{environment}.json")


def connect_environment(environment: str) -> CloudConnection:
    """The stack of `environment`: its `flowops local up --envs` cloud, else (`--target aws`) the
    stack `Flowops-<environment>`, else the one cloud every command talks to."""
    from dataclasses import replace

    from flowops.cli.local_cloud import (
        STACK_NAME_PREFIX,
        Target,
        connect,
        deployed_stack_from_outputs,
        running_local_cloud,
        selected_target,
    )

    local = running_local_cloud(environment_endpoints_file(environment))
    if local is not None:
        return local
    selection = selected_target()
    if selection.target is Target.AWS:
        return deployed_stack_from_outputs(replace(selection, stack=f"{STACK_NAME_PREFIX}-{environment}"))
    return connect()


def _stores(connection: CloudConnection) -> tuple[Any, Any, Any]:
    from flowops.store import ArtifactStore, AuditLog, RunStore

    return (
        ArtifactStore(connection.artifacts_bucket, connection.client("s3")),
        RunStore(connection.state_table, connection.client("dynamodb")),
        AuditLog(connection.audit_table, connection.client("dynamodb")),
    )


def promote_release(
    release: str,
    to_environment: str,
    *,
    reason: str,
    timeout: float,
    on_state: Any = None,
    source: CloudConnection | None = None,
    target: CloudConnection | None = None,
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Check, copy the bundle, start the release in the next environment and follow it (until it
    ends or waits for approval). (execution summary, target record, release id)."""
    from flowops.release.bundle import parse_bundle
    from flowops.release.errors import ReleaseError
    from flowops.release.promotion import check_promotion

    chain = promotion_chain()
    try:
        previous = chain.previous(to_environment)
    except ReleaseError as error:
        raise ReleaseCommandError(error.message, exit_codes.USAGE_ERROR) from None
    if previous is None:
        raise ReleaseCommandError(
            f"{to_environment!r} is the first environment of the chain: use `flowops release`",
            exit_codes.USAGE_ERROR,
        )
    source = source or connect_environment(previous)
    record = release_outcome(source, release)
    try:
        check_promotion(release, record, to_environment, chain)
    except ReleaseError as error:
        raise ReleaseCommandError(f"promotion refused: {error.message}", exit_codes.REFUSED) from None
    artifacts, _, _ = _stores(source)
    details = record["details"]
    try:
        bundle = parse_bundle(
            artifacts.get_bytes(details["bundle_key"]), expected_sha256=details["bundle_sha256"]
        )
        bundle.substitutions(to_environment)
    except ReleaseError as error:
        raise ReleaseCommandError(f"promotion refused: {error.message}", exit_codes.USAGE_ERROR) from None
    target = target or connect_environment(to_environment)
    execution_arn, release_id = start_release(
        target, bundle, to_environment, reason=reason, promoted_from=f"{previous}:{release}"
    )
    summary = follow_until_approval(target, execution_arn, timeout=timeout, on_state=on_state)
    summary["name"] = release_id
    return summary, release_outcome(target, release_id), release_id


def follow_until_approval(
    connection: CloudConnection, execution_arn: str, *, timeout: float, on_state: Any = None
) -> dict[str, Any]:
    """Follow the execution to its end, or until it waits for `flowops approve` (status WAITING)."""
    import time

    sfn = connection.client("stepfunctions")
    deadline = time.monotonic() + timeout
    seen = 0
    while True:
        description = sfn.describe_execution(executionArn=execution_arn)
        events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
        entered = [e["stateEnteredEventDetails"]["name"] for e in events if e.get("stateEnteredEventDetails")]
        for state in entered[seen:]:
            if on_state is not None:
                on_state(state)
        seen = len(entered)
        if description["status"] != "RUNNING":
            return {
                "status": description["status"],
                "error": description.get("error"),
                "cause": description.get("cause"),
                "states": entered,
            }
        if "WaitForApproval" in entered and any(e["type"] == "TaskSubmitted" for e in events):
            return {"status": "WAITING_FOR_APPROVAL", "error": None, "cause": None, "states": entered}
        if time.monotonic() > deadline:
            raise ReleaseCommandError(f"execution still running after {timeout:.0f} s: {execution_arn}", 1)
        time.sleep(0.2)


def promote_command(
    release: Annotated[str, typer.Argument(help="Release id that succeeded in the previous environment.")],
    to_environment: Annotated[
        str, typer.Option("--to", help="The next environment of the chain (cdk.json).")
    ],
    reason: Annotated[
        str, typer.Option(help="Why (release record, audit trail).")
    ] = "promoted with flowops CLI",
    as_json: JsonOption = False,
    timeout: Annotated[float, typer.Option(help="Seconds to follow the execution.")] = 7200.0,
) -> None:
    """Release the SAME bundle to the next environment, with its substitutions.

    Refused (exit 1) unless the release succeeded in the environment before it in the chain.
    Exit 0: released, or waiting for `flowops approve` · 1: refused, invalid, rolled back."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        summary, record, release_id = promote_release(
            release,
            to_environment,
            reason=reason,
            timeout=timeout,
            on_state=lambda state: typer.echo(f"→ {state}", err=True),
        )
    except (ClientError, BotoCoreError) as error:
        raise _exit_on(ReleaseCommandError(f"AWS: {error}", exit_codes.UNREACHABLE)) from None
    except (ReleaseCommandError, OSError) as error:
        raise _exit_on(error) from None
    if as_json:
        typer.echo(
            json.dumps({"execution": summary, "record": record}, indent=2, sort_keys=True, default=str)
        )
    elif summary["status"] == "WAITING_FOR_APPROVAL":
        typer.echo(
            f"release {release_id} to {to_environment} waits for approval: flowops approve {release_id}"
        )
    else:
        for line in render_release(summary, record):
            typer.echo(line)
    waiting = summary["status"] == "WAITING_FOR_APPROVAL"
    raise typer.Exit(exit_codes.OK if waiting else release_exit_code(summary, record))


def approve_command(
    release: Annotated[str, typer.Argument(help="Release id waiting for approval.")],
    environment: Annotated[
        str | None, typer.Option("--env", help="Environment of the release (default: the current cloud).")
    ] = None,
    reject: Annotated[bool, typer.Option("--reject", help="Refuse it: nothing is deployed.")] = False,
    reason: Annotated[str, typer.Option(help="Why (audit trail).")] = "",
    follow: Annotated[bool, typer.Option(help="Follow the release after approving.")] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to follow the execution.")] = 7200.0,
) -> None:
    """Approve (or --reject) a release waiting before its first wave (Step Functions task token)."""
    import os

    from botocore.exceptions import BotoCoreError, ClientError

    from flowops.release.errors import ReleaseError
    from flowops.release.steps import approval_token, close_approval
    from flowops.store.errors import RunTransitionError

    who = os.environ.get("USER", "flowops-cli")
    try:
        connection = connect_environment(environment) if environment else _connected()
        _, runs, audit = _stores(connection)
        token = approval_token(runs, release)
        close_approval(runs, audit, connection.org, release, approved=not reject, by=who, reason=reason)
        sfn = connection.client("stepfunctions")
        if reject:
            sfn.send_task_failure(
                taskToken=token, error="Release.Rejected", cause=f"rejected by {who}: {reason}"[:256]
            )
        else:
            sfn.send_task_success(taskToken=token, output=json.dumps({"approved_by": who, "reason": reason}))
        typer.echo(f"release {release} {'rejected' if reject else 'approved'} by {who}", err=True)
        if not follow:
            raise typer.Exit(exit_codes.OK)
        arn = (
            release_state_machine_arn(connection).replace(":stateMachine:", ":execution:", 1) + f":{release}"
        )
        summary = follow_release(connection, arn, timeout=timeout)
        summary["name"] = release
        record = release_outcome(connection, release)
    except (ReleaseError, RunTransitionError) as error:
        message = getattr(error, "message", str(error))
        raise _exit_on(ReleaseCommandError(message, exit_codes.USAGE_ERROR)) from None
    except (ClientError, BotoCoreError) as error:
        raise _exit_on(ReleaseCommandError(f"AWS: {error}", exit_codes.UNREACHABLE)) from None
    except ReleaseCommandError as error:
        raise _exit_on(error) from None
    for line in render_release(summary, record):
        typer.echo(line)
    raise typer.Exit(exit_codes.OK if reject else release_exit_code(summary, record))


# ---- the demo ------------------------------------------------------------------------------------

DEMO_MODULE, DEMO_SALES, DEMO_SUPPORT = "Demo Menu", "Demo Sales Line", "Demo Support Line"


def _demo_queues(connection: CloudConnection) -> list[str]:
    lock = current_lock_or_none(connection)
    names = sorted(
        {o.name for o in (lock.objects if lock else []) if o.type == "QUEUE" and o.name and not o.deleted}
    )
    if len(names) < 2:
        raise ReleaseCommandError("the demo org has fewer than two queues", exit_codes.FAILURE_FOUND)
    return names[:2]


def write_demo_release(directory: Path, queues: list[str], *, version: str) -> Path:
    """A common module and two flows calling it; the module's queue differs per environment."""
    import shutil

    from flowops.flowyaml import FlowReference, ReferenceKind, render_minimal_flow_yaml

    def flow(flow_type: str, name: str, *refs: FlowReference) -> str:
        return render_minimal_flow_yaml(flow_type, name, refs, description=f"{name} ({version})")

    menu = FlowReference(kind=ReferenceKind.COMMONMODULE, name=DEMO_MODULE)
    files = {
        "flows/commonModule/demo-menu.yaml": flow(
            "COMMONMODULE", DEMO_MODULE, FlowReference(kind=ReferenceKind.QUEUE, name="{{menu_queue}}")
        ),
        "flows/inboundCall/demo-sales-line.yaml": flow("INBOUNDCALL", DEMO_SALES, menu),
        "flows/inboundCall/demo-support-line.yaml": flow("INBOUNDCALL", DEMO_SUPPORT, menu),
        "environments/test.yaml": f"# Archy options file\nsubstitutions:\n  menu_queue: {queues[0]}\n",
        "environments/prod.yaml": f"# Archy options file\nsubstitutions:\n  menu_queue: {queues[1]}\n",
    }
    shutil.rmtree(directory, ignore_errors=True)
    for relative, text in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return directory


def run_demo_releases(
    connection: CloudConnection,
    *,
    workdir: Path,
    set_faults: Any,
    prod: CloudConnection | None = None,
    echo: Any = print,
    timeout: float = 600.0,
) -> dict[str, Any]:
    """A three-flow release (module + two consumers), a release failing in wave 2 and rolled back
    whole (the plan of the first release shows no changes afterwards), and a promotion to prod."""
    environment = "test"
    queues = _demo_queues(connection)
    results: dict[str, Any] = {}

    def release(directory: Path, label: str) -> tuple[dict[str, Any], dict[str, Any], str]:
        bundle = load_bundle(directory)
        arn, release_id = start_release(connection, bundle, environment, reason=label)
        summary = follow_release_quietly(connection, arn, timeout=timeout)
        summary["name"] = release_id
        record = release_outcome(connection, release_id)
        for line in render_release(summary, record):
            echo(f"   {line}")
        return summary, record, release_id

    first = write_demo_release(workdir / "v1", queues, version="v1")
    plan = make_plan(connection, load_bundle(first), environment)
    echo(f"   plan: {render_plan(plan)[-1]}")
    summary, _, first_id = release(first, "demo: module + two consumers")
    results["first"] = {"status": summary["status"], "release": first_id}

    echo("")
    echo(f"   a second release changes all three; Architect refuses {DEMO_SUPPORT!r} in wave 2:")
    set_faults(f"publish-fail={DEMO_SUPPORT}")
    try:
        summary, record, failed_id = release(
            write_demo_release(workdir / "v2", queues, version="v2"), "demo: fails"
        )
    finally:
        set_faults("")
    results["failed"] = {"status": summary["status"], "error": summary.get("error"), "release": failed_id}
    after = make_plan(connection, load_bundle(first), environment)
    echo(f"   plan of the first release after the rollback: {after.status} (the org is back, by content)")
    results["after_rollback_plan"] = after.status

    if prod is not None:
        echo("")
        echo(f"   promote {first_id} to prod (its own org and stack; prod needs an approval):")
        summary, record, prod_id = promote_release(
            first_id, "prod", reason="demo promotion", timeout=timeout, source=connection, target=prod
        )
        echo(f"   {prod_id}: {summary['status']}")
        if summary["status"] == "WAITING_FOR_APPROVAL":
            approve_for_demo(prod, prod_id)
            echo("   approved by the demo (flowops approve)")
            arn = release_state_machine_arn(prod).replace(":stateMachine:", ":execution:", 1) + f":{prod_id}"
            summary = follow_release_quietly(prod, arn, timeout=timeout)
            summary["name"] = prod_id
            record = release_outcome(prod, prod_id)
        for line in render_release(summary, record):
            echo(f"   {line}")
        results["promoted"] = {"status": summary["status"], "release": prod_id}
    return results


def follow_release_quietly(
    connection: CloudConnection, execution_arn: str, *, timeout: float
) -> dict[str, Any]:
    from flowops.cli.publish import follow_execution

    return follow_execution(connection, execution_arn, timeout=timeout)


def approve_for_demo(connection: CloudConnection, release_id: str) -> None:
    from flowops.release.steps import approval_token, close_approval

    _, runs, audit = _stores(connection)
    token = approval_token(runs, release_id)
    close_approval(runs, audit, connection.org, release_id, approved=True, by="flowops demo", reason="demo")
    connection.client("stepfunctions").send_task_success(
        taskToken=token, output=json.dumps({"approved_by": "flowops demo"})
    )


@contextlib.contextmanager
def environment_cloud_process(environment: str, *, flows: int, seed: int, workdir: Path) -> Any:
    """A `flowops local up --env ENV` child process (one LocalCloud per process); its connection."""
    import os
    import subprocess
    import time

    from flowops.cli.local_cloud import ENDPOINTS_FILE_VARIABLE, local_up_command, running_local_cloud

    endpoints = workdir / f"endpoints-{environment}.json"
    endpoints.unlink(missing_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)
    command = local_up_command(environment, flows=flows, seed=seed)
    log = (workdir / f"{environment}-cloud.log").open("w", encoding="utf-8")
    process = subprocess.Popen(
        command, env={**os.environ, ENDPOINTS_FILE_VARIABLE: str(endpoints)}, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 300
        while (connection := running_local_cloud(endpoints)) is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise ReleaseCommandError(
                    f"the {environment} cloud did not start (see {workdir / f'{environment}-cloud.log'})",
                    exit_codes.UNREACHABLE,
                )
            time.sleep(0.3)
        yield connection
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


# ---- new flows through `flowops validate` / `flowops publish` ------------------------------------


def single_flow_bundle(yaml_text: str, environment: str, substitutions: dict[str, str]) -> Any:
    """A one-flow release of `yaml_text` whose environment file carries `substitutions`."""
    from flowops.release.bundle import bundle_from_files

    options = "substitutions:\n" + "".join(
        f"  {json.dumps(k)}: {json.dumps(v)}\n" for k, v in substitutions.items()
    )
    if not substitutions:
        options = "substitutions: {}\n"
    return bundle_from_files(
        {
            "flows/flow.yaml": yaml_text.encode("utf-8"),
            f"environments/{environment}.yaml": options.encode("utf-8"),
        }
    )


def validate_new_flow(
    connection: CloudConnection, yaml_text: str, environment: str, substitutions: dict[str, str]
) -> Any:
    """Validate a flow the org does not have yet, as the release does (a create): the report has
    the plan's findings and a NEW_FLOW warning saying that publishing creates it."""
    from flowops.publish.models import Finding, ValidationReport
    from flowops.release.errors import ReleaseError

    try:
        plan = make_plan(connection, single_flow_bundle(yaml_text, environment, substitutions), environment)
    except ReleaseError as error:
        raise ReleaseCommandError(error.message, exit_codes.USAGE_ERROR) from None
    (flow,) = plan.flows if len(plan.flows) == 1 else (None,)
    new = [
        Finding(
            code="NEW_FLOW",
            severity="warning",
            object=f"flow {flow.key if flow else 'in the YAML'}",
            message="the org has no such flow: publishing creates it through the Architect jobs API",
            hint="`flowops publish --yaml FILE` (or a release) creates it",
        )
    ]
    return ValidationReport(target=None, errors=plan.errors, warnings=[*new, *plan.warnings])


def publish_new_flow(
    connection: CloudConnection,
    yaml_text: str,
    environment: str,
    substitutions: dict[str, str],
    *,
    reason: str,
    timeout: float,
) -> dict[str, Any]:
    """Publish a flow the org does not have yet: a one-flow release (the Architect job creates it,
    the release state machine checks its health and deletes it again if anything fails)."""
    bundle = single_flow_bundle(yaml_text, environment, substitutions)
    arn, release_id = start_release(connection, bundle, environment, reason=reason)
    summary = follow_release_quietly(connection, arn, timeout=timeout)
    summary["name"] = release_id
    summary["record"] = release_outcome(connection, release_id)
    return summary


def register(app: typer.Typer) -> None:
    app.command("export")(export_command)
    app.command("plan")(plan_command)
    app.command("release")(release_command)
    app.add_typer(releases_app, name="releases")
    app.command("promote")(promote_command)
    app.command("approve")(approve_command)
