"""`flowops refs FILE`: what a flow YAML file depends on, read offline (no cloud, no Genesys).

The same extraction `flowops validate` and the publish pipeline use, so what this prints is
exactly what they will look up in the org. With `--substitutions` (an Archy options file, a plain
`key: value` file, or a per-environment file) and `--env`, placeholders are filled first, as the
pipeline does before it reads anything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from flowops.cli import exit_codes
from flowops.cli.terminal import fail


def _fail(message: str) -> typer.Exit:
    """Every refs error is bad input (exit 2)."""
    return fail(message, exit_codes.USAGE_ERROR)


def _read(path: Path, what: str) -> str:
    from flowops.bounded import FLOW_YAML_LIMITS, InputTooLargeError
    from flowops.cli._files import read_bounded_bytes

    try:
        return read_bounded_bytes(path, FLOW_YAML_LIMITS.max_bytes, what).decode("utf-8")
    except InputTooLargeError as error:
        raise _fail(error.problem) from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise _fail(f"cannot read {what} {path}: {reason}") from None


def refs_document(document: Any) -> dict[str, Any]:
    """The JSON shape of `flowops refs --json` (stable: CI reads it)."""
    return {
        "flow": {"name": document.name, "type": document.flow_type, "yaml_key": document.yaml_key},
        "references": [
            {
                "kind": ref.kind.value,
                "name": ref.name,
                "integration": ref.category,
                "object_type": ref.object_type,
                "soft": ref.soft,
                "locations": list(ref.locations),
            }
            for ref in document.references
        ],
        "dynamic": [
            {"kind": ref.kind.value, "expression": ref.expression, "location": ref.location}
            for ref in document.dynamic_references
        ],
        "unresolved_placeholders": list(document.unresolved_placeholders),
    }


def _lines(document: Any) -> list[str]:
    lines = [
        f"{document.flow_type} {document.name!r}: {len(document.references)} reference(s), "
        f"{len(document.dynamic_references)} picked at run time"
    ]
    for ref in document.references:
        integration = f" (integration {ref.category!r})" if ref.category is not None else ""
        soft = " [soft: Find action, notFound path]" if ref.soft else ""
        lines.append(f"  {ref.object_type:<24} {ref.name!r}{integration}{soft}")
        lines.extend(f"      at {location}" for location in ref.locations)
    for dynamic in document.dynamic_references:
        lines.append(f"  {dynamic.kind.value:<24} run time: {dynamic.expression}")
        lines.append(f"      at {dynamic.location}")
    if document.unresolved_placeholders:
        lines.append(
            "  placeholders without a value (names shown as written): "
            + ", ".join(document.unresolved_placeholders)
        )
    return lines


def refs_command(
    yaml_file: Annotated[Path, typer.Argument(help="Architect flow YAML file.", show_default=False)],
    environment: Annotated[
        str | None,
        typer.Option("--env", help="Environment of the --substitutions file whose values apply."),
    ] = None,
    substitutions_file: Annotated[
        Path | None,
        typer.Option(
            "--substitutions",
            help="Archy options file (substitutions:), key: value file, or per-environment file "
            "(environments: {dev: {...}}). With it, every placeholder must have a value.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """The objects a flow YAML refers to (offline: nothing is looked up)."""
    from flowops.flowyaml import FlowYamlError, SubstitutionSet, parse_flow_yaml

    if environment is not None and substitutions_file is None:
        raise _fail("--env needs --substitutions FILE (refs reads no cloud, so values come from a file)")
    text = _read(yaml_file, "flow YAML")
    values: SubstitutionSet | None = None
    if substitutions_file is not None:
        try:
            values = SubstitutionSet.from_text(_read(substitutions_file, "substitutions file"), environment)
        except FlowYamlError as error:
            raise _fail(f"{substitutions_file}: {error}") from None
    try:
        document = parse_flow_yaml(text, values, strict_placeholders=values is not None)
    except FlowYamlError as error:
        raise _fail(f"{yaml_file}: {error}") from None
    if as_json:
        typer.echo(json.dumps(refs_document(document), indent=2, sort_keys=True))
    else:
        typer.echo("\n".join(_lines(document)))
    raise typer.Exit(exit_codes.OK)


def register(app: typer.Typer) -> None:
    app.command("refs")(refs_command)
