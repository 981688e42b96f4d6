"""The `flowops` command line.

One Typer app; each concern registers its commands from its own module so that the command
tree grows without one giant file. Exit codes: 0 ok, 1 a failure was found, 2 usage or
configuration error, 3 something could not be reached.
"""

from __future__ import annotations

import typer

from local.cli import _registry

app = typer.Typer(
    name="flowops",
    help="Release pipeline for Genesys Cloud Architect flows (scan, validate, publish, trace).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_registry.register_all(app)


def main() -> None:
    app()
