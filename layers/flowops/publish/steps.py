"""The publish steps as core functions, one per state of the publish state machine.

Each takes the small models earlier states returned plus `PublishPorts` (the Genesys client and
the stores), and returns a model. Failures raise `flowops.publish.errors` (or the client's and
store's typed errors), whose `asl_error_name` the state machine's Retry/Catch match.

Run item (`RunStore`, kind "publish") lifecycle:
PENDING (Validate) → RUNNING (snapshot taken) → SUCCEEDED (RecordRelease)
                                               → ROLLING_BACK → ROLLED_BACK | ROLLBACK_FAILED
PENDING → FAILED (validation refused the run, or a step before StartPublish failed).
Every terminal step releases the flow's publish lease.

Every step is idempotent, because Step Functions retries whole steps and a DynamoDB conditional
write can fail although it was applied (its answer lost, botocore's retry finds the first
attempt's result): a run-item move that finds the item already in the target status succeeds;
audit events carry a stable id per run and kind (`publish_event_id`), so a repeated append is
the same event; artifacts are immutable or rewritten with the same content; the lock pointer
advance recognises its own earlier advance; releasing a lease that is gone is a no-op.

SUCCEEDED is RecordRelease's commit point: it comes after every record (artifacts, lock, release
report); after it only the announcement follows (the `publish.released` event and the lease),
which every later path completes idempotently. A run that reached SUCCEEDED is never rolled
back: the rollback and rollback-failure steps find it and hand the recorded release on, and the
state machine ends Published (`recorded_release`).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from flowops.bounded import FLOW_YAML_LIMITS
from flowops.genesys.errors import (
    ForbiddenError,
    GenesysError,
    GenesysUnavailableError,
    NotFoundError,
    OutOfTimeError,
    ServerError,
    WriteOutcomeUnknownError,
)
from flowops.genesys.exports import ExportFailedError, export_flow_yaml, yaml_mapping_problem
from flowops.genesys.models import (
    FlowInstanceCriteria,
    FlowInstanceCriteriaGroup,
    FlowInstanceQuery,
    genesys_timestamp,
)
from flowops.genesys.validation import start_validation, validation_errors
from flowops.lock.canonical import parse_lock
from flowops.lock.models import Lockfile
from flowops.publish.content import UnreadableContentError, content_fingerprint
from flowops.publish.errors import (
    ContentMismatchError,
    FlowChangedError,
    HealthCheckFailedError,
    LeaseHeldError,
    PublishDeadlineExceededError,
    PublishJobFailedError,
    RollbackFailedError,
    SnapshotUnavailableError,
)
from flowops.publish.lockadvance import advance_current_lock, consumed_resources
from flowops.publish.lockupdate import FlowNotInLockError, with_flow_version
from flowops.publish.models import (
    Finding,
    HealthOutcome,
    JobProgress,
    JobPurpose,
    PublishRunRequest,
    PublishTiming,
    ReleaseOutcome,
    RunRef,
    SnapshotOutcome,
    StepFailure,
    TargetFlow,
    TerminalOutcome,
    ValidationOutcome,
    ValidationReport,
)
from flowops.publish.ports import DeployPorts, PublishGenesys
from flowops.publish.releases import (
    ReleaseEntry,
    load_history,
    restored_release,
    save_history,
)
from flowops.stepfunctions import failure_message
from flowops.store import (
    ArtifactNotFoundError,
    ArtifactTooLargeError,
    RunItem,
    RunStatus,
    StoreError,
    flow_yaml_key,
)
from flowops.store.errors import RunTransitionError

RUN_KIND = "publish"
YAML_CONTENT_TYPE = "application/x-yaml"
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


@dataclass(kw_only=True)
class PublishPorts(DeployPorts):
    genesys: PublishGenesys


def publish_event_id(run_id: str, kind: str) -> str:
    """The audit event id of `kind` for this run: the same on every retry of the step writing it."""
    return f"{run_id}:{kind}"


def run_artifact_key(org: str, run_id: str, name: str) -> str:
    """`publish/<org>/<runId>/<name>`: what one run wrote (validation report, YAML, release)."""
    if not _RUN_ID.match(run_id):
        raise ValueError(f"run id {run_id!r} is not a Step Functions execution name")
    return f"publish/{org}/{run_id}/{name}"


# ---- Validate ------------------------------------------------------------------------------------


def load_current_lock(ports: PublishPorts) -> tuple[Lockfile | None, str | None]:
    pointer = ports.pointers.get_current(ports.org)
    if pointer is None:
        return None, None
    body = ports.artifacts.get_bytes(pointer.key)
    return parse_lock(body, expected_sha256=pointer.sha), pointer.sha


def load_substitutions(ports: PublishPorts, environment: str) -> dict[str, str]:
    # Same location the webhook checks (flowops.webhook.lookup.substitutions_key).
    from flowops.webhook.lookup import ArtifactSubstitutions

    found = ArtifactSubstitutions(ports.org, artifacts=ports.artifacts).substitutions_for(environment)
    return dict(found or {})


def validate_run(
    run: RunRef, request: PublishRunRequest, ports: PublishPorts, *, now: float
) -> ValidationOutcome:
    """Validate; when valid, take the flow's publish lease and apply a requested force unlock."""
    # Imported here: validation reads the flow YAML and resolves its references, which only this
    # step does; the other publish steps' cold start does not build those models.
    from flowops.publish.validate import apply_force_unlock, validate_publish

    _ensure_run_item(ports, run, request)
    lock, sha = load_current_lock(ports)
    yaml_text, source_problem = _source_yaml(request, ports)
    result = validate_publish(
        request,
        genesys=ports.genesys,
        lock=lock,
        yaml_text=yaml_text,
        substitutions=load_substitutions(ports, request.environment),
    )
    report = result.report
    if source_problem is not None:
        report = report.model_copy(update={"errors": [*report.errors, source_problem]})
    target = report.target
    lease_acquired = False
    if report.ok and target is not None:
        # Written down before the lease is taken: whoever ends this run (a later step, or the
        # unfinished-runs backstop after a timeout) frees the lease of this flow.
        _note(ports, run, "PENDING", {"flow_id": target.id})
        try:
            ports.leases.acquire(
                ports.org, target.id, run.run_id, now=now, ttl_seconds=request.timing.lease_seconds
            )
            lease_acquired = True
        except LeaseHeldError as busy:
            report = report.model_copy(
                update={
                    "errors": [
                        Finding(
                            code="FLOW_PUBLISH_IN_PROGRESS",
                            severity="error",
                            object=f"flow {target.name!r}",
                            message=busy.message,
                            hint="wait for that run to finish, then send the publish again",
                        )
                    ]
                }
            )
    if lease_acquired:
        result.report = report
        report = apply_force_unlock(result, ports.genesys)
        if report.unlocked and target is not None:
            _audit(
                ports,
                run,
                "publish.force_unlock",
                actor=request.requester,
                subject=target.id,
                details={"reason": request.reason},
            )
    report_key = run_artifact_key(ports.org, run.run_id, "validation.json")
    ports.artifacts.put_json(report_key, report.model_dump(mode="json"))
    yaml_key = None
    if report.ok and result.deploy_yaml is not None:
        yaml_key = run_artifact_key(ports.org, run.run_id, "flow.yaml")
        ports.artifacts.put_immutable(yaml_key, result.deploy_yaml.encode("utf-8"), YAML_CONTENT_TYPE)
    locked_flow = lock.flow(target.id) if (lock is not None and target is not None) else None
    outcome = ValidationOutcome(
        ok=report.ok,
        summary=report.summary(),
        report_key=report_key,
        target=target,
        source_kind=request.source.kind,
        yaml_key=yaml_key,
        source_s3_key=request.source.yaml_s3_key if request.source.kind == "s3" else None,
        version=request.source.version if request.source.kind == "version" else None,
        lock_sha256=sha,
        lock_version=locked_flow.published_version if locked_flow else None,
        environment=request.environment,
        requester=request.requester,
        reason=request.reason,
        timing=request.timing,
        lease_acquired=lease_acquired,
        error_codes=sorted({finding.code for finding in report.errors}),
    )
    if not report.ok:
        _finish_refused(ports, run, outcome, report)
    return outcome


