"""`flowops graph impact|cycles|waves|problems|export`: questions answered from a lock.

The lock is the org's current one (read through the same store code the functions use, from
a running `flowops local up` or a deployed stack), or a lock file given with `--lock-file`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from local.cli import exit_codes

graph_app = typer.Typer(
    help="Dependency-graph questions answered from the current lock.", no_args_is_help=True
)

LockFileOption = Annotated[
    Path | None, typer.Option("--lock-file", help="Read this lock file instead of the org's current lock.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def load_current_lock(lock_file: Path | None) -> Any:
    """The lock to answer from: `--lock-file`, else the connected cloud's current lock."""
    from flowops.bounded import LOCK_JSON_LIMITS, InputTooLargeError
    from flowops.lock import LockFormatError, parse_lock

    from local.cli._files import read_bounded_bytes

    if lock_file is not None:
        try:
            return parse_lock(read_bounded_bytes(lock_file, LOCK_JSON_LIMITS.max_bytes, "lock file"))
        except OSError as error:
            raise _fail(
                f"cannot read {lock_file}: {error.strerror or error}", exit_codes.USAGE_ERROR
            ) from None
        except (LockFormatError, InputTooLargeError) as error:
            raise _fail(f"{lock_file} is not a readable lock: {error}", exit_codes.USAGE_ERROR) from None

    from local.cli.local_cloud import CloudUnavailableError, NoLockError, connect, read_current_lock

    try:
        return read_current_lock(connect())
    except CloudUnavailableError as error:
        raise _fail(str(error), exit_codes.UNREACHABLE) from None
    except NoLockError as error:
        raise _fail(str(error), exit_codes.FAILURE_FOUND) from None


def _emit(document: Any, as_json: bool, lines: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps(document, indent=2, sort_keys=True))
    else:
        typer.echo("\n".join(lines))


@graph_app.command("impact")
def impact_command(
    object_id: Annotated[str, typer.Argument(help="Id of a flow, common module, data action, queue, ...")],
    as_json: JsonOption = False,
    lock_file: LockFileOption = None,
) -> None:
    """Flows that transitively consume OBJECT_ID: the flows to republish when it changes."""
    from flowops.graph import UnknownObjectError, build_graph, impact

    lock = load_current_lock(lock_file)
    graph = build_graph(lock)
    try:
        entries = impact(graph, object_id)
    except UnknownObjectError as error:
        raise _fail(str(error), exit_codes.USAGE_ERROR) from None
    document = {
        "object_id": object_id,
        "lock_sha256": _sha(lock),
        "flows": [entry.model_dump(mode="json") for entry in entries],
    }
    lines = [f"{len(entries)} flows consume {object_id} (directly or transitively):"]
    lines += [f"  {entry.flow_id}  {entry.name}  via {' -> '.join(entry.path)}" for entry in entries]
    _emit(document, as_json, lines)


@graph_app.command("cycles")
def cycles_command(as_json: JsonOption = False, lock_file: LockFileOption = None) -> None:
    """Cycles (strongly connected components and self-loops), each with one witness path."""
    from flowops.graph import analyze

    report = analyze(load_current_lock(lock_file))
    document = {
        "lock_sha256": report.lock_sha256,
        "cycles": [cycle.model_dump(mode="json") for cycle in report.cycles],
    }
    lines = [f"{len(report.cycles)} cycles:"]
    lines += [f"  {len(cycle.members)} members: {' -> '.join(cycle.witness)}" for cycle in report.cycles]
    _emit(document, as_json, lines)
    if report.cycles:
        raise typer.Exit(exit_codes.FAILURE_FOUND)


@graph_app.command("waves")
def waves_command(as_json: JsonOption = False, lock_file: LockFileOption = None) -> None:
    """Deployment waves over flows, dependencies first (members of a cycle share a wave)."""
    from flowops.graph import analyze

    report = analyze(load_current_lock(lock_file))
    document = {
        "lock_sha256": report.lock_sha256,
        "waves": report.waves,
        "flows_in_cycles": report.flows_in_cycles,
    }
    lines = [
        f"wave {number}: {len(wave)} flows: {', '.join(wave[:10])}{' ...' if len(wave) > 10 else ''}"
        for number, wave in enumerate(report.waves, start=1)
    ]
    _emit(document, as_json, lines)


@graph_app.command("problems")
def problems_command(as_json: JsonOption = False, lock_file: LockFileOption = None) -> None:
    """Missing or deleted references, unpublished consumed flows, stale snapshots, orphans."""
    from flowops.graph import analyze

    report = analyze(load_current_lock(lock_file))
    document = {
        "lock_sha256": report.lock_sha256,
        "missing": report.missing,
        "problems": [problem.model_dump(mode="json") for problem in report.problems],
    }
    lines = [f"{len(report.problems)} problems:"]
    lines += [f"  [{problem.code}] {problem.message} — {problem.hint}" for problem in report.problems]
    _emit(document, as_json, lines)
    if report.problems:
        raise typer.Exit(exit_codes.FAILURE_FOUND)


@graph_app.command("export")
def export_command(
    export_format: Annotated[
        str, typer.Option("--format", help="json (node-link), dot or mermaid.")
    ] = "json",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    lock_file: LockFileOption = None,
) -> None:
    """Export the graph as node-link JSON, Graphviz DOT or Mermaid."""
    from flowops.graph import build_graph, to_dot, to_mermaid, to_node_link_json

    renderers = {"json": to_node_link_json, "dot": to_dot, "mermaid": to_mermaid}
    if export_format not in renderers:
        raise _fail(
            f"--format must be one of {sorted(renderers)}, got {export_format!r}", exit_codes.USAGE_ERROR
        )
    text = renderers[export_format](build_graph(load_current_lock(lock_file)))
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)


def _sha(lock: Any) -> str:
    from flowops.lock import lock_sha256

    return str(lock_sha256(lock))


def register(app: typer.Typer) -> None:
    app.add_typer(graph_app, name="graph")
