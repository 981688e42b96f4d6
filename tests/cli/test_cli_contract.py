"""The shared machinery of the CLI contract: exit-code table, names, sanitising, progress.

Everything here runs in-process on lock files and fakes (no cloud), so it stays fast; the
sweep over every command is tests/cli/test_cli_sweep.py.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flowops.cli import app, exit_codes
from flowops.cli.names import Named, NameResolutionError, resolve
from flowops.cli.progress import PUBLISH_PHASES, ProgressLine, ProgressSnapshot, follow_execution, plain_words
from flowops.cli.publish import cli_vocabulary, outcome_exit_code
from flowops.cli.terminal import safe
from flowops.lock import LockedDependency, LockedFlow, LockedObject, Lockfile, lock_document_bytes

ROOT = Path(__file__).resolve().parents[2]


# ---- the exit-code table ------------------------------------------------------------------------


@pytest.mark.parametrize("document", ["docs/cli.md", "README.md"])
def test_the_documented_exit_code_table_is_the_one_the_cli_uses(document: str) -> None:
    # Given the table in src/flowops/cli/exit_codes.py
    text = (ROOT / document).read_text(encoding="utf-8")
    # Then the document carries exactly that table between its markers
    block = re.search(r"<!-- exit-codes:start[^>]*-->\n(.*?)\n<!-- exit-codes:end -->", text, re.S)
    assert block is not None, f"{document} has no exit-code table"
    assert block.group(1) == exit_codes.markdown_table()


def test_the_codes_scripts_must_tell_apart_are_distinct() -> None:
    codes = [
        exit_codes.OK,
        exit_codes.PROBLEMS_FOUND,
        exit_codes.USAGE_ERROR,
        exit_codes.UNREACHABLE,
        exit_codes.CHANGES_PLANNED,
        exit_codes.REFUSED,
        exit_codes.FAILED,
        exit_codes.ROLLBACK_FAILED,
    ]
    assert len(set(codes)) == len(codes) == len(exit_codes.TABLE)
    assert set(codes) == exit_codes.DOCUMENTED


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ({"status": "SUCCEEDED"}, exit_codes.OK),
        (
            {
                "status": "FAILED",
                "error": "Publish.ValidationFailed",
                "cause": "validation failed with 1 error(s): [FLOW_LOCKED] flow 'Main': locked by Ann",
            },
            exit_codes.REFUSED,
        ),
        (
            {
                "status": "FAILED",
                "error": "Publish.ValidationFailed",
                "cause": "validation failed with 2 error(s): [DRIFT_FROM_LOCK] x; [FLOW_LOCKED] y",
            },
            exit_codes.REFUSED,
        ),
        (
            {
                "status": "FAILED",
                "error": "Publish.ValidationFailed",
                "cause": "validation failed with 2 error(s): [FLOW_LOCKED] x; [REFERENCE_NOT_FOUND] y",
            },
            exit_codes.PROBLEMS_FOUND,
        ),
        ({"status": "FAILED", "error": "Publish.FlowBusy", "cause": "lease held"}, exit_codes.REFUSED),
        ({"status": "FAILED", "error": "Publish.RolledBack", "cause": "job failed"}, exit_codes.FAILED),
        ({"status": "FAILED", "error": "Publish.RollbackFailed", "cause": "x"}, exit_codes.ROLLBACK_FAILED),
        ({"status": "TIMED_OUT", "error": "States.Timeout", "cause": ""}, exit_codes.FAILED),
    ],
)
def test_a_publish_outcome_maps_to_the_documented_code(summary: dict[str, Any], expected: int) -> None:
    assert outcome_exit_code(summary) == expected


def test_hints_speak_the_cli_flags_not_the_webhook_fields() -> None:
    hint = "ask Ann to check it in, or send force_unlock: true; or send allow_drift: true"
    assert cli_vocabulary(hint) == "ask Ann to check it in, or pass --force-unlock; or pass --allow-drift"


# ---- names --------------------------------------------------------------------------------------

FLOWS = [
    Named(id="0f3c1a2b-0000-4000-8000-000000000001", name="Main Menu", type="INBOUNDCALL", is_flow=True),
    Named(id="0f3c1a2b-0000-4000-8000-000000000002", name="Main Menu", type="INQUEUECALL", is_flow=True),
    Named(id="0f3c1a2b-0000-4000-8000-000000000003", name="18005551234", type="INBOUNDCALL", is_flow=True),
    Named(id="abcdef12", name="Billing", type="INBOUNDCALL", is_flow=True),
]


def test_a_flow_is_found_by_id_by_name_and_by_name_with_type() -> None:
    assert resolve("ABCDEF12", FLOWS).name == "Billing"  # an id, any case
    assert resolve("billing", FLOWS).id == "abcdef12"  # a name, ignoring case when unambiguous
    assert resolve("Main Menu", FLOWS, type_filter="INQUEUECALL").id.endswith("2")


def test_a_name_that_looks_like_an_id_is_a_name_unless_it_is_an_id() -> None:
    # Given a flow NAMED like a DNIS (hex digits only)
    # When it is referenced by that name
    found = resolve("18005551234", FLOWS)
    # Then it is the flow with that name, not an id lookup
    assert found.id.endswith("3")
    # And a hex string that is nobody's id or name is unknown, with no guessing
    with pytest.raises(NameResolutionError, match="no flow has the id or name 'deadbeefcafe'"):
        resolve("deadbeefcafe", FLOWS)


def test_an_ambiguous_name_lists_every_candidate_and_how_to_choose() -> None:
    with pytest.raises(NameResolutionError) as raised:
        resolve("Main Menu", FLOWS)
    message = str(raised.value)
    assert raised.value.exit_code == exit_codes.USAGE_ERROR
    assert "2 flows are called 'Main Menu'" in message
    assert "INBOUNDCALL, 0f3c1a2b-0000-4000-8000-000000000001" in message
    assert "INQUEUECALL, 0f3c1a2b-0000-4000-8000-000000000002" in message
    assert "--type (INBOUNDCALL or INQUEUECALL)" in message


def test_an_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(NameResolutionError, match="did you mean 'Billing'"):
        resolve("Biling", FLOWS)


def _hostile_lock() -> Lockfile:
    hostile = "Main\x1b[2J\x1b]0;pwned\x07\nerror: forged line\u202etxt.exe"
    return Lockfile(
        org="dev",
        flows=[
            LockedFlow(
                id="flow-evil",
                name=hostile,
                type="INBOUNDCALL",
                published_version="1.0",
                consumes=[
                    LockedDependency(id="q-ghost", type="QUEUE", name="Ghost\x1b[31mQueue", version=None)
                ],
            ),
            LockedFlow(
                id="flow-entry",
                name="Entry",
                type="INBOUNDCALL",
                published_version="1.0",
                consumes=[
                    LockedDependency(id="flow-evil", type="INBOUNDCALLFLOW", name=hostile, version="1.0")
                ],
            ),
        ],
        objects=[
            LockedObject(id="flow-evil", name=hostile, type="INBOUNDCALLFLOW", version="1.0"),
            LockedObject(id="q-ghost", name="Ghost\x1b[31mQueue", type="QUEUE", missing=True),
        ],
    )


@pytest.mark.parametrize(
    "arguments",
    [
        ["graph", "impact", "flow-evil"],
        ["graph", "problems"],
        ["graph", "waves"],
        ["graph", "cycles"],
        ["lock", "show"],
    ],
)
def test_hostile_names_reach_the_terminal_as_visible_escapes(
    arguments: list[str], tmp_path: Path, no_cloud: None
) -> None:
    # Given a lock whose flow and queue names carry a screen clear, a window title, a newline
    # with a forged error line, and a bidi override
    path = tmp_path / "hostile.lock.json"
    path.write_bytes(lock_document_bytes(_hostile_lock()))
    extra = [str(path)] if arguments[0] == "lock" else ["--lock-file", str(path)]
    # When a command prints them
    result = CliRunner().invoke(app, [*arguments, *extra])
    # Then no control character, escape or override reaches the terminal, and no line is forged
    assert "Traceback" not in result.output
    for dangerous in ("\x1b", "\x07", "\u202e"):
        assert dangerous not in result.output, arguments
    assert not any(line.startswith("error: forged") for line in result.output.splitlines())
    if arguments[:2] in (["graph", "impact"], ["graph", "problems"], ["lock", "show"]):
        assert "\\x1b" in result.output  # shown, not hidden: the operator sees the name is odd


def test_hostile_names_stay_intact_in_json(tmp_path: Path, no_cloud: None) -> None:
    path = tmp_path / "hostile.lock.json"
    path.write_bytes(lock_document_bytes(_hostile_lock()))
    result = CliRunner().invoke(app, ["graph", "impact", "flow-evil", "--json", "--lock-file", str(path)])
    assert "\x1b" not in result.stdout  # JSON escapes it ...
    document = json.loads(result.stdout)
    hostile = next(flow.name for flow in _hostile_lock().flows if flow.id == "flow-evil")
    assert document["object_name"] == hostile  # ... and keeps it exact


def test_safe_keeps_ordinary_names_and_escapes_the_rest() -> None:
    assert safe("Café Menü — Ärger 日本 👩\u200d💻") == "Café Menü — Ärger 日本 👩\u200d💻"
    assert safe("a\nb\tc\x1b[0m\u202ed\u2028") == "a\\nb\\tc\\x1b[0m\\u202ed\\u2028"


def test_an_ambiguous_name_on_the_command_line_is_exit_2_with_candidates(
    tmp_path: Path, no_cloud: None
) -> None:
    lock = Lockfile(
        org="dev",
        flows=[
            LockedFlow(id="f-1", name="Main", type="INBOUNDCALL", published_version="1.0"),
            LockedFlow(id="f-2", name="Main", type="INQUEUECALL", published_version="1.0"),
        ],
    )
    path = tmp_path / "lock.json"
    path.write_bytes(lock_document_bytes(lock))
    ambiguous = CliRunner().invoke(app, ["graph", "impact", "Main", "--lock-file", str(path)])
    narrowed = CliRunner().invoke(
        app, ["graph", "impact", "Main", "--type", "INQUEUECALL", "--lock-file", str(path)]
    )
    assert ambiguous.exit_code == exit_codes.USAGE_ERROR
    assert "f-1" in ambiguous.stderr and "f-2" in ambiguous.stderr
    assert narrowed.exit_code == exit_codes.OK, narrowed.output
    assert "Main (f-2)" in narrowed.stdout


# ---- progress -----------------------------------------------------------------------------------


class _FakeSfn:
    """An execution that polls a job `polls` times, with one retried task attempt."""

    def __init__(self, polls: int) -> None:
        names = ["StartPublishRun", "Validate", "StartPublish"]
        names += ["WaitForPublishJob", "CheckPublishJob"] * polls + [
            "HealthCheck",
            "RecordRelease",
            "Published",
        ]
        self.events: list[dict[str, Any]] = []
        for name in names:
            kind = (
                "TaskStateEntered"
                if name in {"Validate", "StartPublish", "CheckPublishJob"}
                else "PassStateEntered"
            )
            self._add(kind, stateEnteredEventDetails={"name": name})
            if kind == "TaskStateEntered":
                self._add("TaskScheduled")
                if name == "Validate":  # one failed attempt, retried
                    self._add("TaskFailed")
                    self._add("TaskScheduled")
        self.revealed = 0
        self.history_calls = 0

    def _add(self, kind: str, **details: Any) -> None:
        self.events.append({"id": len(self.events) + 1, "type": kind, **details})

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        self.revealed = min(len(self.events), self.revealed + 7)
        status = "SUCCEEDED" if self.revealed == len(self.events) else "RUNNING"
        return {"status": status, "output": "{}"}

    def get_execution_history(self, **options: Any) -> dict[str, Any]:
        self.history_calls += 1
        visible = self.events[: self.revealed]
        return {"events": list(reversed(visible)) if options.get("reverseOrder") else visible}


def test_a_long_publish_is_a_few_phase_lines_with_elapsed_time_polls_and_retries() -> None:
    # Given a publish whose Architect job is polled 180 times (360 states entered)
    sfn = _FakeSfn(polls=180)
    stream = io.StringIO()
    ticks = iter(range(10_000))
    # When it is followed to the end with the progress line writing to a log (not a terminal)
    with ProgressLine("publish Main", stream=stream) as line:
        _, snapshot = follow_execution(
            sfn,
            "arn:exec",
            phases=PUBLISH_PHASES,
            on_progress=line.show,
            clock=lambda: float(next(ticks)),
            sleep=lambda _: None,
        )
    lines = stream.getvalue().splitlines()
    # Then the log has one line per phase, not per state, each with the elapsed time
    assert len(lines) <= 10, lines
    assert any("waiting for Architect's publish job" in text for text in lines)
    assert all(re.match(r"\[\s*\d+(s|m \d\ds)\] publish Main: ", text) for text in lines)
    # And the snapshot counts the polls and the retried attempt
    assert snapshot.polls == 180 and snapshot.retries == 1 and snapshot.status == "SUCCEEDED"
    assert len(snapshot.states) == 3 + 2 * 180 + 3


def test_verbose_lists_every_state() -> None:
    sfn = _FakeSfn(polls=3)
    stream = io.StringIO()
    with ProgressLine("publish Main", stream=stream, verbose=True) as line:
        follow_execution(sfn, "arn:exec", on_progress=line.show, sleep=lambda _: None)
    assert stream.getvalue().count("→ CheckPublishJob") == 3


def test_unknown_states_read_as_words() -> None:
    assert plain_words("WaitForPromotionApproval") == "wait for promotion approval"
    assert ProgressSnapshot().phase == "starting"