def _ensure_run_item(ports: PublishPorts, run: RunRef, request: PublishRunRequest) -> None:
    if ports.runs.get(run.run_id) is not None:
        return  # a retried Validate: the item exists
    # A concurrent retry of this same step may have created it meanwhile.
    with contextlib.suppress(RunTransitionError):
        ports.runs.create(
            run.run_id,
            RUN_KIND,
            org=ports.org,
            details={
                "flow": request.flow.model_dump(mode="json"),
                "environment": request.environment,
                "source_kind": request.source.kind,
                "requester": request.requester,
                "reason": request.reason,
                "delivery_id": request.delivery_id,
            },
        )


def _source_yaml(request: PublishRunRequest, ports: PublishPorts) -> tuple[str | None, Finding | None]:
    source = request.source
    if source.kind == "inline":
        return source.yaml, None
    if source.kind == "s3":
        code = "YAML_SOURCE_MISSING"
        try:
            body = ports.artifacts.get_bytes(source.yaml_s3_key, max_bytes=FLOW_YAML_LIMITS.max_bytes)
            return body.decode("utf-8"), None
        except ArtifactNotFoundError:
            problem = "the uploaded YAML artifact does not exist"
        except ArtifactTooLargeError as too_large:
            # Refused from its Content-Length: the body never reaches memory or the parser.
            code, problem = "YAML_SOURCE_TOO_LARGE", f"{too_large}; split the flow or reduce it"
        except UnicodeDecodeError:
            problem = "the uploaded YAML artifact is not UTF-8 text"
        return None, Finding(
            code=code,
            severity="error",
            object=f"s3 key {source.yaml_s3_key}",
            message=problem,
            hint="upload the flow YAML to the artifacts bucket before sending the webhook",
        )
    return None, None


def _finish_refused(
    ports: PublishPorts, run: RunRef, outcome: ValidationOutcome, report: ValidationReport
) -> None:
    _move_run(
        ports,
        run.run_id,
        "FAILED",
        {"failed_in": "Validate", "error_codes": outcome.error_codes, "cause": outcome.summary[:2000]},
    )
    _audit(
        ports,
        run,
        "publish.validation_failed",
        actor=outcome.requester,
        subject=outcome.target.id if outcome.target else "unknown flow",
        details={"errors": [f.line() for f in report.errors][:20]},
    )


# ---- SnapshotCurrentVersion ----------------------------------------------------------------------


def snapshot_current_version(
    run: RunRef, validation: ValidationOutcome, ports: PublishPorts
) -> SnapshotOutcome:
    """Export the currently published version's YAML to `flows/<org>/<flowId>/<version>.yaml`."""
    target = _target(validation)
    live = ports.genesys.get_flow(target.id)
    version = live.published_version.id if live.published_version else None
    if version is None:
        snapshot = SnapshotOutcome(version=None, yaml_key=None)
    else:
        key, reused = ensure_version_yaml(ports, target.id, version)
        snapshot = SnapshotOutcome(version=version, yaml_key=key, reused=reused)
    _move_run(
        ports,
        run.run_id,
        "RUNNING",
        {"flow_id": target.id, "snapshot_version": snapshot.version, "snapshot_key": snapshot.yaml_key},
    )
    return snapshot


def _snapshot_problem(text: str) -> str | None:
    """Why an exported YAML cannot be a rollback source (None when it can): empty, or not a flow
    Architect could deploy again."""
    problem = yaml_mapping_problem(text)
    if problem is not None:
        return problem
    # Imported here, as in content_fingerprint: only the steps that read YAML pay for its models.
    from flowops.flowyaml import FlowYamlError, parse_flow_yaml

    try:
        parse_flow_yaml(text)
    except FlowYamlError as error:
        return f"the export is not a readable flow: {error}"
    return None


def ensure_version_yaml(ports: PublishPorts, flow_id: str, version: str) -> tuple[str, bool]:
    """The S3 key of this version's YAML, exporting it first unless it is there already.

    The export is retried (`export_flow_yaml`) and must be a readable flow: an empty or broken
    snapshot would make the rollback redeploy nothing, so it fails the step instead.
    """
    key = flow_yaml_key(ports.org, flow_id, version)
    if ports.artifacts.exists(key):
        return key, True
    try:
        text = export_flow_yaml(ports.genesys, flow_id, version, check=_snapshot_problem)
    except ExportFailedError as failed:
        # Nothing is published yet: the run stops here rather than keep an unusable rollback source.
        raise SnapshotUnavailableError(failed.message) from failed
    ports.artifacts.put_immutable(key, text.encode("utf-8"), YAML_CONTENT_TYPE)
    return key, False


# ---- StartPublish / RollbackToPreviousVersion ----------------------------------------------------


