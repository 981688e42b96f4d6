"""`flowops graph impact|cycles|waves|problems|export`: questions answered from a lock.

The lock is the org's current one (read through the same store code the functions use, from
a running `flowops local up` or a deployed stack), or a lock file given with `--lock-file`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from flowops.cli import exit_codes
from flowops.cli.files import write_atomically
from flowops.cli.names import (
    NameResolutionError,
    label_of,
    lock_entries,
    names_by_id,
    normalise_flow_type,
    resolve,
)
from flowops.cli.terminal import echo, fail, labelled, table

graph_app = typer.Typer(
    help="Dependency-graph questions answered from the current lock.", no_args_is_help=True
)

LockFileOption = Annotated[
    Path | None, typer.Option("--lock-file", help="Read this lock file instead of the org's current lock.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def load_current_lock(lock_file: Path | None) -> Any:
    """The lock to answer from: `--lock-file`, else the connected cloud's current lock."""
    from flowops.bounded import LOCK_JSON_LIMITS, InputTooLargeError
    from flowops.cli._files import read_bounded_bytes
    from flowops.lock import LockFormatError, parse_lock

    if lock_file is not None:
        try:
            return parse_lock(read_bounded_bytes(lock_file, LOCK_JSON_LIMITS.max_bytes, "lock file"))
        except OSError as error:
            raise fail(
                f"cannot read {lock_file}: {error.strerror or error}", exit_codes.USAGE_ERROR
            ) from None
        except (LockFormatError, InputTooLargeError) as error:
            raise fail(f"{lock_file} is not a readable lock: {error}", exit_codes.USAGE_ERROR) from None

    from flowops.cli.local_cloud import CloudUnavailableError, NoLockError, connect, read_current_lock

    try:
        return read_current_lock(connect())
    except CloudUnavailableError as error:
        kept = kept_embedded_lock()
        if kept is None:
            raise fail(str(error), exit_codes.UNREACHABLE) from None
        return kept
    except NoLockError as error:
        # Not a problem in the org: there is nothing to answer from until a scan has run.
        raise fail(str(error), exit_codes.USAGE_ERROR) from None


def kept_embedded_lock() -> Any:
    """No cloud runs: the current lock the last embedded cloud kept (src/flowops/cli/embedded_state.py),
    announced on stderr; None when there is none."""
    from flowops.cli.embedded_state import current_lock_bytes
    from flowops.lock import parse_lock

    kept = current_lock_bytes()
    if kept is None:
        return None
    body, sha, state = kept
    echo(
        f"no cloud running: answering from the lock the last embedded scan kept "
        f"({sha[:12]}, {state.saved_at})",
        err=True,
    )
    return parse_lock(body, expected_sha256=sha)


def _emit_json(document: Any) -> None:
    typer.echo(json.dumps(document, indent=2, sort_keys=True))


TypeFilterOption = Annotated[
    str | None,
    typer.Option(
        "--type",
        help="Narrow a name to one type: a flow type (INBOUNDCALL) or an object type (QUEUE, DATAACTION).",
    ),
]


def _object_types(lock: Any) -> set[str]:
    return {flow.type for flow in lock.flows} | {obj.type for obj in lock.objects}


def _type_filter(value: str | None, lock: Any) -> str | None:
    """`--type` of `graph impact`: a flow type, or an object type the lock has."""
    if value is None:
        return None
    wanted = value.strip().upper()
    if wanted in _object_types(lock):
        return wanted
    try:
        return normalise_flow_type(value)
    except NameResolutionError:
        known = sorted(_object_types(lock))
        raise fail(
            f"--type {value!r} is neither a flow type nor a type in this lock ({', '.join(known)})",
            exit_codes.USAGE_ERROR,
        ) from None


