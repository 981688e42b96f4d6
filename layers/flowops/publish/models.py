"""Models that travel between the publish steps (small: the state machine passes them along).

Large things (the flow YAML, the full validation report) live in S3; the state carries keys.
Every step takes `run` (who and which execution) plus what earlier steps returned.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from flowops.stepfunctions import PollTiming
from flowops.stepfunctions import StepFailure as StepFailure
from flowops.webhook.models import PublishExecutionInput

Severity = Literal["error", "warning"]
JobPurpose = Literal["publish", "rollback", "fence"]
"""`fence`: waiting for the publish job to end (it ran past its deadline) before any rollback."""
RollbackAction = Literal["rollback", "none", "fence"]


# Job polls (publish + fence + rollback) one execution may make: each poll is a Wait, a Lambda task that
# may be retried, and a Choice (~60 history events at worst), and an execution's history holds
# at most 25,000 events (tests/infra/test_history_budget.py adds it all up).
MAX_JOB_POLLS = 300


class PublishTiming(PollTiming):
    """How the publish waits for an Architect job (publish, fence, rollback alike).

    The first poll comes `first_poll_seconds` after the job starts, then one every
    `fast_poll_seconds` while the job is younger than `fast_window_seconds`: a job of up to two
    minutes (nearly every Architect job) is seen at most one short interval after it ends. Past
    the window the wait grows by `backoff_rate` per poll up to `max_poll_seconds`, so a stuck job
    costs few polls before its deadline (an execution's history is bounded: MAX_JOB_POLLS).
    20 polls a minute during the window is well inside Genesys' 300 requests a minute per token.
    """

    # Upper bounds: the state machine's timeout is derived from them (infra publish_workflow).
    max_poll_seconds: int = Field(default=30, ge=1, le=30)
    fast_poll_seconds: int = Field(default=3, ge=1, le=30)
    fast_window_seconds: float = Field(default=120.0, ge=0, le=960.0)
    publish_deadline_seconds: float = Field(default=960.0, gt=0, le=960.0)
    rollback_deadline_seconds: float = Field(default=960.0, gt=0, le=960.0)
    # 0 skips the execution-data check (storage of execution data is off by default in orgs).
    health_error_window_seconds: int = Field(default=0, ge=0, le=3600)

    def wait_after(self, previous_wait_seconds: int, elapsed_seconds: float) -> int:
        """The wait before the next poll of a job that started `elapsed_seconds` ago and was last
        waited for `previous_wait_seconds`."""
        fast = min(self.fast_poll_seconds, self.max_poll_seconds)
        if elapsed_seconds < self.fast_window_seconds:
            return fast
        grown = round(max(previous_wait_seconds, fast) * self.backoff_rate)
        return int(min(self.max_poll_seconds, max(fast, grown)))

    def polls_within(self, deadline_seconds: float) -> int:
        """Polls of one job before its deadline: the checks whose waits start before it (a poll's
        own time only makes the real schedule sparser)."""
        polls, waited, wait = 0, 0.0, self.first_poll_seconds
        while waited < deadline_seconds and polls <= MAX_JOB_POLLS:
            waited += wait
            polls += 1
            wait = self.wait_after(wait, waited)
        return polls

    @model_validator(mode="after")
    def _polls_fit_one_execution(self) -> PublishTiming:
        # The publish job, the fence (waiting for a publish job past its deadline, bounded by the
        # rollback deadline) and the rollback job.
        polls = self.polls_within(self.publish_deadline_seconds) + 2 * self.polls_within(
            self.rollback_deadline_seconds
        )
        if polls > MAX_JOB_POLLS:
            raise ValueError(
                f"this timing polls a publish, its fence and its rollback up to {polls} times (more than "
                f"{MAX_JOB_POLLS}, what one execution's history can hold): raise fast_poll_seconds or "
                "max_poll_seconds, or shorten fast_window_seconds or the deadlines"
            )
        return self


class PublishRunRequest(PublishExecutionInput):
    """The execution input: what the webhook sends, plus optional timing (operators, tests)."""

    timing: PublishTiming = Field(default_factory=PublishTiming)


class RunRef(BaseModel):
    """Which execution this is; the run id is the execution name (unique per state machine)."""

    model_config = ConfigDict(frozen=True)

    run_id: str = Field(min_length=1)
    started_at: str = ""


class TargetFlow(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    type: str


class Finding(BaseModel):
    """One validation result: a stable `code`, the object it is about, and how to fix it."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    object: str
    message: str
    hint: str = ""

    def line(self) -> str:
        return f"[{self.code}] {self.object}: {self.message}" + (f" (fix: {self.hint})" if self.hint else "")


class Findings:
    """The errors and warnings one validation (of a publish or a release plan) collects."""

    def __init__(self) -> None:
        self.errors: list[Finding] = []
        self.warnings: list[Finding] = []

    def error(self, code: str, obj: str, message: str, hint: str = "") -> None:
        self.errors.append(Finding(code=code, severity="error", object=obj, message=message, hint=hint))

    def warning(self, code: str, obj: str, message: str, hint: str = "") -> None:
        self.warnings.append(Finding(code=code, severity="warning", object=obj, message=message, hint=hint))


class ValidationReport(BaseModel):
    """The full report (stored in S3, printed by `flowops validate`)."""

    model_config = ConfigDict(frozen=True)

    target: TargetFlow | None
    errors: list[Finding] = Field(default_factory=list)
    warnings: list[Finding] = Field(default_factory=list)
    references: int = 0
    unlocked: bool = False
    """True when `force_unlock` removed someone else's lock (audited)."""

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.ok:
            return f"valid ({len(self.warnings)} warning(s))"
        lines = "; ".join(finding.line() for finding in self.errors)
        return f"validation failed with {len(self.errors)} error(s): {lines}"


class ValidationOutcome(BaseModel):
    """What Validate hands to the next states (small; the report itself is at `report_key`)."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    summary: str
    report_key: str
    target: TargetFlow | None = None
    source_kind: Literal["inline", "s3", "version"]
    yaml_key: str | None = None
    """The substituted YAML to deploy (sources `inline` and `s3`)."""
    source_s3_key: str | None = None
    """The uploaded YAML's key (source `s3`): a stored release's YAML makes the run a restore."""
    version: str | None = None
    """The existing version to publish (source `version`)."""
    lock_sha256: str | None = None
    lock_version: str | None = None
    org_version: str | None = None
    environment: str
    requester: str
    reason: str
    timing: PublishTiming
    lease_acquired: bool = False
    error_codes: list[str] = Field(default_factory=list)


class SnapshotOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: str | None
    """The version that was published before this run (None: the flow had none)."""
    yaml_key: str | None
    reused: bool = False
    """True when the snapshot was already in S3 (exported by an earlier run)."""


class JobProgress(BaseModel):
    """A publish or rollback in flight: polled by the Wait + Check loop."""

    model_config = ConfigDict(frozen=True)

    purpose: JobPurpose
    mode: Literal["job", "operation"]
    job_id: str | None = None
    started_at: float
    """Wall-clock epoch seconds when it started (real time; elapsed time is scaled locally)."""
    polls: int = 0
    wait_seconds: int
    finished: bool = False
    status: str = "Registered"
    published_version: str | None = None
    messages: list[str] = Field(default_factory=list)
    elapsed_seconds: float = 0.0
    action: RollbackAction = "rollback"
    """What the rollback step decided: `rollback` (a job restores the known-good release),
    `none` (the published version never moved: nothing to undo, the run ends PublishFailed),
    `fence` (the publish job is still running: wait for it to end, then decide again)."""
    restores: str | None = None
    """The known-good release a rollback job restores."""
    restores_key: str | None = None
    restores_fingerprint: str | None = None
    health: HealthOutcome | None = None
    """Set by the poll that saw the publish job end: that poll health-checked the new version too."""
    release_recorded: bool = False
    """Set by the rollback step instead of rolling back: the run item was already SUCCEEDED (the
    error came after RecordRelease committed), so the run ends Published with `recorded_release`."""
    recorded_release: ReleaseOutcome | None = None


class HealthOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    published_version: str
    checks: list[str]
    fingerprint: str | None = None
    """Content fingerprint of the live version, verified equal to what was deployed."""


class ReleaseOutcome(BaseModel):
    """The output of a successful publish execution."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    status: Literal["SUCCEEDED"] = "SUCCEEDED"
    flow_id: str
    flow_name: str
    published_version: str
    previous_version: str | None
    yaml_key: str | None
    lock_sha256: str | None
    warnings: list[str] = Field(default_factory=list)


class TerminalOutcome(BaseModel):
    """Recorded at the end of a failed run; `cause` becomes the Fail state's cause."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    status: Literal["FAILED", "ROLLED_BACK", "ROLLBACK_FAILED", "SUCCEEDED", "RELEASE_UNRECORDED"]
    """SUCCEEDED only from the rollback-failure recorder, when the release had been recorded after
    all: the state machine then ends Published with `release` instead of RollbackFailed."""
    error: str
    cause: str
    restored_version: str | None = None
    restored_release: str | None = None
    """The known-good release whose content the restored version runs."""
    snapshot_version: str | None = None
    live_version: str | None = None
    notification_subject: str = ""
    release: ReleaseOutcome | None = None


JobProgress.model_rebuild()  # `health` and `recorded_release` name models defined after it