def start_publish(
    validation: ValidationOutcome, ports: PublishPorts, *, now: float, run: RunRef | None = None
) -> JobProgress:
    """Deploy the substituted YAML through the Architect jobs API, or publish an existing version.

    Safe to repeat (Step Functions retries the step; a write's answer can be lost): the job is
    written down in the run item before its upload, and a repeat first checks what the earlier
    attempt did (the job's status; for a version publish, the flow's current operation).
    """
    target = _target(validation)
    first_wait = validation.timing.first_poll_seconds
    details = _run_details(ports, run)
    if validation.source_kind == "version":
        if details.get("publish_requested_at") is not None:
            adopted = _publish_operation_in_flight(ports, target, details)
            if adopted:
                started = float(details["publish_requested_at"])
                return JobProgress(
                    purpose="publish", mode="operation", started_at=started, wait_seconds=first_wait
                )
        require_flow_by_id(ports, target)
        _note(ports, run, "RUNNING", {"publish_mode": "operation", "publish_requested_at": now})
        try:
            operation = ports.genesys.publish_flow(target.id, version=validation.version)
        except (WriteOutcomeUnknownError, ServerError):
            if not _publish_operation_in_flight(ports, target, details):
                raise
            return JobProgress(purpose="publish", mode="operation", started_at=now, wait_seconds=first_wait)
        return JobProgress(
            purpose="publish", mode="operation", job_id=operation.id, started_at=now, wait_seconds=first_wait
        )
    if validation.yaml_key is None:
        raise PublishJobFailedError("validation stored no YAML to deploy")
    earlier = details.get("publish_job_id")
    if earlier and _earlier_job_counts(ports, str(earlier)):
        started = float(details.get("publish_started_at") or now)
        return JobProgress(
            purpose="publish", mode="job", job_id=str(earlier), started_at=started, wait_seconds=first_wait
        )
    require_flow_by_id(ports, target)
    flow_yaml = ports.artifacts.get_bytes(validation.yaml_key)
    job_id = _deploy(
        ports, run, flow_yaml, job_field="publish_job_id", facts={"publish_started_at": now}, status="RUNNING"
    )
    return JobProgress(purpose="publish", mode="job", job_id=job_id, started_at=now, wait_seconds=first_wait)


def _deploy(
    ports: PublishPorts,
    run: RunRef | None,
    flow_yaml: bytes,
    *,
    job_field: str,
    facts: dict[str, Any],
    status: RunStatus,
) -> str:
    """Register a job, write it down in the run item (`job_field` + `facts`), upload; the job id.

    An upload whose answer was lost (or refused as a repeat of an upload that arrived) is never
    sent again: the job is polled like any other. One that never received its YAML stays
    `Registered` until Architect fails it when its upload URL expires (the job then ends in
    Failure having changed nothing), so no second deploy can ever race the first.
    """
    registration = ports.genesys.register_architect_job()
    _note(ports, run, status, {**facts, job_field: registration.id})
    try:
        ports.genesys.upload_architect_job_file(registration, flow_yaml)
    except GenesysError as error:
        if isinstance(error, WriteOutcomeUnknownError) or error.status == 403:
            return registration.id
        # Certainly never sent (no connection, or no time left to send it): forget the job, so
        # the retried step registers another instead of waiting for this one to expire.
        if isinstance(error, GenesysUnavailableError) and run is not None:
            with contextlib.suppress(StoreError):  # then the retry waits for it to expire
                ports.runs.note(run.run_id, status, {job_field: ""})
        raise
    return registration.id


def _job_status(ports: PublishPorts, job_id: str) -> str:
    try:
        return ports.genesys.get_architect_job(job_id).status or "Registered"
    except NotFoundError:
        return "Missing"


def _earlier_job_counts(ports: PublishPorts, job_id: str) -> bool:
    """A retried step: does the job its earlier attempt registered stand? Yes unless Genesys no
    longer knows it: a `Registered` job may still be receiving its YAML (a job shows `Registered`
    for a while after its upload too), so it is adopted and polled rather than deployed again."""
    return _job_status(ports, job_id) != "Missing"


def _publish_operation_in_flight(ports: PublishPorts, target: TargetFlow, details: dict[str, Any]) -> bool:
    """Did an earlier publish request reach the flow? (an operation running or done, or a new version)"""
    live = ports.genesys.get_flow(target.id)
    operation = live.current_operation
    if operation is not None and operation.action_name == "PUBLISH" and operation.action_status != "FAILURE":
        return True
    published = live.published_version.id if live.published_version else None
    return published != details.get("snapshot_version")


def require_flow_by_id(ports: PublishPorts, target: TargetFlow) -> None:
    """The flow still exists under the name the deploy will use, and that name is only its own.

    Architect jobs address a flow by type + name: after a rename the deploy would create a new
    flow (or overwrite another flow that took the name), after a deletion it would recreate it.
    """
    try:
        live = ports.genesys.get_flow(target.id)
    except NotFoundError:
        raise FlowChangedError(f"flow {target.name!r} ({target.id}) was deleted during the run") from None
    if live.deleted:
        raise FlowChangedError(f"flow {target.name!r} ({target.id}) was deleted during the run")
    if (live.name or "").strip().lower() != target.name.strip().lower():
        raise FlowChangedError(
            f"flow {target.id} was renamed from {target.name!r} to {live.name!r} during the run; a deploy "
            f"by name would create a new flow {target.name!r}"
        )
    page = ports.genesys.list_flows_page(name=target.name, flow_types=[target.type])
    others = [
        flow.id
        for flow in page.entities
        if flow.id != target.id
        and not flow.deleted
        and (flow.name or "").strip().lower() == target.name.strip().lower()
    ]
    if others:
        raise FlowChangedError(
            f"another {target.type} flow ({', '.join(others)}) is now also called {target.name!r}; a "
            "deploy by name could change it instead"
        )


def start_rollback(
    run: RunRef,
    validation: ValidationOutcome,
    snapshot: SnapshotOutcome,
    failure: StepFailure,
    ports: PublishPorts,
    *,
    now: float,
) -> JobProgress:
    """Decide what undoing the failed publish takes, and start it.

    - A run whose release was already recorded (SUCCEEDED) is not rolled back: its announcement
      is completed and the progress carries the recorded release (`release_recorded`).
    - Fence: while the publish job (or operation) can still change the flow, nothing is rolled
      back: `action="fence"` makes the state machine wait for it to end, then ask again.
    - The published version never moved: `action="none"`, the run ends PublishFailed.
    - Otherwise a job redeploys the last known-good release (`action="rollback"`).
    """
    recorded = finish_recorded_release(run, validation, ports)
    if recorded is not None:
        return JobProgress(
            purpose="rollback",
            mode="job",
            started_at=now,
            wait_seconds=0,
            finished=True,
            status="NotNeeded",
            published_version=recorded.published_version,
            messages=[f"not rolled back: the release of version {recorded.published_version} was recorded"],
            release_recorded=True,
            recorded_release=recorded,
        )
    target = _target(validation)
    first_wait = validation.timing.first_poll_seconds
    current = ports.runs.get(run.run_id)
    details = current.details if current else {}
    if current is not None and current.status == "ROLLING_BACK" and details.get("rollback_job_id"):
        job_id = str(details["rollback_job_id"])
        if _earlier_job_counts(ports, job_id):  # a retried step: that rollback is under way
            return _rollback_progress(details, job_id, float(details.get("rollback_started_at") or now))
    fence = _fence(ports, target, details, now=now, first_wait=first_wait)
    if fence is not None:
        return fence
    live_version = _published_version_or_unchanged(ports, target, snapshot, details)
    if live_version == snapshot.version:
        return JobProgress(
            purpose="rollback",
            mode="job",
            started_at=now,
            wait_seconds=0,
            finished=True,
            status="NothingToRollBack",
            action="none",
            published_version=live_version,
            messages=[
                f"flow {target.name!r} still publishes version {live_version}: nothing changed, "
                "nothing to roll back"
            ],
        )
    known_good = _known_good_release(ports, target, snapshot)
    if known_good is None:
        raise RollbackFailedError(
            f"flow {target.id} had no published version before this run: nothing to restore"
        )
    require_flow_by_id(ports, target)
    restore = {
        "restores": known_good.version,
        "restores_key": known_good.yaml_key,
        "restores_fingerprint": known_good.fingerprint,
    }
    _move_run(
        ports,
        run.run_id,
        "ROLLING_BACK",
        {
            "original_error": failure.error,
            "original_cause": failure_message(failure)[:4000],
            "live_version_before_rollback": live_version,
            **restore,
        },
    )
    flow_yaml = ports.artifacts.get_bytes(known_good.yaml_key)
    job_id = _deploy(
        ports,
        run,
        flow_yaml,
        job_field="rollback_job_id",
        facts={"rollback_started_at": now},
        status="ROLLING_BACK",
    )
    return _rollback_progress({**details, **restore}, job_id, now, wait_seconds=first_wait)