@graph_app.command("impact")
def impact_command(
    reference: Annotated[
        str,
        typer.Argument(
            metavar="OBJECT",
            help="A flow, common module, data action, queue, ...: its id, or its name (--type to narrow).",
        ),
    ],
    object_type: TypeFilterOption = None,
    as_json: JsonOption = False,
    lock_file: LockFileOption = None,
) -> None:
    """Flows that transitively consume OBJECT: the flows to republish when it changes."""
    from flowops.graph import UnknownObjectError, build_graph, impact

    lock = load_current_lock(lock_file)
    try:
        type_filter = _type_filter(object_type, lock)
        target = resolve(reference, lock_entries(lock), type_filter=type_filter, what="object")
    except NameResolutionError as error:
        raise fail(error, error.exit_code) from None
    graph = build_graph(lock)
    try:
        entries = impact(graph, target.id)
    except UnknownObjectError as error:
        raise fail(str(error), exit_codes.USAGE_ERROR) from None
    names = names_by_id(lock)
    if as_json:
        _emit_json(
            {
                "object_id": target.id,
                "object_name": target.name,
                "object_type": target.type,
                "lock_sha256": _sha(lock),
                "flows": [
                    {**entry.model_dump(mode="json"), "path_names": [names.get(n, "") for n in entry.path]}
                    for entry in entries
                ],
            }
        )
        return
    echo(f"{len(entries)} flows consume {target.type} {target.label} (directly or transitively):")
    if entries:
        table(
            ["flow", "steps", "via"],
            (
                [
                    labelled(entry.flow_id, entry.name),
                    entry.distance,
                    " -> ".join(names.get(node) or node for node in entry.path),
                ]
                for entry in entries
            ),
        )


@graph_app.command("cycles")
def cycles_command(as_json: JsonOption = False, lock_file: LockFileOption = None) -> None:
    """Cycles (strongly connected components and self-loops), each with one witness path.

    Flows that transfer to each other are normal in Genesys, so cycles are reported, not
    failed on: the exit code is 0 either way (publish waves keep a cycle's members together)."""
    from flowops.graph import analyze

    lock = load_current_lock(lock_file)
    report = analyze(lock)
    names = names_by_id(lock)
    if as_json:
        _emit_json(
            {
                "lock_sha256": report.lock_sha256,
                "cycles": [
                    {**cycle.model_dump(mode="json"), "names": [names.get(m, "") for m in cycle.members]}
                    for cycle in report.cycles
                ],
            }
        )
        return
    echo(f"{len(report.cycles)} cycles (flows that reach each other; normal for transfers):")
    if report.cycles:
        table(
            ["members", "witness path"],
            (
                [len(cycle.members), " -> ".join(label_of(node, names) for node in cycle.witness)]
                for cycle in report.cycles
            ),
        )


WAVE_NAMES_SHOWN = 10


@graph_app.command("waves")
def waves_command(as_json: JsonOption = False, lock_file: LockFileOption = None) -> None:
    """Deployment waves over flows, dependencies first (members of a cycle share a wave)."""
    from flowops.graph import analyze

    lock = load_current_lock(lock_file)
    report = analyze(lock)
    names = names_by_id(lock)
    if as_json:
        _emit_json(
            {
                "lock_sha256": report.lock_sha256,
                "waves": report.waves,
                "wave_names": [[names.get(flow_id, "") for flow_id in wave] for wave in report.waves],
                "flows_in_cycles": report.flows_in_cycles,
            }
        )
        return
    table(
        ["wave", "flows", "members"],
        (
            [
                number,
                len(wave),
                ", ".join(label_of(flow_id, names) for flow_id in wave[:WAVE_NAMES_SHOWN])
                + (f" (+{len(wave) - WAVE_NAMES_SHOWN} more)" if len(wave) > WAVE_NAMES_SHOWN else ""),
            ]
            for number, wave in enumerate(report.waves, start=1)
        ),
    )


