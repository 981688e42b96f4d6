"""Models that travel between the release steps. Small on purpose: the state machine passes them
along (256 KB per state); the plan, the flow YAML and the wave results live in S3."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from flowops.stepfunctions import PollTiming, next_wait_seconds
from flowops.stepfunctions import StepFailure as StepFailure

# Defined here, not in flowops.release.plan: importing these models (the webhook, every release
# step) must not import the planner and what it needs (Genesys, references, YAML content).
Action = Literal["create", "update", "unchanged", "republish"]
RollbackAction = Literal["redeploy", "delete", "nothing"]
ReleaseStatus = Literal["RELEASED", "NOTHING_TO_RELEASE", "INVALID", "ROLLED_BACK", "ROLLBACK_FAILED"]


MAX_JOB_POLLS = 60
"""Polls of one flow's job a timing may ask for (35 with the defaults). Every flow's deploy and
restore polls in the release's one execution history (tests/infra/test_history_budget.py)."""


# What one release's steps may take besides its job waits: the Lambda timeouts of infra
# release_workflow (tests/infra/test_execution_timeouts.py keeps them in step).
ROUND_STEP_SECONDS = 480
"""One flow's deploy or restore: start (120 s), one job check (60 s), health check or verify (300 s)."""
WAVE_RECORD_SECONDS = 60
RUN_STEP_SECONDS = 1_320
"""Once per run: PrepareRelease (900 s), PlanRollback (300 s), the record of the end (120 s)."""
LEASE_MARGIN = 1.25


class ReleaseTiming(PollTiming):
    """How the release waits. Defaults follow Terraform's Architect-job polling (16 min cap)."""

    # Upper bounds: the state machine's timeout is derived from them (infra release_workflow).
    max_poll_seconds: int = Field(default=30, ge=1, le=30)
    job_deadline_seconds: float = Field(default=960.0, gt=0, le=960.0)
    validate_job: bool = True
    """Health check runs Genesys' validate job on each published version (2+ calls per flow)."""
    verify_content: bool = True
    """Health check (and a restore's verification) exports the new version and compares its content
    fingerprint with the YAML deployed (3+ calls per flow): the record never names a version that
    runs someone else's content."""

    def run_seconds(self, flows: int, waves: int) -> int:
        """The longest a release of `flows` changed flows in `waves` waves may run (an approval
        wait aside): every flow deployed, then restored, one after another (a wave's concurrency
        only shortens it), each job to its deadline plus one last wait, each wave recorded twice,
        with the state machine's margin."""
        per_flow = 2 * (ROUND_STEP_SECONDS + self.job_deadline_seconds + self.max_poll_seconds)
        seconds = RUN_STEP_SECONDS + flows * per_flow + 2 * waves * WAVE_RECORD_SECONDS
        return math.ceil(LEASE_MARGIN * seconds)

    def lease_seconds_for(self, flows: int, waves: int) -> int:
        """How long a release holds its flows' leases: `lease_seconds`, or longer when the release
        itself may run longer (a lease that expired mid-release would let a single publish of a
        later wave's flow in). Every end of the run frees them earlier (RecordUnfinishedRun too)."""
        return max(self.lease_seconds, self.run_seconds(flows, waves))

    def job_polls(self) -> int:
        """Polls of one job that runs to its deadline (the checks whose waits start before it)."""
        polls, waited = 0, 0
        while waited < self.job_deadline_seconds and polls <= MAX_JOB_POLLS:
            waited += next_wait_seconds(self, polls)
            polls += 1
        return polls

    @model_validator(mode="after")
    def _polls_fit_one_execution(self) -> ReleaseTiming:
        if self.job_polls() > MAX_JOB_POLLS:
            raise ValueError(
                f"this timing polls a job more than {MAX_JOB_POLLS} times before its "
                f"{self.job_deadline_seconds:.0f} s deadline (every flow's polls share one execution's "
                "history): raise first_poll_seconds, backoff_rate or max_poll_seconds, or shorten "
                "the deadline"
            )
        return self


class ReleaseRequest(BaseModel):
    """The execution input (what `flowops release`, `promote` and the release webhook send)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bundle_key: str = Field(min_length=1, max_length=300)
    bundle_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    environment: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")
    requester: str = Field(min_length=1, max_length=200)
    reason: str = Field(default="", max_length=1000)
    promoted_from: str | None = Field(default=None, max_length=200)
    """`<environment>:<release run id>` of the release this one promotes."""
    timing: ReleaseTiming = Field(default_factory=ReleaseTiming)


class RunRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,80}$")
    started_at: str = ""


class WaveItem(BaseModel):
    """One flow to publish in a wave (the Map item)."""

    model_config = ConfigDict(frozen=True)

    key: str
    action: Action
    flow_id: str | None = None
    yaml_key: str
    create_stubs: bool = False
    snapshot_version: str | None = None


class PreparedWave(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    flows: list[WaveItem]


class PreparedRelease(BaseModel):
    model_config = ConfigDict(frozen=True)

    ok: bool
    nothing_to_do: bool = False
    summary: str
    plan_key: str
    waves: list[PreparedWave] = Field(default_factory=list)
    timing: ReleaseTiming
    error_codes: list[str] = Field(default_factory=list)
    approval_required: bool = False
    """This environment's releases wait for `flowops approve` before the first wave."""


class FlowProgress(BaseModel):
    """A deploy (publish or rollback) in flight, polled by the Wait + Check loop."""

    model_config = ConfigDict(frozen=True)

    key: str
    mode: Literal["job", "done"]
    job_id: str | None = None
    started_at: float
    polls: int = 0
    wait_seconds: int
    finished: bool = False
    status: str = "Registered"
    flow_id: str | None = None
    messages: list[str] = Field(default_factory=list)


class FlowResult(BaseModel):
    """What one flow's publish (or rollback) came to; the Map item's output."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    key: str
    ok: bool
    flow_id: str | None = None
    version_before: str | None = None
    version_after: str | None = None
    error: str = ""
    cause: str = ""


class RollbackItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    action: RollbackAction
    flow_id: str | None = None
    snapshot_key: str | None = None
    snapshot_version: str | None = None
    live_version: str | None = None


class RollbackWave(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    flows: list[RollbackItem]


class RollbackPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    waves: list[RollbackWave]
    failed_wave: int | None
    cause: str


class ReleaseOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str
    status: ReleaseStatus
    environment: str
    summary: str
    cause: str = ""
    flows: list[FlowResult] = Field(default_factory=list)
    notification_subject: str = ""
    started_at: str = ""
    """When the release's execution started (the scan report lists releases newest first)."""