def _rollback_progress(
    details: dict[str, Any], job_id: str, started_at: float, *, wait_seconds: int = 1
) -> JobProgress:
    return JobProgress(
        purpose="rollback",
        mode="job",
        job_id=job_id,
        started_at=started_at,
        wait_seconds=wait_seconds,
        restores=details.get("restores"),
        restores_key=details.get("restores_key"),
        restores_fingerprint=details.get("restores_fingerprint"),
    )


def _fence(
    ports: PublishPorts, target: TargetFlow, details: dict[str, Any], *, now: float, first_wait: int
) -> JobProgress | None:
    """A fence progress while the publish job/operation may still change the flow, else None."""
    job_id = details.get("publish_job_id")
    if job_id:
        status = _job_status(ports, str(job_id))
        # Registered counts as running: it may still have its YAML (Architect fails a job whose
        # upload never came when its URL expires, well within the fence's deadline).
        if status in ("Success", "Failure", "Missing"):
            return None
        mode: Literal["job", "operation"] = "job"
    elif details.get("publish_requested_at") is not None:
        operation = ports.genesys.get_flow(target.id).current_operation
        if operation is None or operation.action_name != "PUBLISH" or operation.complete:
            return None
        status = operation.action_status or "STARTED"
        mode = "operation"
    else:
        return None
    return JobProgress(
        purpose="fence",
        mode=mode,
        job_id=str(job_id) if job_id else None,
        started_at=now,
        wait_seconds=first_wait,
        status=status,
        action="fence",
        messages=[f"the publish is still {status}: waiting for it to end before deciding on a rollback"],
    )


def _published_version_or_unchanged(
    ports: PublishPorts, target: TargetFlow, snapshot: SnapshotOutcome, details: dict[str, Any]
) -> str | None:
    """The live published version; the snapshot's without asking when nothing was ever sent."""
    if not details.get("publish_job_id") and details.get("publish_requested_at") is None:
        # StartPublish never registered a job nor requested a publish: Genesys cannot have
        # changed (this also holds when Genesys is unreachable, the usual reason).
        return snapshot.version
    live = ports.genesys.get_flow(target.id)
    return live.published_version.id if live.published_version else None


def _known_good_release(
    ports: PublishPorts, target: TargetFlow, snapshot: SnapshotOutcome
) -> ReleaseEntry | None:
    """The last known-good release of the flow; the snapshot when flowops recorded none yet."""
    history = load_history(ports.artifacts, ports.org, target.id)
    known = history.known_good()
    if known is not None:
        return known
    if snapshot.version is None or snapshot.yaml_key is None:
        return None
    text = ports.artifacts.get_bytes(snapshot.yaml_key).decode("utf-8")
    return ReleaseEntry(
        version=snapshot.version,
        yaml_key=snapshot.yaml_key,
        fingerprint=_fingerprint_or_unknown(text),
        run_id="baseline",
    )


def _fingerprint_or_unknown(text: str) -> str:
    try:
        return content_fingerprint(text)
    except UnreadableContentError:
        return "unreadable"


# ---- WaitForPublishJob / WaitForRollback (the Check half of the loop) ----------------------------


def check_job(
    progress: JobProgress, validation: ValidationOutcome, ports: PublishPorts, *, now: float
) -> JobProgress:
    """One poll: finished (with the new published version), still running, or raise.

    A fence (the publish job past its deadline) finishes when the job ends, whatever its end:
    the rollback step then decides on what the flow really publishes.
    """
    target = _target(validation)
    timing = validation.timing
    elapsed = max(0.0, now - progress.started_at) * ports.time_scale
    failed: type[PublishJobFailedError] | type[RollbackFailedError] = (
        PublishJobFailedError if progress.purpose == "publish" else RollbackFailedError
    )
    status, messages, stray = _poll_status(progress, target, ports)
    if progress.purpose == "fence" and status in ("Success", "Failure"):
        return progress.model_copy(
            update={
                "finished": True,
                "status": status,
                "messages": [*messages, *stray],
                "polls": progress.polls + 1,
                "elapsed_seconds": elapsed,
            }
        )
    if stray:
        raise failed(" ".join(stray))
    if status == "Failure":
        what = "publish" if progress.purpose == "publish" else "rollback"
        raise failed(f"the {what} of flow {target.name!r} failed: " + (" | ".join(messages) or "no message"))
    if status == "Success":
        live = ports.genesys.get_flow(target.id)
        published = live.published_version.id if live.published_version else None
        return progress.model_copy(
            update={
                "finished": True,
                "status": status,
                "published_version": published,
                "messages": messages,
                "polls": progress.polls + 1,
                "elapsed_seconds": elapsed,
            }
        )
    deadline = (
        timing.publish_deadline_seconds if progress.purpose == "publish" else timing.rollback_deadline_seconds
    )
    if elapsed >= deadline:
        if progress.purpose == "fence":
            raise RollbackFailedError(
                f"the publish job {progress.job_id} of flow {target.name!r} was still {status} "
                f"{elapsed:.0f} s after its deadline: it can still change the flow, so nothing was "
                "rolled back; check the job, then the flow"
            )
        error: type[PublishDeadlineExceededError] | type[RollbackFailedError] = (
            PublishDeadlineExceededError if progress.purpose == "publish" else RollbackFailedError
        )
        raise error(
            f"the {progress.purpose} job {progress.job_id} of flow {target.name!r} was still {status} after "
            f"{elapsed:.0f} s (deadline {deadline:.0f} s)"
        )
    return progress.model_copy(
        update={
            "status": status,
            "messages": messages,
            "polls": progress.polls + 1,
            "wait_seconds": timing.wait_after(progress.wait_seconds, elapsed),
            "elapsed_seconds": elapsed,
        }
    )


