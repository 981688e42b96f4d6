"""Everything the running simulator remembers besides the org: tokens, rate windows, jobs,
operations, the dependency-index status, counters and faults.

Asynchronous things (publish operations, architect/export/validate/execution-data jobs, index
rebuilds) are not run by background threads: each records when it started, its status is
derived from simulated time, and `advance()` (called under the lock at the start of every
request) applies the effects of everything that has finished. Same clock, same answers.
"""

from __future__ import annotations

import random
import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, get_args

from flowops.clock import Clock, SystemClock
from flowops.config import RateLimitScope
from flowops.local.simulator.access import OAuthClient
from flowops.local.simulator.faults import Faults
from flowops.local.simulator.model import Operation, Org, Principal, new_id

# Phases in simulated seconds since the start of each kind of asynchronous work.
PUBLISH_PHASES: tuple[tuple[float, str], ...] = (
    (0.0, "STARTED"),
    (1.0, "PENDING_GENERATION"),
    (3.0, "PENDING_BACKEND_NOTIFICATION"),
)
PUBLISH_SECONDS = 4.0
ARCHITECT_JOB_PHASES: tuple[tuple[float, str], ...] = ((0.0, "Registered"), (1.0, "Started"))
ARCHITECT_JOB_SECONDS = 5.0  # from the upload
ARCHITECT_UPLOAD_DEADLINE_SECONDS = 900.0  # a presigned URL that is never used fails the job
SHORT_JOB_PHASES: tuple[tuple[float, str], ...] = ((0.0, "Registered"), (1.0, "Started"))
SHORT_JOB_SECONDS = 3.0  # export and validate jobs
EXECUTION_JOB_PHASES: tuple[tuple[float, str], ...] = ((0.0, "Registered"), (1.0, "Running"))
EXECUTION_JOB_SECONDS = 4.0
INDEX_REBUILD_SECONDS = 30.0
RATE_WINDOW_SECONDS = 60.0
RATE_LIMIT_SCOPES = get_args(RateLimitScope)

# The party that holds locks injected by the `locked=` fault.
FAULT_LOCK_HOLDER = Principal(
    "5b0e6f2a-93c4-4d7e-a1b2-c3d4e5f60718", "Sam Supervisor", "architect-ui", "Architect UI"
)


def phase_at(phases: tuple[tuple[float, str], ...], elapsed: float) -> str:
    current = phases[0][1]
    for start, name in phases:
        if elapsed >= start:
            current = name
    return current


@dataclass
class Token:
    value: str
    client_id: str
    issued_at: float
    lifetime: float


@dataclass
class RateWindow:
    started_at: float
    count: int = 0


@dataclass
class JobMessage:
    at: float
    type: str  # Error | Warning
    text: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class ArchitectJob:
    id: str
    created_at: float
    principal: Principal
    upload_headers: dict[str, str]
    uploaded_at: float | None = None
    yaml_text: str | None = None
    status: str | None = None  # final status once applied: Success | Failure
    flow_ref: dict[str, str] | None = None
    messages: list[JobMessage] = field(default_factory=list)
    create_stubs: bool = False
    """`POST /api/v2/flows/jobs {createStubs: true}`: flows the YAML names that do not exist yet are
    created as unpublished stubs instead of failing the job (how flows that call each other ship)."""


@dataclass
class ExportJob:
    id: str
    created_at: float
    items: list[tuple[str, str, str]]  # (flow id, version id, file name)
    download_token: str
    fails: bool = False  # the `export-fail` fault: ends Failure, as a rate-limited export does
    empty: bool = False  # the `export-empty` fault: the download is empty


@dataclass
class ValidateJob:
    id: str
    created_at: float
    items: list[tuple[str, str]]  # (flow id, version id)
    messages: list[JobMessage] = field(default_factory=list)
    status: str | None = None


@dataclass
class ExecutionJobEntity:
    instance_id: str
    failed: bool
    status_code: int
    download_token: str | None


@dataclass
class ExecutionJob:
    id: str
    created_at: float
    entities: list[ExecutionJobEntity]


@dataclass
class SimulatorSettings:
    client_id: str = "local"
    client_secret: str = "local"
    token_ttl_seconds: float = 86_400.0
    rate_limit_per_minute: int = 300
    rate_limit_scope: str = "token"
    """Which requests share one budget (docs/genesys-limits.md): `token` (each access token its own,
    as Genesys documents `client.credentials.token.rate.per.minute`), `client` (every token of one
    OAuth client) or `org` (every request of the org)."""
    architect_job_seconds: float = field(default=ARCHITECT_JOB_SECONDS, kw_only=True)
    """How long an Architect job runs after its upload (benchmarks vary it); by keyword only, so
    the positional fields above keep their places."""

    def __post_init__(self) -> None:
        if self.rate_limit_scope not in RATE_LIMIT_SCOPES:
            raise ValueError(
                f"rate limit scope {self.rate_limit_scope!r} is not one of {', '.join(RATE_LIMIT_SCOPES)}"
            )
        if self.rate_limit_per_minute < 1:
            raise ValueError(f"rate limit {self.rate_limit_per_minute}/min must be at least 1")


