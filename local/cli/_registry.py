"""Collects the command modules of the CLI. Each module exposes `register(app)`."""

from __future__ import annotations

import importlib

import typer

# Modules are listed here, not discovered, so that the command tree is explicit.
COMMAND_MODULES: tuple[str, ...] = (
    "local.cli.sim",
    "local.cli.local_cloud",
    "local.cli.scan",
    "local.cli.graph",
    "local.cli.publish",
    "local.cli.release",
    "local.cli.refs",
    "local.cli.trace",
    "local.cli.lock",
    "local.cli.runs",
    "local.cli.doctor",
    "local.cli.demo",
)


def register_all(app: typer.Typer) -> None:
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(app)