def _poll_status(
    progress: JobProgress, target: TargetFlow, ports: PublishPorts
) -> tuple[str, list[str], list[str]]:
    """(status, verbatim messages, what a job that deployed to ANOTHER flow left behind)."""
    if progress.mode == "job":
        job = ports.genesys.get_architect_job(str(progress.job_id))
        messages = [f"{message.type or 'Message'}: {message.text or ''}" for message in job.messages]
        stray: list[str] = []
        if job.status == "Success" and job.flow is not None and job.flow.id and job.flow.id != target.id:
            stray = [_remove_stray_flow(ports, target, job.flow.id, str(progress.job_id))]
        return job.status or "Registered", messages, stray
    live = ports.genesys.get_flow(target.id)
    operation = live.current_operation
    if operation is None or not operation.complete:
        return (operation.action_status if operation and operation.action_status else "STARTED"), [], []
    if operation.action_status == "FAILURE":
        text = operation.error_message or operation.error_code or "the publish operation failed"
        return "Failure", [f"Error: {text}"], []
    return "Success", [], []


def _remove_stray_flow(ports: PublishPorts, target: TargetFlow, stray_id: str, job_id: str) -> str:
    """A job addressed by name deployed to flow `stray_id`, not the target: undo what it can.

    A flow the job created (its only version is the job's) is deleted; a flow that existed
    before (someone gave it the target's name) is left for a person, and the message says so.
    """
    lead = (
        f"job {job_id} deployed to flow {stray_id}, not to flow {target.id}: {target.name!r} was renamed "
        "or deleted during the run"
    )
    try:
        versions = ports.genesys.list_flow_versions_page(stray_id, page_size=2)
        created_by_the_job = (versions.total if versions.total is not None else len(versions.entities)) <= 1
        if not created_by_the_job:
            return (
                f"{lead}; flow {stray_id} existed before and now publishes this run's YAML: restore it "
                "by hand"
            )
        ports.genesys.delete_flow(stray_id)
    except NotFoundError:
        return f"{lead}; flow {stray_id} is gone"
    return f"{lead}; the stray flow {stray_id} it created was deleted"


# ---- CheckPublishJob: the poll that sees the job end health-checks the new version ---------------


def check_publish_job(
    progress: JobProgress,
    validation: ValidationOutcome,
    snapshot: SnapshotOutcome,
    ports: PublishPorts,
    *,
    now: float,
) -> JobProgress:
    """One poll of the publish job; the poll that sees it end health-checks the new version in the
    same invocation (`health`), so the release goes from that poll straight to RecordRelease.

    One Lambda hop and one function fewer per publish: the health check's function ran once per
    publish, so it was cold nearly every time, while the polling function is warm by then. A
    failed check raises like a failed job (the rollback decides); a retried step polls again and
    finds the job ended, then checks again (every check is a read).
    """
    polled = check_job(progress, validation, ports, now=now)
    if not polled.finished or polled.purpose != "publish":
        return polled
    return polled.model_copy(update={"health": health_check(validation, snapshot, polled, ports, now=now)})


# ---- HealthCheck (in the poll that saw the job end) ----------------------------------------------


def health_check(
    validation: ValidationOutcome,
    snapshot: SnapshotOutcome,
    progress: JobProgress,
    ports: PublishPorts,
    *,
    now: float,
) -> HealthOutcome:
    """The flow publishes the version this run produced, nothing failed, errors did not rise."""
    target = _target(validation)
    expected = progress.published_version
    live = ports.genesys.get_flow(target.id)
    actual = live.published_version.id if live.published_version else None
    checks: list[str] = []
    if expected is None or actual != expected:
        raise HealthCheckFailedError(
            f"flow {target.name!r} publishes version {actual}, not {expected} (the version this run "
            "published): someone else published or reverted it in between"
        )
    if expected == snapshot.version:
        raise HealthCheckFailedError(f"flow {target.name!r} still publishes the previous version {expected}")
    checks.append(f"published version is {expected}")
    operation = live.current_operation
    if operation is not None and operation.complete and operation.action_status == "FAILURE":
        raise HealthCheckFailedError(
            f"flow {target.name!r} reports a failed {operation.action_name or 'operation'}: "
            f"{operation.error_message or operation.error_code}"
        )
    checks.append("no failed operation")
    # Genesys validates while the export below runs: the two jobs overlap (one job's time, not two).
    validate_job_id = start_validation(ports.genesys, target.id, expected)
    fingerprint: str | None = None
    if validation.yaml_key is not None:
        deployed = ports.artifacts.get_bytes(validation.yaml_key).decode("utf-8")
        fingerprint = verify_live_content(ports, target, expected, content_fingerprint(deployed))
        checks.append(f"version {expected} runs the deployed content ({fingerprint[:12]})")
    else:
        # A republished version is a copy Genesys makes of version `validation.version`; the
        # version check above is what proves no other deploy came in between.
        checks.append(f"version {expected} republishes version {validation.version}")
    checks.append(_validated_version(target, expected, validate_job_id, ports))
    if validation.timing.health_error_window_seconds > 0:
        checks.append(
            _check_error_rate(target, expected, snapshot.version, validation.timing, ports, now=now)
        )
    return HealthOutcome(published_version=expected, checks=checks, fingerprint=fingerprint)


def export_version_yaml(ports: PublishPorts, flow_id: str, version: str) -> str:
    """The version's YAML as Genesys exports it now (never from the artifact cache); export
    jobs retried and the download followed through its redirect (`export_flow_yaml`)."""
    try:
        return export_flow_yaml(ports.genesys, flow_id, version)
    except ExportFailedError as failed:
        raise SnapshotUnavailableError(failed.message) from failed


def verify_live_content(ports: PublishPorts, target: TargetFlow, version: str, expected: str) -> str:
    """Export the live `version` and check its content fingerprint is `expected`; the fingerprint."""
    exported = export_version_yaml(ports, target.id, version)
    try:
        actual = content_fingerprint(exported)
    except UnreadableContentError as error:
        raise ContentMismatchError(
            f"flow {target.name!r} version {version} cannot be compared with what was deployed: {error}"
        ) from None
    if actual != expected:
        raise ContentMismatchError(
            f"flow {target.name!r} version {version} does not run the deployed content (its export "
            f"fingerprints {actual[:12]}, the deployed YAML {expected[:12]}): another deploy changed it"
        )
    return actual


def _validated_version(target: TargetFlow, version: str, job_id: str | None, ports: PublishPorts) -> str:
    """The end of the validate job `start_validation` started on `version` (None: the org has none)."""
    errors = None if job_id is None else validation_errors(ports.genesys, job_id)
    if errors is None:
        return "validate jobs unavailable in this org (skipped)"
    if errors:
        raise HealthCheckFailedError(
            f"Genesys' validation of flow {target.name!r} version {version} reports: " + " | ".join(errors)
        )
    return "Genesys validate job passed"