@graph_app.command("problems")
def problems_command(as_json: JsonOption = False, lock_file: LockFileOption = None) -> None:
    """Missing or deleted references, unpublished consumed flows, stale snapshots, orphans.

    Exit code 1 when a problem of severity `error` is found; warnings and notes alone exit 0."""
    from flowops.graph import analyze

    report = analyze(load_current_lock(lock_file))
    errors = [problem for problem in report.problems if problem.severity == "error"]
    if as_json:
        _emit_json(
            {
                "lock_sha256": report.lock_sha256,
                "missing": report.missing,
                "problems": [problem.model_dump(mode="json") for problem in report.problems],
            }
        )
    else:
        echo(f"{len(report.problems)} problems ({len(errors)} errors):")
        if report.problems:
            table(
                ["severity", "code", "problem", "fix"],
                ([p.severity, p.code, p.message, p.hint] for p in report.problems),
            )
    if errors:
        raise typer.Exit(exit_codes.PROBLEMS_FOUND)


@graph_app.command("export")
def export_command(
    export_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="json (node-link), dot, mermaid (Markdown with one diagram per part when the graph "
            "exceeds Mermaid's 500 edges / 50,000 characters) or html (the report page).",
        ),
    ] = "json",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    lock_file: LockFileOption = None,
) -> None:
    """Export the graph as node-link JSON, Graphviz DOT, Mermaid or the HTML report page."""
    from flowops.graph import build_graph, to_dot, to_node_link_json

    renderers = {"json": to_node_link_json, "dot": to_dot, "mermaid": _mermaid, "html": None}
    if export_format not in renderers:
        raise fail(
            f"--format must be one of {sorted(renderers)}, got {export_format!r}", exit_codes.USAGE_ERROR
        )
    if output is not None and not output.parent.is_dir():
        # Checked before the (possibly remote) lock is read: nothing to do if it cannot be written.
        raise fail(
            f"cannot write {output}: directory {output.parent} does not exist (create it or change -o)",
            exit_codes.USAGE_ERROR,
        )
    lock = load_current_lock(lock_file)
    graph = build_graph(lock)
    renderer = renderers[export_format]
    text = _html(lock, graph) if renderer is None else renderer(graph)
    if output is None:
        typer.echo(text)
        return
    try:
        write_atomically(output, text)
    except OSError as error:
        raise fail(f"cannot write {output}: {error.strerror or error}", exit_codes.USAGE_ERROR) from None
    typer.echo(f"wrote {output}", err=True)


def _mermaid(graph: Any) -> str:
    """One Mermaid diagram when the graph fits Mermaid's limits; else Markdown with one fenced
    diagram per part (GitHub renders each), and a note on stderr."""
    from flowops.graph import mermaid_parts
    from flowops.graph.export import MERMAID_MAX_EDGES, MERMAID_MAX_TEXT

    parts = mermaid_parts(graph)
    if len(parts) == 1:
        return parts[0]
    echo(
        f"the graph exceeds Mermaid's limits ({MERMAID_MAX_EDGES} edges, {MERMAID_MAX_TEXT:,} characters): "
        f"{len(parts)} diagrams as Markdown, each within them",
        err=True,
    )
    sections = [
        f"## Part {number} of {len(parts)}\n\n```mermaid\n{part.rstrip()}\n```\n"
        for number, part in enumerate(parts, start=1)
    ]
    return "# flowops dependency graph\n\n" + "\n".join(sections)


def _html(lock: Any, graph: Any) -> str:
    from datetime import UTC, datetime

    from flowops.graph import analyze
    from flowops.report.html import render_scan_report

    return render_scan_report(
        lock,
        analyze(lock, graph),
        None,
        title=f"flowops graph — org {lock.org}",
        generated_at=datetime.now(UTC),
        graph=graph,
    )


def _sha(lock: Any) -> str:
    from flowops.lock import lock_sha256

    return str(lock_sha256(lock))


def register(app: typer.Typer) -> None:
    app.add_typer(graph_app, name="graph")
