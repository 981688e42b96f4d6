"""The release steps as core functions, one per task of the release state machine.

PrepareRelease plans and validates the whole bundle, takes every changed flow's publish lease
(the same lease as single publishes: a release and a publish of one flow never overlap) and
keeps every changed flow's snapshot. Each wave's flows are deployed in parallel (a Map), each
with a Wait + Check loop and a health check; a flow's failure is CAUGHT inside its iteration, so
every job of a wave has finished before the wave is judged (RecordWave) — a rollback never races
a job still running. Any failed wave rolls back every flow the release changed, in reverse wave
order: redeploy the snapshot YAML (a new version with the old content, as Architect's own
rollback does) or DELETE a flow the release created. Flows that call a common module the release
UPDATED are restored after the module (a consumer binds the module version published when it is
deployed), so the org ends with the old content everywhere.

Release record: a run item of kind "release" (PENDING → RUNNING → SUCCEEDED | ROLLING_BACK →
ROLLED_BACK | ROLLBACK_FAILED; PENDING → FAILED when invalid) with the flows, their versions
before and after, who, why, the environment and the source revision. Audit events
`release.started|released|validation_failed|rolling_back|rolled_back|rollback_failed`.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from flowops.genesys.errors import (
    ForbiddenError,
    GenesysError,
    GenesysUnavailableError,
    NotFoundError,
    WriteOutcomeUnknownError,
)
from flowops.genesys.exports import ExportFailedError, export_flow_yaml
from flowops.genesys.validation import validate_job_errors
from flowops.lock.canonical import parse_lock
from flowops.lock.models import Lockfile
from flowops.publish.content import UnreadableContentError, content_fingerprint
from flowops.publish.errors import LeaseHeldError
from flowops.publish.lockadvance import advance_current_lock, consumed_resources
from flowops.publish.lockupdate import ConsumedResource, FlowChange, with_flow_changes
from flowops.publish.ports import DeployPorts
from flowops.release.bundle import ReleaseBundle, parse_bundle
from flowops.release.errors import (
    BundleError,
    FlowPublishFailedError,
    FlowRollbackFailedError,
    ReleaseError,
)
from flowops.release.live import GenesysLiveOrg, ReleaseGenesys, published_version
from flowops.release.models import (
    FlowProgress,
    FlowResult,
    PreparedRelease,
    PreparedWave,
    ReleaseOutcome,
    ReleaseRequest,
    ReleaseTiming,
    RollbackItem,
    RollbackPlan,
    RollbackWave,
    RunRef,
    StepFailure,
    WaveItem,
)
from flowops.release.plan import ReleasePlan, compute_plan
from flowops.stepfunctions import failure_message, next_wait_seconds
from flowops.store import (
    ArtifactNotFoundError,
    AuditLog,
    RunStore,
    flow_yaml_key,
)
from flowops.store.errors import RunTransitionError, StoreError

RUN_KIND = "release"
APPROVAL_WINDOW_SECONDS = 24 * 3600
"""How long a release waits for its approval (the approval task's timeout in the stack)."""
YAML_CONTENT_TYPE = "application/x-yaml"
_CAUSE_LIMIT = 2000


class WaveFailedError(ReleaseError):
    asl_error_name = "Release.WaveFailed"


@dataclass(kw_only=True)
class ReleasePorts(DeployPorts):
    environment: str
    """The stack's environment (FLOWOPS_ENVIRONMENT); empty: any."""
    genesys: ReleaseGenesys
    approval_required: bool = False
    approval_window_seconds: int = APPROVAL_WINDOW_SECONDS
    promotes_from: str = ""
    """The environment before this stack's in the promotion chain (empty: the first, or no chain)."""


def release_key(org: str, run_id: str, name: str) -> str:
    """`releases/<org>/runs/<runId>/<name>`: what one release wrote (plan, wave results)."""
    return f"releases/{org}/runs/{run_id}/{name}"


def yaml_key(org: str, text: str) -> str:
    """`releases/<org>/yaml/<sha256>.yaml`: a flow's deploy YAML, content-addressed."""
    return f"releases/{org}/yaml/{hashlib.sha256(text.encode()).hexdigest()}.yaml"


def event_id(run_id: str, kind: str) -> str:
    return f"{run_id}:{kind}"


def lease_id(key: str, flow_id: str | None) -> str:
    """The publish lease of an existing flow is its id (shared with single publishes); a flow the
    release creates is leased by type and name, so two releases cannot both create it."""
    return flow_id or f"new:{key}"


# ---- PrepareRelease ------------------------------------------------------------------------------


def prepare_release(
    run: RunRef, request: ReleaseRequest, ports: ReleasePorts, *, now: float
) -> PreparedRelease:
    """Load the bundle, plan and validate it, take leases, keep snapshots, store every YAML."""
    _ensure_record(ports, run, request)
    plan_key = release_key(ports.org, run.run_id, "plan.json")
    refused = _refusal(request, ports)
    bundle: ReleaseBundle | None = None
    if refused is None:
        try:
            bundle = parse_bundle(
                ports.artifacts.get_bytes(request.bundle_key), expected_sha256=request.bundle_sha256
            )
        except ArtifactNotFoundError:
            refused = f"the release bundle {request.bundle_key} does not exist in the artifacts bucket"
        except BundleError as error:
            refused = error.message
    if refused is not None or bundle is None:
        return _finish_invalid(ports, run, request, plan_key, refused or "no bundle", ["BUNDLE_INVALID"])
    promotion_refused = promotion_refusal(request, ports)
    if promotion_refused is not None:
        return _finish_invalid(ports, run, request, plan_key, promotion_refused, ["PROMOTION_REFUSED"])
    try:
        plan = compute_plan(
            bundle,
            request.environment,
            GenesysLiveOrg(ports.genesys, org=ports.org, artifacts=ports.artifacts),
            lock=_current_lock(ports),
            objects=ports.genesys,
        )
    except BundleError as error:
        return _finish_invalid(ports, run, request, plan_key, error.message, ["BUNDLE_INVALID"])
    ports.artifacts.put_json(plan_key, {"status": plan.status, **plan.model_dump(mode="json")})
    if plan.status == "invalid":
        summary = f"release invalid: {len(plan.errors)} error(s): " + "; ".join(f.line() for f in plan.errors)
        return _finish_invalid(ports, run, request, plan_key, summary, sorted({f.code for f in plan.errors}))
    details = _record_details(plan)
    if plan.status == "no-changes":
        _move(ports, run.run_id, "RUNNING", details)
        _move(ports, run.run_id, "SUCCEEDED", {"outcome": "NOTHING_TO_RELEASE"})
        _audit(ports, run, request.requester, "release.released", {"flows": 0, **_facts(plan, request)})
        return PreparedRelease(
            ok=True,
            nothing_to_do=True,
            summary="no changes: nothing to release",
            plan_key=plan_key,
            timing=request.timing,
        )
    # The leases outlive the release's own worst case, and a release waiting for approval keeps
    # them through the approval window too.
    lease_seconds = request.timing.lease_seconds_for(len(plan.changed), len(plan.waves))
    if ports.approval_required:
        lease_seconds += ports.approval_window_seconds
    lease_timing = request.timing.model_copy(update={"lease_seconds": lease_seconds})
    held = _take_leases(ports, run, plan, lease_timing, now=now)
    if held is not None:
        return _finish_invalid(ports, run, request, plan_key, held, ["FLOW_PUBLISH_IN_PROGRESS"])
    waves = _prepared_waves(ports, plan)
    _move(ports, run.run_id, "RUNNING", details)
    _audit(ports, run, request.requester, "release.started", _facts(plan, request))
    counts = plan.counts()
    summary = (
        f"{len(plan.changed)} flow(s) in {len(waves)} wave(s): {counts['create']} create, "
        f"{counts['update']} update, {counts['republish']} republish, "
        f"{counts['unchanged']} unchanged (skipped)"
    )
    return PreparedRelease(
        ok=True,
        summary=summary,
        plan_key=plan_key,
        waves=waves,
        timing=request.timing,
        approval_required=ports.approval_required,
    )


def _refusal(request: ReleaseRequest, ports: ReleasePorts) -> str | None:
    if ports.environment and request.environment != ports.environment:
        return (
            f"this stack serves environment {ports.environment!r}, the release is for "
            f"{request.environment!r}: send it to that environment's stack"
        )
    if not request.bundle_key.startswith(f"releases/{ports.org}/bundles/"):
        return f"bundle key {request.bundle_key!r} is not a release bundle of org {ports.org!r}"
    return None


def promotion_refusal(request: ReleaseRequest, ports: ReleasePorts) -> str | None:
    """The stack's own check of a promotion: it must come from the environment before this one in
    the chain. (Whether that release SUCCEEDED there is checked by `flowops promote`, which can
    read both stacks; this stack cannot read the previous one's records.)"""
    if not request.promoted_from or not ports.environment:
        return None  # not a promotion, or a stack serving any environment (no place in a chain)
    source, _, release = request.promoted_from.partition(":")
    if not ports.promotes_from:
        return (
            f"promotion refused: {ports.environment!r} is first in the promotion chain (or the stack "
            f"has none): release {release} to it directly, do not promote"
        )
    if source != ports.promotes_from:
        return (
            f"promotion refused: {ports.environment!r} takes promotions from {ports.promotes_from!r} "
            f"only, not from {source!r}"
        )
    return None


def _current_lock(ports: ReleasePorts) -> Lockfile | None:
    pointer = ports.pointers.get_current(ports.org)
    if pointer is None:
        return None
    return parse_lock(ports.artifacts.get_bytes(pointer.key), expected_sha256=pointer.sha)


def _ensure_record(ports: ReleasePorts, run: RunRef, request: ReleaseRequest) -> None:
    if ports.runs.get(run.run_id) is not None:
        return
    with contextlib.suppress(RunTransitionError):  # a concurrent retry created it
        ports.runs.create(
            run.run_id,
            RUN_KIND,
            org=ports.org,
            details={
                "environment": request.environment,
                "requester": request.requester,
                "reason": request.reason,
                "bundle_key": request.bundle_key,
                "bundle_sha256": request.bundle_sha256,
                "promoted_from": request.promoted_from or "",
            },
        )


def _record_details(plan: ReleasePlan) -> dict[str, Any]:
    return {
        "source_revision": plan.source_revision,
        "waves": len(plan.waves),
        "flows": [
            {
                "key": flow.key,
                "action": flow.action,
                "flow_id": flow.flow_id or "",
                "wave": -1 if flow.wave is None else flow.wave,
                "version_before": flow.live_version or "",
                "why": "; ".join(flow.reasons)[:300],
            }
            for flow in plan.flows
        ],
    }


def _facts(plan: ReleasePlan, request: ReleaseRequest) -> dict[str, Any]:
    return {
        "environment": request.environment,
        "bundle_sha256": plan.bundle_sha256,
        "source_revision": plan.source_revision,
        "reason": request.reason,
        "counts": plan.counts(),
        "promoted_from": request.promoted_from or "",
    }


def _finish_invalid(
    ports: ReleasePorts, run: RunRef, request: ReleaseRequest, plan_key: str, summary: str, codes: list[str]
) -> PreparedRelease:
    _move(ports, run.run_id, "FAILED", {"outcome": "INVALID", "cause": summary[:4000], "error_codes": codes})
    _audit(
        ports,
        run,
        request.requester,
        "release.validation_failed",
        {"cause": summary[:_CAUSE_LIMIT], "codes": codes},
    )
    return PreparedRelease(
        ok=False, summary=summary[:_CAUSE_LIMIT], plan_key=plan_key, timing=request.timing, error_codes=codes
    )


def _take_leases(
    ports: ReleasePorts, run: RunRef, plan: ReleasePlan, timing: ReleaseTiming, *, now: float
) -> str | None:
    taken: list[str] = []
    for flow in plan.changed:
        lease = lease_id(flow.key, flow.flow_id)
        try:
            ports.leases.acquire(ports.org, lease, run.run_id, now=now, ttl_seconds=timing.lease_seconds)
        except LeaseHeldError as busy:
            for held in taken:
                ports.leases.release(ports.org, held, run.run_id)
            return f"{flow.key}: {busy.message}"
        taken.append(lease)
    return None


def _release_leases(ports: ReleasePorts, run: RunRef, plan: dict[str, Any]) -> int:
    """Free every lease of the plan's changed flows THIS run holds; how many it held."""
    freed = 0
    for flow in plan.get("flows", []):
        if flow["action"] != "unchanged":
            freed += ports.leases.release(ports.org, lease_id(flow["key"], flow.get("flow_id")), run.run_id)
    return freed


def _prepared_waves(ports: ReleasePorts, plan: ReleasePlan) -> list[PreparedWave]:
    waves = []
    for wave in plan.waves:
        items = []
        for key in wave.flows:
            flow = plan.flow(key)
            deploy_key = yaml_key(ports.org, flow.deploy_yaml)
            ports.artifacts.put_immutable(deploy_key, flow.deploy_yaml.encode("utf-8"), YAML_CONTENT_TYPE)
            if flow.flow_id and flow.live_version:
                snapshot = flow_yaml_key(ports.org, flow.flow_id, flow.live_version)
                if not ports.artifacts.exists(snapshot):  # the plan exported it; never start without it
                    raise ReleaseError(f"the snapshot of {key} version {flow.live_version} is missing")
            items.append(
                WaveItem(
                    key=key,
                    action=flow.action,
                    flow_id=flow.flow_id,
                    yaml_key=deploy_key,
                    create_stubs=flow.create_stubs,
                    snapshot_version=flow.live_version,
                )
            )
        waves.append(PreparedWave(index=wave.index, flows=items))
    return waves


def record_preparation_failed(
    run: RunRef, request: ReleaseRequest, failure: StepFailure, ports: ReleasePorts
) -> dict[str, Any]:
    """PrepareRelease failed after its retries (a crash, a store or Genesys outage): free every
    lease it may have taken, record the run FAILED, audit. Nothing was deployed.

    The leases are found from the stored plan (written before any lease is taken: no plan, no
    lease) and released fenced by owner: a conditional delete by this run's id, so a lease a
    publish or another release took meanwhile (after this one's expired) is never dropped.
    """
    cause = f"preparation failed: {failure.error}: {failure_message(failure)}"[:_CAUSE_LIMIT]
    plan_key = release_key(ports.org, run.run_id, "plan.json")
    freed = 0
    try:
        plan = ports.artifacts.get_json(plan_key)
    except ArtifactNotFoundError:
        plan = None
    if plan is not None:
        freed = _release_leases(ports, run, plan)
    record = ports.runs.get(run.run_id)
    if record is not None and record.status in ("PENDING", "RUNNING"):
        _move(ports, run.run_id, "FAILED", {"outcome": "PREPARATION_FAILED", "cause": cause})
    _audit(
        ports, run, request.requester, "release.preparation_failed", {"cause": cause, "leases_freed": freed}
    )
    return {"leases_freed": freed, "cause": cause}


# ---- one flow: deploy, poll, check ---------------------------------------------------------------


class JobClaim(BaseModel):
    """The Architect job one flow's deploy registered, written down BEFORE its upload."""

    model_config = ConfigDict(frozen=True)

    job_id: str
    started_at: float


def job_claim_key(org: str, run_id: str, purpose: str, flow_key: str) -> str:
    """`releases/<org>/runs/<runId>/jobs/<purpose>-<sha256(flow key)[:24]>.json`."""
    digest = hashlib.sha256(flow_key.encode("utf-8")).hexdigest()[:24]
    return release_key(org, run_id, f"jobs/{purpose}-{digest}.json")


def start_flow_deploy(
    run: RunRef,
    purpose: Literal["publish", "rollback"],
    item_key: str,
    yaml_key_: str,
    create_stubs: bool,
    timing: ReleaseTiming,
    ports: ReleasePorts,
    *,
    now: float,
) -> FlowProgress:
    """Register a job, write it down (the claim), upload the YAML; the progress to poll.

    Safe to repeat (Step Functions retries the step; an answer can be lost): a repeat adopts the
    job its earlier attempt claimed as long as Genesys knows it, so a deploy whose upload arrived
    but whose answer was lost is polled, never sent twice (a second job would publish one more
    version). An upload whose answer was lost, or refused as a repeat (403: a presigned URL takes
    one upload), is adopted the same way; a job that never received its YAML stays `Registered`
    until Architect fails it, having changed nothing.
    """
    claim_key = job_claim_key(ports.org, run.run_id, purpose, item_key)
    earlier = _earlier_claim(ports, claim_key)
    if earlier is not None:
        return _job_progress(item_key, earlier, timing)
    text = ports.artifacts.get_bytes(yaml_key_)
    registration = ports.genesys.register_architect_job(create_stubs=True if create_stubs else None)
    claim = JobClaim(job_id=registration.id, started_at=now)
    ports.artifacts.put_json(claim_key, claim.model_dump(mode="json"))
    try:
        ports.genesys.upload_architect_job_file(registration, text)
    except GenesysError as error:
        if isinstance(error, WriteOutcomeUnknownError) or error.status == 403:
            return _job_progress(item_key, claim, timing)
        if isinstance(error, GenesysUnavailableError):
            # Certainly never sent: forget the job, so the retried step registers another
            # instead of waiting for this one to expire.
            with contextlib.suppress(StoreError):  # then the retry waits for it to expire
                ports.artifacts.put_json(
                    claim_key, JobClaim(job_id="", started_at=now).model_dump(mode="json")
                )
        raise
    return _job_progress(item_key, claim, timing)


def _earlier_claim(ports: ReleasePorts, claim_key: str) -> JobClaim | None:
    """The job an earlier attempt of this step registered, if Genesys still knows it."""
    try:
        claim = JobClaim.model_validate(ports.artifacts.get_json(claim_key))
    except ArtifactNotFoundError:
        return None
    if not claim.job_id:
        return None
    try:
        ports.genesys.get_architect_job(claim.job_id)
    except NotFoundError:
        return None
    return claim


def _job_progress(item_key: str, claim: JobClaim, timing: ReleaseTiming) -> FlowProgress:
    return FlowProgress(
        key=item_key,
        mode="job",
        job_id=claim.job_id,
        started_at=claim.started_at,
        wait_seconds=timing.first_poll_seconds,
    )


def start_flow_publish(
    run: RunRef, item: WaveItem, timing: ReleaseTiming, ports: ReleasePorts, *, now: float
) -> FlowProgress:
    """Deploy the flow's YAML through the Architect jobs API (creates the flow when it is new)."""
    return start_flow_deploy(
        run, "publish", item.key, item.yaml_key, item.create_stubs, timing, ports, now=now
    )


def check_flow_job(
    progress: FlowProgress, timing: ReleaseTiming, ports: ReleasePorts, *, now: float, rollback: bool = False
) -> FlowProgress:
    """One poll of the flow's job: finished, still running (next wait), or raise."""
    if progress.finished or progress.mode == "done":
        return progress.model_copy(update={"finished": True})
    failed = FlowRollbackFailedError if rollback else FlowPublishFailedError
    job = ports.genesys.get_architect_job(str(progress.job_id))
    messages = [f"{m.type or 'Message'}: {m.text or ''}" for m in job.messages][:20]
    status = job.status or "Registered"
    what = "rollback" if rollback else "publish"
    if status == "Failure":
        raise failed(f"the {what} job of {progress.key} failed: " + (" | ".join(messages) or "no message"))
    if status == "Success":
        return progress.model_copy(
            update={
                "finished": True,
                "status": status,
                "messages": messages,
                "polls": progress.polls + 1,
                "flow_id": job.flow.id if job.flow else progress.flow_id,
            }
        )
    elapsed = max(0.0, now - progress.started_at) * ports.time_scale
    if elapsed >= timing.job_deadline_seconds:
        raise failed(
            f"the {what} job {progress.job_id} of {progress.key} was still {status} after {elapsed:.0f} s "
            f"(deadline {timing.job_deadline_seconds:.0f} s)"
        )
    return progress.model_copy(
        update={
            "status": status,
            "polls": progress.polls + 1,
            "wait_seconds": next_wait_seconds(timing, progress.polls + 1),
        }
    )


def check_flow_health(
    item: WaveItem, progress: FlowProgress, timing: ReleaseTiming, ports: ReleasePorts
) -> FlowResult:
    """The flow the job deployed is the flow planned, publishes a NEW version, and validates."""
    flow_id = progress.flow_id or item.flow_id
    if flow_id is None:
        raise FlowPublishFailedError(f"the job of {item.key} finished without naming the flow it deployed")
    if item.flow_id and flow_id != item.flow_id:
        raise FlowPublishFailedError(
            f"{item.key} was deployed to flow {flow_id}, not the planned {item.flow_id} "
            "(renamed or recreated meanwhile)"
        )
    live = ports.genesys.get_flow(flow_id)
    version = published_version(live)
    if version is None or version == item.snapshot_version:
        raise FlowPublishFailedError(
            f"{item.key} publishes {version}, not a new version (was {item.snapshot_version})"
        )
    deployed = ports.artifacts.get_bytes(item.yaml_key)
    if timing.verify_content:
        _verify_content(item.key, flow_id, version, deployed, ports, failed=FlowPublishFailedError)
    if timing.validate_job:
        _validate_job(item.key, flow_id, version, ports)
    # What this release deployed is the next plan's comparison source and rollback source.
    ports.artifacts.put_immutable(flow_yaml_key(ports.org, flow_id, version), deployed, YAML_CONTENT_TYPE)
    keep_consumed_resources(ports, item.key, flow_id, version)
    return FlowResult(
        key=item.key, ok=True, flow_id=flow_id, version_before=item.snapshot_version, version_after=version
    )


def _verify_content(
    key: str,
    flow_id: str,
    version: str,
    deployed: bytes,
    ports: ReleasePorts,
    *,
    failed: type[FlowPublishFailedError] | type[FlowRollbackFailedError],
) -> None:
    """The live `version` runs the deployed content (type, name, description, references: what an
    export keeps), so a deploy by someone else in between is never recorded as this release's."""
    try:
        expected = content_fingerprint(deployed.decode("utf-8"))
    except UnreadableContentError:
        return  # nothing to compare with (the plan read it, so this does not happen)
    try:
        actual = content_fingerprint(export_flow_yaml(ports.genesys, flow_id, version))
    except (ExportFailedError, UnreadableContentError) as error:
        raise failed(
            f"{key} version {version} could not be exported to check its content: {error}"
        ) from error
    if actual != expected:
        raise failed(
            f"{key} version {version} does not run the deployed content (fingerprints {actual[:12]}, "
            f"deployed {expected[:12]}): another deploy changed it"
        )


def _validate_job(key: str, flow_id: str, version: str, ports: ReleasePorts) -> None:
    errors = validate_job_errors(ports.genesys, flow_id, version)
    # None: validate jobs are a preview API, an org without them skips this check.
    if errors:
        raise FlowPublishFailedError(
            f"Genesys' validation of {key} version {version} reports: " + " | ".join(errors)
        )


# ---- the lock ------------------------------------------------------------------------------------


def consumed_key(org: str, flow_id: str, version: str) -> str:
    """`releases/<org>/consumed/<flowId>/<version>.json`: what a version the release published
    consumes, read by its per-flow step (in parallel, retried) for the lock advance at the end."""
    return f"releases/{org}/consumed/{flow_id}/{version}.json"


def keep_consumed_resources(ports: ReleasePorts, key: str, flow_id: str, version: str) -> None:
    """Store what the new version consumes. Unreadable (the index does not know the version yet,
    or this client may not read it) is no failure of the flow: the lock leaves it to the next scan."""
    flow_type = key.partition("/")[0]
    try:
        consumed = consumed_resources(ports.genesys, flow_id, flow_type, version)
    except (NotFoundError, ForbiddenError):
        return
    if consumed is not None:
        ports.artifacts.put_json(
            consumed_key(ports.org, flow_id, version), [c.model_dump(mode="json") for c in consumed]
        )


def advance_lock(ports: ReleasePorts, run: RunRef, results: list[FlowResult]) -> str | None:
    """Advance the org's lock by every flow the release changed, in ONE pointer advance (a scan
    that moved the pointer meanwhile is built on, never overwritten). A published or restored
    flow takes its new version and consumed resources (a created flow is added); a deleted flow
    leaves. A flow whose consumed resources were not read is left to the next scan."""
    changes: list[FlowChange] = []
    for result in results:
        if not result.ok or not result.flow_id:
            continue
        flow_type, _, name = result.key.partition("/")
        if result.version_after is None:  # a rollback deleted the flow the release created
            changes.append(FlowChange(flow_id=result.flow_id, name=name, type=flow_type, version=None))
            continue
        try:
            rows = ports.artifacts.get_json(consumed_key(ports.org, result.flow_id, result.version_after))
        except ArtifactNotFoundError:
            continue
        consumed = [ConsumedResource.model_validate(row) for row in rows]
        version = result.version_after
        changes.append(
            FlowChange(flow_id=result.flow_id, name=name, type=flow_type, version=version, consumed=consumed)
        )
    if not changes:
        return None
    return advance_current_lock(
        ports, lambda lock: with_flow_changes(lock, changes), writer=f"release-{run.run_id}"
    )


# ---- waves ---------------------------------------------------------------------------------------


def record_wave(
    run: RunRef, wave: int, results: list[FlowResult], ports: ReleasePorts, *, rollback: bool = False
) -> dict[str, Any]:
    """Keep the wave's results (S3); a publish wave with a failed flow raises `Release.WaveFailed`."""
    name = f"{'rollback' if rollback else 'publish'}-wave-{wave:03d}.json"
    ports.artifacts.put_json(
        release_key(ports.org, run.run_id, name), [r.model_dump(mode="json") for r in results]
    )
    failed = [result for result in results if not result.ok]
    if failed and not rollback:
        raise WaveFailedError(
            f"wave {wave + 1}: {len(failed)} of {len(results)} flow(s) failed: "
            + " | ".join(
                f"{r.key}: {r.error}: {failure_message(StepFailure(Error=r.error, Cause=r.cause))}"
                for r in failed
            )[:_CAUSE_LIMIT]
        )
    return {"wave": wave, "flows": len(results), "failed": len(failed)}


def _wave_results(ports: ReleasePorts, run: RunRef, prefix: str) -> list[FlowResult]:
    results: list[FlowResult] = []
    for key in ports.artifacts.list_keys(release_key(ports.org, run.run_id, f"{prefix}-wave-")):
        results.extend(FlowResult.model_validate(row) for row in ports.artifacts.get_json(key))
    return results


def record_release(
    run: RunRef, prepared: PreparedRelease, requester: str, ports: ReleasePorts
) -> ReleaseOutcome:
    """Every wave published: record the versions, announce, free the leases."""
    results = _wave_results(ports, run, "publish")
    plan = ports.artifacts.get_json(prepared.plan_key)
    after = {r.key: r for r in results}
    flows = [
        {
            **flow,
            "version_after": after[flow["key"]].version_after or "",
            "flow_id": after[flow["key"]].flow_id or "",
        }
        if flow["key"] in after
        else flow
        for flow in _recorded_flows(ports, run)
    ]
    outcome = ReleaseOutcome(
        run_id=run.run_id,
        status="RELEASED",
        environment=plan["environment"],
        summary=f"released {len(results)} flow(s) in {len(prepared.waves)} wave(s)",
        flows=sorted(results, key=lambda r: r.key),
        started_at=run.started_at,
    )
    ports.artifacts.put_json(
        release_key(ports.org, run.run_id, "release.json"), outcome.model_dump(mode="json")
    )
    lock_sha = advance_lock(ports, run, results)
    _move(
        ports, run.run_id, "SUCCEEDED", {"outcome": "RELEASED", "flows": flows, "lock_sha256": lock_sha or ""}
    )
    _audit(
        ports, run, requester, "release.released", {"flows": len(results), "environment": plan["environment"]}
    )
    _release_leases(ports, run, plan)
    return outcome


def _recorded_flows(ports: ReleasePorts, run: RunRef) -> list[dict[str, Any]]:
    record = ports.runs.get(run.run_id)
    return list(record.details.get("flows", [])) if record else []


# ---- rollback ------------------------------------------------------------------------------------


def plan_rollback(
    run: RunRef, prepared: PreparedRelease, failure: StepFailure, requester: str, ports: ReleasePorts
) -> RollbackPlan:
    """What each flow the release may have changed needs, judged from the LIVE org."""
    cause = f"{failure.error}: {failure_message(failure)}"[:_CAUSE_LIMIT]
    plan = ports.artifacts.get_json(prepared.plan_key)
    live = GenesysLiveOrg(ports.genesys, org=ports.org, artifacts=ports.artifacts)
    results = {r.key: r for r in _wave_results(ports, run, "publish")}
    updated_modules = {
        flow["name"]
        for flow in plan["flows"]
        if flow["flow_type"] == "COMMONMODULE" and flow["action"] in ("update", "republish")
    }
    flows = {flow["key"]: flow for flow in plan["flows"]}
    items: dict[int, list[RollbackItem]] = {}
    rebind: list[RollbackItem] = []
    for wave in prepared.waves:
        for item in wave.flows:
            decided = _rollback_item(item, results.get(item.key), live, ports)
            if decided.action == "nothing":
                continue
            calls_updated_module = any(
                ref in updated_modules for ref in _module_calls(ports, item) if item.action != "create"
            )
            (rebind if calls_updated_module else items.setdefault(wave.index, [])).append(decided)
    ordered = [RollbackWave(index=i, flows=items[i]) for i in sorted(items, reverse=True)]
    if rebind:
        ordered.append(RollbackWave(index=len(prepared.waves), flows=rebind))
    failed_wave = _failed_wave(ports, run)
    _move(
        ports,
        run.run_id,
        "ROLLING_BACK",
        {"cause": cause, "failed_wave": -1 if failed_wave is None else failed_wave},
    )
    _audit(
        ports,
        run,
        requester,
        "release.rolling_back",
        {"cause": cause, "flows": sum(len(w.flows) for w in ordered)},
    )
    del flows
    return RollbackPlan(waves=ordered, failed_wave=failed_wave, cause=cause)


def _module_calls(ports: ReleasePorts, item: WaveItem) -> list[str]:
    from flowops.flowyaml import FlowYamlError, ReferenceKind, parse_flow_yaml

    try:
        document = parse_flow_yaml(ports.artifacts.get_bytes(item.yaml_key).decode("utf-8"))
    except FlowYamlError:
        return []
    return [ref.name for ref in document.references if ref.kind is ReferenceKind.COMMONMODULE]


def _failed_wave(ports: ReleasePorts, run: RunRef) -> int | None:
    failed = None
    for key in ports.artifacts.list_keys(release_key(ports.org, run.run_id, "publish-wave-")):
        if any(not row["ok"] for row in ports.artifacts.get_json(key)):
            failed = int(key.rsplit("-", 1)[1].split(".")[0])
    return failed


def _rollback_item(
    item: WaveItem, result: FlowResult | None, live: GenesysLiveOrg, ports: ReleasePorts
) -> RollbackItem:
    if item.action == "create":
        flow_type, _, name = item.key.partition("/")
        created = (result.flow_id if result and result.flow_id else None) or (
            found.id if (found := live.find_flow(flow_type, name)) else None
        )
        return RollbackItem(key=item.key, action="delete" if created else "nothing", flow_id=created)
    assert item.flow_id is not None
    try:
        current = ports.genesys.get_flow(item.flow_id)
    except NotFoundError:
        current = None
    version = published_version(current) if current is not None and not current.deleted else None
    if version == item.snapshot_version or item.snapshot_version is None:
        # Never moved (the wave never reached it, or its job failed without publishing); or it had
        # no published version to go back to (recorded as left at `version`).
        return RollbackItem(key=item.key, action="nothing", flow_id=item.flow_id, live_version=version)
    return RollbackItem(
        key=item.key,
        action="redeploy",
        flow_id=item.flow_id,
        snapshot_key=flow_yaml_key(ports.org, item.flow_id, item.snapshot_version),
        snapshot_version=item.snapshot_version,
        live_version=version,
    )


def start_flow_rollback(
    run: RunRef, item: RollbackItem, timing: ReleaseTiming, ports: ReleasePorts, *, now: float
) -> FlowProgress:
    """Redeploy the snapshot YAML, or delete a flow the release created."""
    if item.action == "delete":
        assert item.flow_id is not None
        with contextlib.suppress(NotFoundError):  # already gone (a retried step)
            ports.genesys.delete_flow(item.flow_id)
        return FlowProgress(
            key=item.key, mode="done", finished=True, started_at=now, wait_seconds=0, flow_id=item.flow_id
        )
    if item.action == "redeploy" and item.snapshot_key is not None:
        progress = start_flow_deploy(
            run, "rollback", item.key, item.snapshot_key, False, timing, ports, now=now
        )
        return progress.model_copy(update={"flow_id": item.flow_id})
    return FlowProgress(
        key=item.key, mode="done", finished=True, started_at=now, wait_seconds=0, flow_id=item.flow_id
    )


def verify_flow_restored(
    item: RollbackItem, progress: FlowProgress, ports: ReleasePorts, timing: ReleaseTiming | None = None
) -> FlowResult:
    """The flow a rollback deleted is gone; a restored flow publishes a new version running the
    snapshot's content."""
    timing = timing or ReleaseTiming()
    assert item.flow_id is not None
    if item.action == "delete":
        try:
            gone = ports.genesys.get_flow(item.flow_id).deleted
        except NotFoundError:
            gone = True
        if not gone:
            raise FlowRollbackFailedError(f"{item.key} ({item.flow_id}) still exists after its deletion")
        return FlowResult(key=item.key, ok=True, flow_id=item.flow_id, version_before=item.live_version)
    live = ports.genesys.get_flow(item.flow_id)
    version = published_version(live)
    if (
        version is None
        or version == item.live_version
        or (progress.flow_id and progress.flow_id != item.flow_id)
    ):
        raise FlowRollbackFailedError(f"{item.key} still publishes {version} after redeploying its snapshot")
    if item.snapshot_key is not None:
        snapshot = ports.artifacts.get_bytes(item.snapshot_key)
        if timing.verify_content:
            _verify_content(item.key, item.flow_id, version, snapshot, ports, failed=FlowRollbackFailedError)
        ports.artifacts.put_immutable(
            flow_yaml_key(ports.org, item.flow_id, version), snapshot, YAML_CONTENT_TYPE
        )
    keep_consumed_resources(ports, item.key, item.flow_id, version)
    return FlowResult(
        key=item.key, ok=True, flow_id=item.flow_id, version_before=item.live_version, version_after=version
    )


def record_rolled_back(
    run: RunRef, prepared: PreparedRelease, rollback: RollbackPlan, requester: str, ports: ReleasePorts
) -> ReleaseOutcome:
    """ROLLED_BACK when every flow was restored, else ROLLBACK_FAILED (notified) with what is left."""
    results = _wave_results(ports, run, "rollback")
    plan = ports.artifacts.get_json(prepared.plan_key)
    failed = [r for r in results if not r.ok]
    status: Literal["ROLLBACK_FAILED", "ROLLED_BACK"] = "ROLLBACK_FAILED" if failed else "ROLLED_BACK"
    if failed:
        left = " | ".join(
            f"{r.key}: {failure_message(StepFailure(Error=r.error, Cause=r.cause))}" for r in failed
        )
        cause = (
            f"{rollback.cause} — rollback FAILED for {len(failed)} flow(s): {left}. Restore them from "
            + (f"s3://<artifacts>/flows/{ports.org}/<flowId>/<version>.yaml (the snapshots), then rescan.")
        )
    else:
        cause = f"{rollback.cause} — rolled back: {len(results)} flow(s) restored to their snapshots"
    cause = cause[: _CAUSE_LIMIT * 2]
    outcome = ReleaseOutcome(
        run_id=run.run_id,
        status=status,
        environment=plan["environment"],
        summary=cause[:300],
        cause=cause,
        flows=sorted(results, key=lambda r: r.key),
        notification_subject=f"flowops: release {run.run_id} rollback FAILED, manual fix needed"[:99]
        if failed
        else "",
        started_at=run.started_at,
    )
    ports.artifacts.put_json(
        release_key(ports.org, run.run_id, "release.json"), outcome.model_dump(mode="json")
    )
    lock_sha = advance_lock(ports, run, results)
    published = {r.key: r for r in _wave_results(ports, run, "publish") if r.ok}
    flows = [
        {
            **flow,
            "version_after": published[flow["key"]].version_after or "",
            "flow_id": published[flow["key"]].flow_id or "",
        }
        if flow["key"] in published
        else flow
        for flow in _recorded_flows(ports, run)
    ]
    _move(
        ports,
        run.run_id,
        status,
        {
            "outcome": status,
            "cause": cause[:4000],
            "flows": flows,
            "restored": [r.model_dump(mode="json") for r in results],
            "lock_sha256": lock_sha or "",
        },
    )
    _audit(
        ports,
        run,
        requester,
        "release.rollback_failed" if failed else "release.rolled_back",
        {"cause": cause[:_CAUSE_LIMIT]},
    )
    _release_leases(ports, run, plan)
    return outcome


# ---- helpers -------------------------------------------------------------------------------------


def _audit(ports: ReleasePorts, run: RunRef, actor: str, kind: str, details: dict[str, Any]) -> None:
    ports.audit.append(
        ports.org,
        kind,
        actor=actor,
        subject=f"release {run.run_id}",
        details={"run_id": run.run_id, **details},
        event_id=event_id(run.run_id, kind),
    )


def _move(ports: ReleasePorts, run_id: str, to_status: Any, details: dict[str, Any]) -> None:
    """Transition the release record from whatever it is now; a repeat of the same move is a no-op."""
    ports.runs.move(run_id, to_status, details=details)


# ---- approval ------------------------------------------------------------------------------------

APPROVAL_KIND = "release-approval"


def approval_item_id(run_id: str) -> str:
    """The item holding a waiting release's task token (never shown by `releases show`)."""
    return f"{run_id}-approval"


def request_approval(
    run: RunRef, prepared: PreparedRelease, token: str, requester: str, ports: ReleasePorts
) -> dict[str, Any]:
    """Keep the task token where `flowops approve` finds it; the release waits until then."""
    item = approval_item_id(run.run_id)
    if ports.runs.get(item) is None:
        with contextlib.suppress(RunTransitionError):
            ports.runs.create(
                item, APPROVAL_KIND, org=ports.org, details={"task_token": token, "summary": prepared.summary}
            )
    _audit(ports, run, requester, "release.approval_requested", {"summary": prepared.summary[:_CAUSE_LIMIT]})
    return {"waiting": True}


def approval_token(runs: RunStore, run_id: str) -> str:
    item = runs.get(approval_item_id(run_id))
    if item is None or item.kind != APPROVAL_KIND or item.status != "PENDING":
        raise ReleaseError(f"release {run_id} is not waiting for an approval")
    return str(item.details["task_token"])


def close_approval(
    runs: RunStore, audit: AuditLog, org: str, run_id: str, *, approved: bool, by: str, reason: str
) -> None:
    """Mark the approval decided (a second `approve` is refused) and audit who decided."""
    item = approval_item_id(run_id)
    runs.transition(item, "PENDING", "RUNNING", details={"decided_by": by})
    runs.transition(item, "RUNNING", "SUCCEEDED" if approved else "FAILED", details={"reason": reason[:1000]})
    kind = "release.approved" if approved else "release.rejected"
    audit.append(
        org,
        kind,
        actor=by,
        subject=f"release {run_id}",
        details={"run_id": run_id, "reason": reason[:1000]},
        event_id=event_id(run_id, kind),
    )


def record_not_approved(
    run: RunRef, prepared: PreparedRelease, failure: StepFailure, requester: str, ports: ReleasePorts
) -> ReleaseOutcome:
    """Rejected (or the approval window passed): nothing was deployed; record it, free the leases."""
    cause = f"not approved: {failure.error}: {failure_message(failure)}"[:_CAUSE_LIMIT]
    plan = ports.artifacts.get_json(prepared.plan_key)
    _move(ports, run.run_id, "FAILED", {"outcome": "NOT_APPROVED", "cause": cause})
    _audit(ports, run, requester, "release.not_approved", {"cause": cause})
    _release_leases(ports, run, plan)
    return ReleaseOutcome(
        run_id=run.run_id, status="INVALID", environment=plan["environment"], summary=cause, cause=cause
    )
