"""What the CLI says of a publish or release its state machine could not finish.

Step Functions cannot catch its own execution timeout or a StopExecution: such a run ends
TIMED_OUT or ABORTED, and the backstop (RecordUnfinishedRun, `flowops.unfinished`) then frees
its leases and moves its run item to INTERRUPTED, with `manual_check` when Genesys may have been
changed without being verified or restored. A FAILED run whose machine could not record its
failure is recorded the same way. `publish`, `rollback`, `release`, `promote` and `runs show`
read that record and say what it says, with the exit code the table means:

- recorded, `manual_check`: Genesys may run something the records do not name → exit 7 (NOT
  rolled back), the manual check, and `flowops scan` to see what the org runs;
- recorded, nothing changed in Genesys → exit 6 (failed), the leases it freed;
- not recorded yet (the backstop runs within seconds of the end; a command following the run
  waits `RECORD_GRACE_SECONDS` for it): nobody knows yet what the run left → exit 7, and how to
  look again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from flowops.cli import exit_codes

UNFINISHED_STATUSES = frozenset({"TIMED_OUT", "ABORTED"})
"""Execution ends the state machine cannot catch: only the backstop records them."""
INTERRUPTED = "INTERRUPTED"
RUN_KINDS = frozenset({"publish", "release"})
RECORD_GRACE_SECONDS = 20.0
"""How long a command that followed the run waits for the backstop's record (EventBridge
delivers the status change and the function runs within seconds)."""


class RunRecords(Protocol):
    def get(self, run_id: str) -> Any: ...


@dataclass(frozen=True)
class Interruption:
    """A publish or release run that ended without its state machine recording its end."""

    run_id: str
    execution_status: str
    recorded: bool
    """The backstop's INTERRUPTED record exists."""
    interrupted_by: str | None = None
    cause: str = ""
    manual_check: str | None = None
    leases_released: list[str] | None = field(default=None)
    """The leases the backstop freed (None: an older record that does not say)."""

    @property
    def genesys_may_have_changed(self) -> bool:
        return not self.recorded or bool(self.manual_check)

    @property
    def exit_code(self) -> int:
        return exit_codes.ROLLBACK_FAILED if self.genesys_may_have_changed else exit_codes.FAILED

    def lines(self) -> list[str]:
        """What the record says, then what to do: the first line is the one-line summary."""
        ended = self.execution_status.lower().replace("_", " ")
        if not self.recorded:
            return [
                f"run {self.run_id} {ended} and is not recorded yet: its leases may still be held and "
                "Genesys may have changed",
                f"look again in a minute with `flowops runs show {self.run_id}`, and run `flowops scan` "
                "to see what the org runs now",
            ]
        by = (self.interrupted_by or self.execution_status).lower().replace("_", " ")
        lines = [
            f"run {self.run_id} {by}: INTERRUPTED, {self._leases()}"
            + (
                "; Genesys may have changed and nothing verified or rolled it back"
                if self.manual_check
                else "; nothing was changed in Genesys"
            )
        ]
        if self.manual_check:
            lines.append(f"check by hand: {self.manual_check}")
            lines.append(
                "run `flowops scan` to see what the org runs now, then publish or roll back the flow"
            )
        return lines

    def _leases(self) -> str:
        if self.leases_released is None:
            return "its leases freed"
        if not self.leases_released:
            return "no lease was held"
        return f"{len(self.leases_released)} lease(s) freed ({', '.join(self.leases_released[:5])}" + (
            ", …)" if len(self.leases_released) > 5 else ")"
        )

    def document(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "execution_status": self.execution_status,
            "recorded": self.recorded,
            "run_status": INTERRUPTED if self.recorded else None,
            "interrupted_by": self.interrupted_by,
            "cause": self.cause,
            "manual_check": self.manual_check,
            "leases_released": self.leases_released,
            "genesys_may_have_changed": self.genesys_may_have_changed,
            "exit_code": self.exit_code,
            "lines": self.lines(),
        }


def _from_record(run_id: str, execution_status: str, record: Any) -> Interruption:
    details = dict(record.details or {})
    released = details.get("leases_released")
    return Interruption(
        run_id=run_id,
        execution_status=execution_status,
        recorded=True,
        interrupted_by=details.get("interrupted_by"),
        cause=str(details.get("cause") or ""),
        manual_check=details.get("manual_check") or None,
        leases_released=[str(lease) for lease in released] if isinstance(released, list) else None,
    )


def read_interruption(
    runs: RunRecords,
    run_id: str,
    execution_status: str,
    *,
    is_run_workflow: bool,
    grace_seconds: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Interruption | None:
    """The backstop's record of run `run_id`, which ended `execution_status`; None when there is
    nothing for it to record (succeeded, a failure the machine recorded, a scan or trace).

    `is_run_workflow`: the execution is a publish or release (they have run items). A TIMED_OUT or
    ABORTED run not recorded yet is waited for up to `grace_seconds`."""
    if execution_status == "SUCCEEDED" or not is_run_workflow:
        return None
    deadline = clock() + (grace_seconds if execution_status in UNFINISHED_STATUSES else 0.0)
    while True:
        record = runs.get(run_id)
        if record is not None and record.status == INTERRUPTED:
            return _from_record(run_id, execution_status, record)
        if execution_status not in UNFINISHED_STATUSES:
            return None  # FAILED: the machine recorded it itself (or the backstop has not, yet)
        if clock() >= deadline:
            return Interruption(run_id=run_id, execution_status=execution_status, recorded=False)
        sleep(min(1.0, max(0.05, deadline - clock())))


def run_records(connection: Any) -> RunRecords:
    """The stack's run items (the state table), as `read_interruption` reads them."""
    from flowops.store import RunStore

    return RunStore(connection.state_table, connection.client("dynamodb"))


__all__ = ["RECORD_GRACE_SECONDS", "Interruption", "RunRecords", "read_interruption", "run_records"]