class SimulatorState:
    def __init__(
        self, org: Org, *, clock: Clock | None, faults: Faults | None, settings: SimulatorSettings
    ) -> None:
        self.org = org
        self.clock: Clock = clock or SystemClock()
        self.settings = settings
        self.lock = threading.RLock()
        self.faults = faults or Faults()
        self.rng = self.faults.new_random()
        self.tokens: dict[str, Token] = {}
        self.rate_windows: dict[str, RateWindow] = {}
        self.counters: Counter[str] = Counter()
        self.operations: dict[str, Operation] = {}
        self.operation_args: dict[str, dict[str, Any]] = {}
        self.architect_jobs: dict[str, ArchitectJob] = {}
        self.export_jobs: dict[str, ExportJob] = {}
        self.validate_jobs: dict[str, ValidateJob] = {}
        self.execution_jobs: dict[str, ExecutionJob] = {}
        self.downloads: dict[str, tuple[str, Any]] = {}  # token -> (kind, payload)
        # Where signed download URLs point (the storage server: another port, no Genesys token),
        # and the key their signatures are made with.
        self.storage_url = ""
        self.signing_key = secrets.token_bytes(32)
        self.index_status = "OPERATIONAL"
        self.index_started_at: float | None = None
        self.index_completed_at: float | None = self.clock.now()

    def now(self) -> float:
        return self.clock.now()

    # ---- OAuth clients ---------------------------------------------------------------------
    def oauth_client(self, client_id: str, client_secret: str | None = None) -> OAuthClient | None:
        """The client with this id (and secret, when given): the simulator's own all-powerful
        client, or one of the org's limited clients."""
        settings = self.settings
        if client_id == settings.client_id:
            found = OAuthClient(settings.client_id, settings.client_secret, settings.client_id)
        else:
            found = self.org.oauth_clients.get(client_id)
        if found is None:
            return None
        if client_secret is not None and not secrets.compare_digest(client_secret, found.client_secret):
            return None
        return found

    def set_faults(self, faults: Faults) -> None:
        self.faults = faults
        self.rng = faults.new_random()

    # ---- dependency index -------------------------------------------------------------------
    def start_index_rebuild(self) -> None:
        self.index_status = "BUILDINPROGRESS"
        self.index_started_at = self.now()
        self.index_completed_at = None

    def set_index_status(self, status: str) -> None:
        self.index_status = status
        if status == "OPERATIONAL":
            self.index_completed_at = self.now()
        elif status in {"BUILDINPROGRESS", "BUILDINITIALIZING", "BUILDQUEUED"}:
            self.index_started_at = self.now()
            self.index_completed_at = None

    def index_is_complete(self) -> bool:
        return self.index_status == "OPERATIONAL"

    # ---- locks -------------------------------------------------------------------------------
    def lock_holder(self, flow_id: str) -> Principal | None:
        if flow_id in self.faults.locked_flow_ids:
            return FAULT_LOCK_HOLDER
        flow = self.org.flows.get(flow_id)
        return None if flow is None else flow.locked_by

    # ---- time --------------------------------------------------------------------------------
    def advance(self) -> None:
        """Apply the effects of every asynchronous piece of work that has finished by now."""
        from flowops.local.simulator import lifecycle  # late import: lifecycle needs this module

        now = self.now()
        if (
            self.index_status == "BUILDINPROGRESS"
            and not self.faults.index_stuck
            and self.index_started_at is not None
            and now - self.index_started_at >= INDEX_REBUILD_SECONDS
        ):
            self.index_status = "OPERATIONAL"
            self.index_completed_at = self.index_started_at + INDEX_REBUILD_SECONDS
        for operation in self.operations.values():
            if not operation.applied and now - operation.started_at >= PUBLISH_SECONDS:
                lifecycle.complete_operation(self, operation)
        for job in self.architect_jobs.values():
            if job.status is not None:
                continue
            if job.uploaded_at is not None and self.faults.jobs_stuck:
                continue  # `job=stuck`: Started until the fault is cleared, then done at once
            if job.uploaded_at is not None and now - job.uploaded_at >= self.settings.architect_job_seconds:
                lifecycle.complete_architect_job(self, job)
            elif job.uploaded_at is None and now - job.created_at >= ARCHITECT_UPLOAD_DEADLINE_SECONDS:
                job.status = "Failure"
                job.messages.append(
                    JobMessage(now, "Error", "The flow file was never uploaded to the presigned URL.")
                )
        for validate_job in self.validate_jobs.values():
            if validate_job.status is None and now - validate_job.created_at >= SHORT_JOB_SECONDS:
                lifecycle.complete_validate_job(self, validate_job)

    def random(self) -> random.Random:
        return self.rng

    def new_download(self, kind: str, payload: Any) -> str:
        token = new_id()
        self.downloads[token] = (kind, payload)
        return token
