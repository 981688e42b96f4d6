"""Collects the command modules of the CLI. Each module exposes `register(app)`."""

from __future__ import annotations

import importlib

import typer

# Modules are listed here, not discovered, so that the command tree is explicit.
COMMAND_MODULES: tuple[str, ...] = (
    "flowops.cli.sim",
    "flowops.cli.local_cloud",
    "flowops.cli.scan",
    "flowops.cli.graph",
    "flowops.cli.publish",
    "flowops.cli.release",
    "flowops.cli.refs",
    "flowops.cli.trace",
    "flowops.cli.lock",
    "flowops.cli.runs",
    "flowops.cli.doctor",
    "flowops.cli.demo",
)


def register_all(app: typer.Typer) -> None:
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(app)