def _check_error_rate(
    target: TargetFlow,
    version: str,
    previous: str | None,
    timing: PublishTiming,
    ports: PublishPorts,
    *,
    now: float,
) -> str:
    """Share of runs with a flow error since the publish vs the window before it (execution data)."""
    window = timedelta(seconds=timing.health_error_window_seconds)
    end = datetime.fromtimestamp(now, UTC)

    def error_share(start: datetime, stop: datetime, flow_version: str | None) -> tuple[int, int]:
        criteria = [
            FlowInstanceCriteria(key="FlowId", operator="eq", value=target.id),
            FlowInstanceCriteria(key="FlowStartDateTime", operator="gte", value=genesys_timestamp(start)),
            FlowInstanceCriteria(key="FlowStartDateTime", operator="lt", value=genesys_timestamp(stop)),
        ]
        page = ports.genesys.query_flow_instances(
            FlowInstanceQuery(query=[FlowInstanceCriteriaGroup(and_=criteria)])
        )
        rows = [row for row in page.entities if flow_version is None or row.flow_version == flow_version]
        return sum(1 for row in rows if row.flow_error_reason), len(rows)

    try:
        new_errors, new_runs = error_share(end - window, end, version)
        old_errors, old_runs = error_share(end - 2 * window, end - window, previous)
    except ForbiddenError as refused:
        # An optional check: without architect:flowInstance:search it is skipped, not failed
        # (failing it would roll back every publish of a client that lacks only this).
        needed = " or ".join(refused.missing_permissions) or "architect:flowInstance:search"
        return f"flow error rate not checked: the OAuth client lacks {needed}"
    new_share = new_errors / new_runs if new_runs else 0.0
    old_share = old_errors / old_runs if old_runs else 0.0
    # A rise needs evidence: at least 3 failing runs and a share 10 points above the baseline.
    if new_errors >= 3 and new_share > old_share + 0.10:
        raise HealthCheckFailedError(
            f"flow errors rose after the publish: {new_errors}/{new_runs} runs failed "
            f"(before: {old_errors}/{old_runs})"
        )
    return f"flow errors {new_errors}/{new_runs} (before {old_errors}/{old_runs})"


# ---- RecordRelease -------------------------------------------------------------------------------


def record_release(
    run: RunRef,
    validation: ValidationOutcome,
    snapshot: SnapshotOutcome,
    progress: JobProgress,
    health: HealthOutcome,
    ports: PublishPorts,
) -> ReleaseOutcome:
    """New version's YAML kept as the next rollback source, lock advanced, release report stored,
    then the commit (run item SUCCEEDED), then the announcement (audit event, lease freed)."""
    target = _target(validation)
    recorded = finish_recorded_release(run, validation, ports)
    if recorded is not None:
        return recorded  # a retried step: the release is committed, its announcement now complete
    version = health.published_version
    if validation.yaml_key is not None:
        key = flow_yaml_key(ports.org, target.id, version)
        ports.artifacts.put_immutable(key, ports.artifacts.get_bytes(validation.yaml_key), YAML_CONTENT_TYPE)
    else:
        key, _ = ensure_version_yaml(ports, target.id, version)
    record_release_history(ports, run, validation, snapshot, version, key, health.fingerprint)
    sha = advance_lock_for_version(ports, target, version, run_id=run.run_id)
    warnings = _report_warnings(ports, validation)
    outcome = ReleaseOutcome(
        run_id=run.run_id,
        flow_id=target.id,
        flow_name=target.name,
        published_version=version,
        previous_version=snapshot.version,
        yaml_key=key,
        lock_sha256=sha,
        warnings=warnings,
    )
    ports.artifacts.put_json(
        run_artifact_key(ports.org, run.run_id, "release.json"), outcome.model_dump(mode="json")
    )
    # The commit: from here on the run is released and is never rolled back. The item keeps
    # everything the announcement needs, so any later step can complete it identically.
    _move_run(
        ports,
        run.run_id,
        "SUCCEEDED",
        {
            "published_version": version,
            "previous_version": snapshot.version,
            "yaml_key": key,
            "lock_sha256": sha,
            "warnings": warnings,
        },
    )
    _announce_release(ports, run, validation, outcome)
    return outcome


def record_release_history(
    ports: PublishPorts,
    run: RunRef,
    validation: ValidationOutcome,
    snapshot: SnapshotOutcome,
    version: str,
    yaml_key: str,
    fingerprint: str | None,
) -> None:
    """Add the verified release to the flow's known-good history (idempotent per version).

    The first release flowops records keeps the version it replaced as the baseline, so that
    `flowops rollback` can go back to it. A publish of a stored release's YAML is a restore.
    """
    target = _target(validation)
    history = load_history(ports.artifacts, ports.org, target.id)
    if not history.entries and snapshot.version is not None and snapshot.yaml_key is not None:
        baseline_text = ports.artifacts.get_bytes(snapshot.yaml_key).decode("utf-8")
        history = history.with_entry(
            ReleaseEntry(
                version=snapshot.version,
                yaml_key=snapshot.yaml_key,
                fingerprint=_fingerprint_or_unknown(baseline_text),
                run_id="baseline",
            )
        )
    restores = restored_release(ports.org, target.id, validation.source_s3_key)
    if fingerprint is None:
        fingerprint = _fingerprint_or_unknown(ports.artifacts.get_bytes(yaml_key).decode("utf-8"))
    entry = ReleaseEntry(
        version=version, yaml_key=yaml_key, fingerprint=fingerprint, run_id=run.run_id, restores=restores
    )
    if history.entry(version) != entry:
        save_history(ports.artifacts, ports.org, history.with_entry(entry))


def finish_recorded_release(
    run: RunRef, validation: ValidationOutcome, ports: PublishPorts
) -> ReleaseOutcome | None:
    """If the run item is SUCCEEDED: complete the announcement (idempotent) and return the release.

    None while the release is not committed. Safe from any step that runs after RecordRelease
    might have committed (a retried RecordRelease, the rollback and its failure recorder).
    """
    current = ports.runs.get(run.run_id)
    if current is None or current.status != "SUCCEEDED":
        return None
    outcome = recorded_release_outcome(run, validation, current.details)
    _announce_release(ports, run, validation, outcome)
    return outcome


def recorded_release_outcome(
    run: RunRef, validation: ValidationOutcome, details: dict[str, Any]
) -> ReleaseOutcome:
    """The release as RecordRelease committed it to the run item."""
    target = _target(validation)
    return ReleaseOutcome(
        run_id=run.run_id,
        flow_id=target.id,
        flow_name=target.name,
        published_version=str(details["published_version"]),
        previous_version=details.get("previous_version", details.get("snapshot_version")),
        yaml_key=details.get("yaml_key"),
        lock_sha256=details.get("lock_sha256"),
        warnings=list(details.get("warnings") or []),
    )


def _announce_release(
    ports: PublishPorts, run: RunRef, validation: ValidationOutcome, outcome: ReleaseOutcome
) -> None:
    _audit_and_free_lease(
        ports,
        run,
        "publish.released",
        actor=validation.requester,
        subject=outcome.flow_id,
        details={
            "version": outcome.published_version,
            "previous_version": outcome.previous_version,
            "environment": validation.environment,
            "reason": validation.reason,
            "lock_sha256": outcome.lock_sha256,
        },
    )


