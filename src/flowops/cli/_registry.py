"""The command tree of the CLI as a static table: each top-level command's name, the module that
registers it (`register(app)`), and its one-line help.

The root group (src/flowops/cli/__init__.py) lists commands from this table and imports a command's
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
    CommandEntry("scan", "flowops.cli.scan", "Start a scan execution, wait for it, print the result."),
    CommandEntry(
        "publish",
        "flowops.cli.publish",
        "Send a signed publish webhook and follow the run on one live progress line.",
    ),
    CommandEntry(
        "rollback",
        "flowops.cli.publish",
        "Put the flow's last known-good release live again (or --to-version V) through the pipeline.",
    ),
    CommandEntry(
        "validate",
        "flowops.cli.publish",
        "Validate flow YAML against the lock and the live org, as the pipeline would.",
    ),
    CommandEntry(
        "export",
        "flowops.cli.release",
        "Export flows' published YAML into a release directory (one file per flow).",
    ),
    CommandEntry(
        "plan",
        "flowops.cli.release",
        "What a release of DIR would do to ENV: per flow create/update/unchanged, waves, problems.",
    ),
    CommandEntry(
        "release",
        "flowops.cli.release",
        "Release DIR to ENV: validate all, publish wave by wave, roll everything back on a failure.",
    ),
    CommandEntry(
        "promote",
        "flowops.cli.release",
        "Release the SAME bundle to the next environment, with its substitutions.",
    ),
    CommandEntry(
        "approve",
        "flowops.cli.release",
        "Approve (or --reject) a release waiting before its first wave (Step Functions task token).",
    ),
    CommandEntry(
        "refs", "flowops.cli.refs", "The objects a flow YAML refers to (offline: nothing is looked up)."
    ),
    CommandEntry(
        "doctor",
        "flowops.cli.doctor",
        "Check the configuration end to end, one row per check with a fix hint.",
    ),
    CommandEntry(
        "demo",
        "flowops.cli.demo",
        "Run the whole pipeline on a generated org: simulator + moto, no AWS account needed.",
    ),
    CommandEntry("sim", "flowops.cli.sim", "The local Genesys Cloud simulator."),
    CommandEntry("local", "flowops.cli.local_cloud", "The local cloud: Genesys simulator + AWS emulation."),
    CommandEntry("graph", "flowops.cli.graph", "Dependency-graph questions answered from the current lock."),
    CommandEntry("releases", "flowops.cli.release", "Releases of this stack: records, flows, waves."),
    CommandEntry(
        "trace", "flowops.cli.trace", "Trace flow executions: bottlenecks, critical paths, failing paths."
    ),
    CommandEntry("lock", "flowops.cli.lock", "Lockfiles: show the current one, diff two."),
    CommandEntry(
        "runs", "flowops.cli.runs", "Executions of the flowops state machines (scan, publish, trace)."
    ),
)

BY_NAME: dict[str, CommandEntry] = {entry.name: entry for entry in COMMANDS}
