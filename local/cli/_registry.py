"""The command tree of the CLI as a static table: each top-level command's name, the module that
registers it (`register(app)`), and its one-line help.

The root group (local/cli/__init__.py) lists commands from this table and imports a command's
module only when that command runs or shows its own help, so `flowops --help` imports none of
them (docs/decisions.md "A lazy command tree"). tests/cli/test_cli_lazy.py keeps the table equal
to what the modules register."""

from __future__ import annotations

from typing import NamedTuple


class CommandEntry(NamedTuple):
    name: str
    module: str
    help: str


# In `flowops --help` order (typer's: commands first, then groups).
COMMANDS: tuple[CommandEntry, ...] = (
    CommandEntry("scan", "local.cli.scan", "Start a scan execution, wait for it, print the result."),
    CommandEntry(
        "publish",
        "local.cli.publish",
        "Send a signed publish webhook and follow the run on one live progress line.",
    ),
    CommandEntry(
        "rollback",
        "local.cli.publish",
        "Put the flow's last known-good release live again (or --to-version V) through the pipeline.",
    ),
    CommandEntry(
        "validate",
        "local.cli.publish",
        "Validate flow YAML against the lock and the live org, as the pipeline would.",
    ),
    CommandEntry(
        "export",
        "local.cli.release",
        "Export flows' published YAML into a release directory (one file per flow).",
    ),
    CommandEntry(
        "plan",
        "local.cli.release",
        "What a release of DIR would do to ENV: per flow create/update/unchanged, waves, problems.",
    ),
    CommandEntry(
        "release",
        "local.cli.release",
        "Release DIR to ENV: validate all, publish wave by wave, roll everything back on a failure.",
    ),
    CommandEntry(
        "promote",
        "local.cli.release",
        "Release the SAME bundle to the next environment, with its substitutions.",
    ),
    CommandEntry(
        "approve",
        "local.cli.release",
        "Approve (or --reject) a release waiting before its first wave (Step Functions task token).",
    ),
    CommandEntry(
        "refs", "local.cli.refs", "The objects a flow YAML refers to (offline: nothing is looked up)."
    ),
    CommandEntry(
        "doctor",
        "local.cli.doctor",
        "Check the configuration end to end, one row per check with a fix hint.",
    ),
    CommandEntry(
        "demo",
        "local.cli.demo",
        "Run the whole pipeline on a generated org: simulator + moto, no AWS account needed.",
    ),
    CommandEntry("sim", "local.cli.sim", "The local Genesys Cloud simulator."),
    CommandEntry("local", "local.cli.local_cloud", "The local cloud: Genesys simulator + AWS emulation."),
    CommandEntry("graph", "local.cli.graph", "Dependency-graph questions answered from the current lock."),
    CommandEntry("releases", "local.cli.release", "Releases of this stack: records, flows, waves."),
    CommandEntry(
        "trace", "local.cli.trace", "Trace flow executions: bottlenecks, critical paths, failing paths."
    ),
    CommandEntry("lock", "local.cli.lock", "Lockfiles: show the current one, diff two."),
    CommandEntry(
        "runs", "local.cli.runs", "Executions of the flowops state machines (scan, publish, trace)."
    ),
)

BY_NAME: dict[str, CommandEntry] = {entry.name: entry for entry in COMMANDS}