def advance_lock_for_version(
    ports: PublishPorts, target: TargetFlow, version: str, *, run_id: str
) -> str | None:
    """Write the current lock with this flow at `version` and make it current (retry on a race)."""
    consumed = consumed_resources(ports.genesys, target.id, target.type, version)
    if consumed is None:
        return None  # dependency tracking has no type for it: the scan records it as unread

    def moved(lock: Lockfile) -> Lockfile:
        try:
            return with_flow_version(lock, target.id, version, consumed)
        except FlowNotInLockError:
            return lock  # a flow the lock does not know yet: the next scan records it

    return advance_current_lock(ports, moved, writer=f"publish-{run_id}")


def _report_warnings(ports: PublishPorts, validation: ValidationOutcome) -> list[str]:
    try:
        report = ValidationReport.model_validate(ports.artifacts.get_json(validation.report_key))
    except ArtifactNotFoundError:
        return []
    return [finding.line() for finding in report.warnings]


# ---- terminal failure branches -------------------------------------------------------------------


def record_rolled_back(
    run: RunRef,
    validation: ValidationOutcome,
    snapshot: SnapshotOutcome,
    failure: StepFailure,
    rollback: JobProgress,
    ports: PublishPorts,
) -> TerminalOutcome:
    """The snapshot is live again: record it (lock, artifacts, run, audit), free the lease."""
    target = _target(validation)
    restored = rollback.published_version
    source_key = rollback.restores_key or snapshot.yaml_key
    release = rollback.restores or snapshot.version
    if restored is None or source_key is None or release is None:
        raise RollbackFailedError(f"the rollback of flow {target.name!r} left no published version")
    # Record only what is true: the live version must be the one the rollback job produced, and
    # it must run the known-good content.
    live = ports.genesys.get_flow(target.id)
    live_version = live.published_version.id if live.published_version else None
    if live_version != restored:
        raise RollbackFailedError(
            f"flow {target.name!r} publishes version {live_version}, not {restored} (the rollback's): "
            "another deploy changed it after the rollback"
        )
    source_text = ports.artifacts.get_bytes(source_key)
    expected = rollback.restores_fingerprint or _fingerprint_or_unknown(source_text.decode("utf-8"))
    try:
        fingerprint = verify_live_content(ports, target, restored, expected)
    except ContentMismatchError as mismatch:
        raise RollbackFailedError(mismatch.message) from None
    restored_key = flow_yaml_key(ports.org, target.id, restored)
    ports.artifacts.put_immutable(restored_key, source_text, YAML_CONTENT_TYPE)
    history = load_history(ports.artifacts, ports.org, target.id)
    if history.entry(release) is None:
        history = history.with_entry(
            ReleaseEntry(version=release, yaml_key=source_key, fingerprint=expected, run_id="baseline")
        )
    entry = ReleaseEntry(
        version=restored, yaml_key=restored_key, fingerprint=fingerprint, run_id=run.run_id, restores=release
    )
    if history.entry(restored) != entry:
        save_history(ports.artifacts, ports.org, history.with_entry(entry))
    advance_lock_for_version(ports, target, restored, run_id=run.run_id)
    original = failure_message(failure)
    cause = (
        f"{failure.error}: {original} — rolled back: flow {target.name!r} publishes version {restored}, "
        f"which runs the content of known-good release {release} ({fingerprint[:12]})"
    )
    _move_run(
        ports,
        run.run_id,
        "ROLLED_BACK",
        {
            "restored_version": restored,
            "restored_release": release,
            "restored_fingerprint": fingerprint,
            "snapshot_version": snapshot.version,
            "cause": cause[:4000],
        },
    )
    _audit_and_free_lease(
        ports,
        run,
        "publish.rolled_back",
        actor=validation.requester,
        subject=target.id,
        details={
            "error": failure.error,
            "restored_version": restored,
            "restored_release": release,
            "snapshot_version": snapshot.version,
        },
    )
    return TerminalOutcome(
        run_id=run.run_id,
        status="ROLLED_BACK",
        error=failure.error,
        cause=cause,
        restored_version=restored,
        restored_release=release,
        snapshot_version=snapshot.version,
        live_version=restored,
    )


def record_rollback_failed(
    run: RunRef,
    validation: ValidationOutcome,
    snapshot: SnapshotOutcome | None,
    failure: StepFailure | None,
    rollback_failure: StepFailure,
    ports: PublishPorts,
) -> TerminalOutcome:
    """Leave everything a person needs for a manual fix in the run item; free the lease.

    A run found SUCCEEDED was released, not rolled back (the rollback step could not tell, e.g.
    its store reads kept failing): its release is returned with status SUCCEEDED, and the state
    machine ends Published. A retry after the failure was recorded repeats the recorded facts.
    """
    target = _target(validation)
    current = ports.runs.get(run.run_id)
    recorded = finish_recorded_release(run, validation, ports) if _is_succeeded(current) else None
    if recorded is not None:
        return TerminalOutcome(
            run_id=run.run_id,
            status="SUCCEEDED",
            error="",
            cause=f"released version {recorded.published_version}; nothing to roll back",
            release=recorded,
        )
    if current is not None and current.status == "ROLLBACK_FAILED" and "manual_fix" in current.details:
        # A retried step: the first attempt's facts (the live version may differ by now).
        return _rollback_failed_outcome(ports, run, validation, rollback_failure, current.details)
    try:
        live = ports.genesys.get_flow(target.id)
        live_version = live.published_version.id if live.published_version else None
    except OutOfTimeError:
        raise  # this invocation ran out of time: the retried step reads the live version
    except Exception:
        # Record only what is true: after the step's retries, Genesys still did not answer.
        live_version = "unknown (Genesys unreachable)"
    original = f"{failure.error}: {failure_message(failure)}" if failure else "unknown"
    rollback_error = f"{rollback_failure.error}: {failure_message(rollback_failure)}"
    snapshot_version = snapshot.version if snapshot else None
    snapshot_key = snapshot.yaml_key if snapshot else None
    manual_fix = (
        f"Flow {target.name!r} ({target.id}) now publishes version {live_version}. Restore it by deploying "
        f"s3://<artifacts>/{snapshot_key} (the YAML of version {snapshot_version}) with Archy or "
        f"`flowops rollback --flow {target.id}`, then rescan."
    )
    details: dict[str, Any] = {
        "original_error": original[:4000],
        "rollback_error": rollback_error[:4000],
        "snapshot_version": snapshot_version,
        "snapshot_key": snapshot_key,
        "live_version": live_version,
        "manual_fix": manual_fix,
    }
    if current is not None and current.status == "RUNNING":
        _move_run(ports, run.run_id, "ROLLING_BACK", {})
    _move_run(ports, run.run_id, "ROLLBACK_FAILED", details)
    return _rollback_failed_outcome(ports, run, validation, rollback_failure, details)


