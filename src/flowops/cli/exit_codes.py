"""The documented exit codes of the `flowops` CLI: one table, used by every command.

Scripts branch on these, so each code answers one question a script must tell apart:
did it work (0), is there something to fix in the org (1), is the command line wrong (2),
could we not reach the cloud (3), would a release change the org (4, `plan` only), should we
simply retry later because nothing changed (5), did a run fail — and was what it changed
undone (6) or may the org now run what the records do not say (7)?

The table below is the single source: docs/cli.md and the README carry a copy that
tests/cli/test_cli_contract.py keeps in sync, and the bad-input sweep
(tests/cli/test_cli_sweep.py) asserts every command exits with one of these codes.
"""

from __future__ import annotations

from typing import NamedTuple

OK = 0
PROBLEMS_FOUND = 1
USAGE_ERROR = 2
UNREACHABLE = 3
CHANGES_PLANNED = 4
"""`flowops plan`: the release would change the org (0 there means "no changes")."""
REFUSED = 5
FAILED = 6
ROLLBACK_FAILED = 7

# The name older commands and tests use for "problems found"; same code.
FAILURE_FOUND = PROBLEMS_FOUND


class ExitCode(NamedTuple):
    code: int
    name: str
    meaning: str


TABLE: tuple[ExitCode, ...] = (
    ExitCode(OK, "ok", "the command did what was asked; nothing to report"),
    ExitCode(
        PROBLEMS_FOUND,
        "problems found",
        "the command worked and found something to fix: graph problems, validation findings, "
        "locks that differ, a failed doctor check",
    ),
    ExitCode(
        USAGE_ERROR,
        "usage error",
        "bad option, argument or input file; unknown or ambiguous flow; missing stack, output "
        "or credentials — fix the command line or the configuration",
    ),
    ExitCode(
        UNREACHABLE,
        "unreachable",
        "no cloud to talk to: no local cloud running, AWS or Genesys did not answer, or the "
        "cloud went away mid-run",
    ),
    ExitCode(
        CHANGES_PLANNED,
        "changes planned",
        "`flowops plan` only: the release would change the org (and is valid); 0 then means "
        "no changes, 1 invalid",
    ),
    ExitCode(
        REFUSED,
        "refused (retry later)",
        "nothing changed: the flow is locked by someone, another publish of it is in progress, "
        "or the org drifted from the lock — retry later or with --force-unlock / --allow-drift",
    ),
    ExitCode(
        FAILED,
        "failed (rolled back)",
        "a run failed: a scan or trace did not finish, a publish or release failed and what it "
        "changed was rolled back, or it was interrupted (timed out, stopped) before changing Genesys",
    ),
    ExitCode(
        ROLLBACK_FAILED,
        "failed (NOT rolled back)",
        "the org may not run what the records say: a publish or release failed and restoring the "
        "previous versions failed too, or it was interrupted (timed out, stopped) after it may have "
        "changed Genesys, or that is not recorded yet — check by hand (the run's manual check, "
        "`flowops scan`)",
    ),
)

DOCUMENTED: frozenset[int] = frozenset(entry.code for entry in TABLE)


def markdown_table() -> str:
    """The table as docs/cli.md and the README show it."""
    rows = ["| code | meaning | when |", "| --- | --- | --- |"]
    rows += [f"| {entry.code} | {entry.name} | {entry.meaning} |" for entry in TABLE]
    return "\n".join(rows)


def help_text() -> str:
    """One line for `flowops --help`."""
    return ", ".join(f"{entry.code} {entry.name}" for entry in TABLE)