def _rollback_failed_outcome(
    ports: PublishPorts,
    run: RunRef,
    validation: ValidationOutcome,
    rollback_failure: StepFailure,
    details: dict[str, Any],
) -> TerminalOutcome:
    """Audit the recorded failure, free the lease, and describe it for the Fail state."""
    target = _target(validation)
    facts = {name: details.get(name) for name in _ROLLBACK_FAILED_FACTS}
    _audit_and_free_lease(
        ports,
        run,
        "publish.rollback_failed",
        actor=validation.requester,
        subject=target.id,
        details=facts,
    )
    cause = f"{facts['original_error']} — rollback failed: {facts['rollback_error']}"
    return TerminalOutcome(
        run_id=run.run_id,
        status="ROLLBACK_FAILED",
        error=rollback_failure.error,
        cause=f"{cause}. {facts['manual_fix']}",
        snapshot_version=facts["snapshot_version"],
        notification_subject=f"flowops: rollback of {target.name} FAILED, manual fix needed"[:99],
    )


_ROLLBACK_FAILED_FACTS = (
    "original_error",
    "rollback_error",
    "snapshot_version",
    "snapshot_key",
    "live_version",
    "manual_fix",
)


def record_failure_before_publish(
    run: RunRef,
    validation: ValidationOutcome | None,
    failure: StepFailure,
    ports: PublishPorts,
    *,
    unchanged: JobProgress | None = None,
) -> TerminalOutcome:
    """Genesys is unchanged: a step before StartPublish failed, or the rollback step found the
    published version never moved (`unchanged`, e.g. Architect refused the job). Record it and
    free the lease; nobody is paged, there is nothing to restore."""
    message = failure_message(failure)
    if unchanged is not None:
        cause = f"{failure.error}: {message} — nothing to roll back: " + " ".join(unchanged.messages)
    else:
        cause = f"{failure.error}: {message} — nothing was published"
    current = ports.runs.get(run.run_id)
    if current is not None and current.status in ("PENDING", "RUNNING"):
        facts: dict[str, Any] = {"cause": cause[:4000]}
        if unchanged is not None:
            facts["live_version"] = unchanged.published_version
        _move_run(ports, run.run_id, "FAILED", facts)
    target = validation.target if validation else None
    _audit(
        ports,
        run,
        "publish.failed",
        actor=validation.requester if validation else "unknown",
        subject=target.id if target else "unknown flow",
        details={"error": failure.error, "cause": message[:2000]},
    )
    if target is not None:
        ports.leases.release(ports.org, target.id, run.run_id)
    return TerminalOutcome(
        run_id=run.run_id,
        status="FAILED",
        error=failure.error,
        cause=cause,
        live_version=unchanged.published_version if unchanged is not None else None,
    )


# ---- ParkUnrecordedRelease -----------------------------------------------------------------------


def park_unrecorded_release(
    run: RunRef,
    validation: ValidationOutcome,
    snapshot: SnapshotOutcome,
    health: HealthOutcome,
    failure: StepFailure,
    ports: PublishPorts,
) -> TerminalOutcome:
    """RecordRelease kept failing AFTER the release went live and passed its checks.

    A healthy release is never rolled back for a bookkeeping failure: the run is parked as
    RELEASE_UNRECORDED with what is live and how to finish the records (a rescan records the
    live version in the lock; the next publish of the flow sees the lock differ until then).
    A run RecordRelease had already committed (SUCCEEDED) is handed on as released.
    """
    target = _target(validation)
    recorded = finish_recorded_release(run, validation, ports)
    if recorded is not None:
        return TerminalOutcome(
            run_id=run.run_id,
            status="SUCCEEDED",
            error="",
            cause=f"released version {recorded.published_version}",
            release=recorded,
        )
    version = health.published_version
    repair = (
        f"flow {target.name!r} ({target.id}) runs version {version}, released and verified by this run; "
        f"the records could not be written ({failure.error}). Run a scan (`flowops scan`) to record "
        "it in the lock; the run item keeps the facts."
    )
    _move_run(
        ports,
        run.run_id,
        "RELEASE_UNRECORDED",
        {
            "published_version": version,
            "previous_version": snapshot.version,
            "record_error": f"{failure.error}: {failure_message(failure)}"[:4000],
            "repair": repair,
        },
    )
    _audit_and_free_lease(
        ports,
        run,
        "publish.release_unrecorded",
        actor=validation.requester,
        subject=target.id,
        details={"version": version, "error": failure.error},
    )
    return TerminalOutcome(
        run_id=run.run_id,
        status="RELEASE_UNRECORDED",
        error=failure.error,
        cause=repair,
        live_version=version,
    )


# ---- helpers -------------------------------------------------------------------------------------


def _audit(
    ports: PublishPorts, run: RunRef, kind: str, *, actor: str, subject: str, details: dict[str, Any]
) -> None:
    """Append this run's `kind` event (its id is the same on every retry of the step, so a retried
    step does not append it twice); `details` are preceded by the run id."""
    ports.audit.append(
        ports.org,
        kind,
        actor=actor,
        subject=subject,
        details={"run_id": run.run_id, **details},
        event_id=publish_event_id(run.run_id, kind),
    )


def _audit_and_free_lease(
    ports: PublishPorts, run: RunRef, kind: str, *, actor: str, subject: str, details: dict[str, Any]
) -> None:
    """How a run ends: its `kind` event for the flow `subject`, then that flow's lease freed (the
    audit event first: a retry after a failed append still holds the lease)."""
    _audit(ports, run, kind, actor=actor, subject=subject, details=details)
    ports.leases.release(ports.org, subject, run.run_id)


def _target(validation: ValidationOutcome) -> TargetFlow:
    if validation.target is None:
        raise ValueError("no target flow: validation did not resolve one")
    return validation.target


def _is_succeeded(run: RunItem | None) -> bool:
    return run is not None and run.status == "SUCCEEDED"


def _run_details(ports: PublishPorts, run: RunRef | None) -> dict[str, Any]:
    item = ports.runs.get(run.run_id) if run is not None else None
    return dict(item.details) if item is not None else {}


def _note(ports: PublishPorts, run: RunRef | None, status: RunStatus, details: dict[str, Any]) -> None:
    """Write facts down in the run item before acting on them (see RunStore.note)."""
    if run is not None:
        ports.runs.note(
            run.run_id, status, {name: value for name, value in details.items() if value is not None}
        )


def _move_run(ports: PublishPorts, run_id: str, to_status: Any, details: dict[str, Any]) -> None:
    """Transition the run item from whatever it is now; a repeat of the same move is a no-op."""
    ports.runs.move(run_id, to_status, details=details)


__all__ = [
    "RUN_KIND",
    "JobPurpose",
    "PublishPorts",
    "advance_lock_for_version",
    "check_job",
    "check_publish_job",
    "ensure_version_yaml",
    "failure_message",
    "finish_recorded_release",
    "health_check",
    "park_unrecorded_release",
    "publish_event_id",
    "record_failure_before_publish",
    "record_release",
    "record_rollback_failed",
    "record_rolled_back",
    "recorded_release_outcome",
    "require_flow_by_id",
    "run_artifact_key",
    "snapshot_current_version",
    "start_publish",
    "start_rollback",
    "validate_run",
    "verify_live_content",
]
