"""The backstop for runs their state machine could not finish: timed out, aborted, or failed
where recording the failure failed too.

Step Functions cannot catch its own execution timeout or a StopExecution, so an EventBridge rule
on each workflow's "Execution Status Change" (TIMED_OUT, ABORTED; FAILED for publish and
release) invokes `record_unfinished_run` with what DescribeExecution says. It finishes what the
machine's own last steps would have done, idempotently (EventBridge and Lambda may deliver twice):

- **Already recorded?** A publish or release whose run item is already terminal (the machine's
  Record* step ran: FAILED, ROLLED_BACK, ROLLBACK_FAILED, SUCCEEDED, RELEASE_UNRECORDED, or this
  backstop's INTERRUPTED) is left as it is: no second record, audit event or page; its leases are
  still freed if it holds any (a fenced delete: only what THIS run holds).
- **Leases.** A publish frees its flow's lease (the flow id the run item notes before the lease
  is taken, or the execution input's); a release frees every changed flow's lease of its plan
  (`releases/<org>/runs/<runId>/plan.json`, stored before the leases are taken). Scans and traces
  hold none.
- **Record.** The run item moves to INTERRUPTED with `interrupted_by` (the execution status), the
  execution's error/cause, the leases it freed (`leases_released`; what `flowops` commands say),
  and, when Genesys may have been changed without being verified or
  restored (a publish job noted, a release deploying or rolling back), `manual_check`: what to
  compare and how to restore. A run item the execution never created is created first. Scans and
  traces have no run item: their audit event is the record.
- **Audit.** `<workflow>.interrupted` (event id `<runId>:<workflow>.interrupted`, idempotent).
- **Notify.** People (the workflow's RollbackFailed topic) when Genesys may have been left
  changed, unless the execution ended `<Workflow>.RollbackFailed` (the machine paged already);
  else the alarm topic for TIMED_OUT and FAILED; an ABORTED run that changed nothing pages nobody
  (someone stopped it). The notification is sent before the run item moves, so a retry after a
  failed move notifies again rather than never.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from flowops.publish.lease import PublishLeaseStore
from flowops.store import ArtifactNotFoundError, ArtifactStore, AuditLog, RunItem, RunStore
from flowops.store.errors import RunTransitionError

Workflow = Literal["publish", "release", "scan", "trace"]
EndStatus = Literal["TIMED_OUT", "ABORTED", "FAILED"]
Audience = Literal["people", "alarm", "none"]

# A run item in one of these was finished by its state machine (or by this backstop already).
RECORDED_STATUSES = frozenset(
    {"SUCCEEDED", "FAILED", "ROLLED_BACK", "ROLLBACK_FAILED", "RELEASE_UNRECORDED", "INTERRUPTED"}
)
# The execution error with which a machine ends after it paged people itself.
ALREADY_PAGED_ERRORS = frozenset({"Publish.RollbackFailed", "Release.RollbackFailed"})
_TEXT_LIMIT = 2000
_SUBJECT_LIMIT = 99


class EndedExecution(BaseModel):
    """What DescribeExecution says of an execution that ended without finishing its run."""

    model_config = ConfigDict(frozen=True)

    execution_arn: str
    name: str
    """The execution name: the run id of a publish or release."""
    status: EndStatus
    input: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    cause: str | None = None
    start_date: str = ""
    stop_date: str = ""


class UnfinishedOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    workflow: Workflow
    run_id: str
    execution_status: EndStatus
    recorded: bool
    """False when the run had already recorded its end: nothing was written but freed leases."""
    run_status: str | None
    """The run item's status afterwards (None: scans and traces have no run item)."""
    leases_released: list[str] = Field(default_factory=list)
    genesys_may_have_changed: bool = False
    notified: Audience = "none"
    summary: str


Notify = Callable[[Audience, str, dict[str, Any]], None]
"""(audience, subject, message): publish one notification to the topic of that audience."""


@dataclass(kw_only=True)
class UnfinishedPorts:
    org: str
    runs: RunStore
    audit: AuditLog
    leases: PublishLeaseStore
    artifacts: ArtifactStore
    notify: Notify


@dataclass(frozen=True)
class _Assessment:
    run: RunItem | None
    subject: str
    actor: str
    leases: list[str]
    changed: bool
    manual_check: str | None


def record_unfinished_run(
    workflow: Workflow, execution: EndedExecution, ports: UnfinishedPorts
) -> UnfinishedOutcome:
    """Free the leases, record, audit and notify what the execution could not (module docstring)."""
    run_id = execution.name
    if workflow in ("publish", "release"):
        assessment = (
            _assess_publish(execution, ports) if workflow == "publish" else _assess_release(execution, ports)
        )
    else:
        assessment = _Assessment(
            run=None,
            subject=f"{workflow} {run_id}",
            actor=execution.execution_arn,
            leases=[],
            changed=False,
            manual_check=None,
        )
    released = [lease for lease in assessment.leases if ports.leases.release(ports.org, lease, run_id)]
    run = assessment.run
    if run is not None and run.status in RECORDED_STATUSES:
        return UnfinishedOutcome(
            workflow=workflow,
            run_id=run_id,
            execution_status=execution.status,
            recorded=False,
            run_status=run.status,
            leases_released=released,
            summary=f"{workflow} run {run_id} had already recorded its end ({run.status}); nothing recorded",
        )
    cause = _cause(workflow, execution, assessment)
    ports.audit.append(
        ports.org,
        f"{workflow}.interrupted",
        actor=assessment.actor,
        subject=assessment.subject,
        details={
            "run_id": run_id,
            "execution_status": execution.status,
            "error": execution.error or "",
            "cause": cause[:_TEXT_LIMIT],
            "genesys_may_have_changed": assessment.changed,
            "leases_released": released,
        },
        event_id=f"{run_id}:{workflow}.interrupted",
    )
    audience = _audience(execution, assessment)
    if audience != "none":
        ports.notify(
            audience,
            f"flowops: {workflow} run {run_id} {execution.status.lower().replace('_', ' ')}"[:_SUBJECT_LIMIT],
            {
                "workflow": workflow,
                "run_id": run_id,
                "execution_arn": execution.execution_arn,
                "status": "INTERRUPTED",
                "execution_status": execution.status,
                "error": execution.error,
                "cause": cause[:_TEXT_LIMIT],
                "genesys_may_have_changed": assessment.changed,
                "manual_check": assessment.manual_check,
            },
        )
    run_status: str | None = None
    if workflow in ("publish", "release"):
        _record_interrupted(workflow, execution, assessment, cause, released, ports)
        run_status = "INTERRUPTED"
    return UnfinishedOutcome(
        workflow=workflow,
        run_id=run_id,
        execution_status=execution.status,
        recorded=True,
        run_status=run_status,
        leases_released=released,
        genesys_may_have_changed=assessment.changed,
        notified=audience,
        summary=cause,
    )


# ---- per workflow -------------------------------------------------------------------------------


def _assess_publish(execution: EndedExecution, ports: UnfinishedPorts) -> _Assessment:
    run = ports.runs.get(execution.name)
    details = dict(run.details) if run is not None else {}
    request_flow = execution.input.get("flow") if isinstance(execution.input.get("flow"), dict) else {}
    flow_id = str(details.get("flow_id") or (request_flow or {}).get("id") or "")
    job_noted = bool(details.get("publish_job_id") or details.get("publish_requested_at"))
    status = run.status if run is not None else None
    changed = status == "ROLLING_BACK" or (status == "RUNNING" and job_noted)
    manual_check = None
    if changed:
        snapshot = details.get("snapshot_version")
        manual_check = (
            f"flow {flow_id}: this run may have published a new version that was never verified nor "
            f"rolled back. Compare the live published version with {snapshot or 'the one before this run'}"
            + (f" (its YAML: {details['snapshot_key']})" if details.get("snapshot_key") else "")
            + "; if it is not the release you want, `flowops rollback --flow "
            + f"{flow_id}` restores the last known-good release."
        )
    return _Assessment(
        run=run,
        subject=flow_id or "unknown flow",
        actor=str(details.get("requester") or execution.input.get("requester") or execution.execution_arn),
        leases=[flow_id] if flow_id else [],
        changed=changed,
        manual_check=manual_check,
    )


def _assess_release(execution: EndedExecution, ports: UnfinishedPorts) -> _Assessment:
    # Same keys as flowops.release.steps (release_key, lease_id, approval_item_id), read here
    # without importing the release workflow's Genesys-facing modules.
    run_id = execution.name
    run = ports.runs.get(run_id)
    leases: list[str] = []
    with contextlib.suppress(ArtifactNotFoundError):
        plan = ports.artifacts.get_json(f"releases/{ports.org}/runs/{run_id}/plan.json")
        for flow in plan.get("flows", []) if isinstance(plan, dict) else []:
            if isinstance(flow, dict) and flow.get("action") != "unchanged" and flow.get("key"):
                leases.append(str(flow.get("flow_id") or f"new:{flow['key']}"))
    approval = ports.runs.get(f"{run_id}-approval")
    waiting_for_approval = approval is not None and approval.status == "PENDING"
    status = run.status if run is not None else None
    changed = status == "ROLLING_BACK" or (status == "RUNNING" and not waiting_for_approval)
    manual_check = None
    if changed:
        manual_check = (
            f"release {run_id} may have deployed some of its flows and was neither finished nor rolled "
            "back. `flowops releases show "
            + run_id
            + "` lists its flows and their versions before it; compare each with what is live, and "
            "restore what should not be (`flowops rollback --flow <flow>`)."
        )
    details = dict(run.details) if run is not None else {}
    return _Assessment(
        run=run,
        subject=f"release {run_id}",
        actor=str(details.get("requester") or execution.input.get("requester") or execution.execution_arn),
        leases=leases,
        changed=changed,
        manual_check=manual_check,
    )


# ---- helpers -------------------------------------------------------------------------------------


def _cause(workflow: Workflow, execution: EndedExecution, assessment: _Assessment) -> str:
    what = {
        "TIMED_OUT": "timed out (the state machine's execution timeout)",
        "ABORTED": "was stopped (StopExecution)",
        "FAILED": "failed without recording its failure",
    }[execution.status]
    text = f"{workflow} run {execution.name} {what}"
    if execution.error or execution.cause:
        text += f": {execution.error or ''} {execution.cause or ''}".rstrip()
    if assessment.run is not None:
        text += f"; its run item was {assessment.run.status}"
    if assessment.manual_check:
        text += f". {assessment.manual_check}"
    elif workflow in ("publish", "release"):
        text += ". Nothing was changed in Genesys."
    return text


def _audience(execution: EndedExecution, assessment: _Assessment) -> Audience:
    if assessment.changed:
        return "none" if execution.error in ALREADY_PAGED_ERRORS else "people"
    return "none" if execution.status == "ABORTED" else "alarm"


def _record_interrupted(
    workflow: Workflow,
    execution: EndedExecution,
    assessment: _Assessment,
    cause: str,
    released: list[str],
    ports: UnfinishedPorts,
) -> None:
    run_id = execution.name
    if assessment.run is None:
        # The execution ended before its first step created the run item: create it, so the run
        # has a record like any other.
        with contextlib.suppress(RunTransitionError):
            ports.runs.create(
                run_id,
                workflow,
                org=ports.org,
                details={"execution_input": json.dumps(execution.input)[:_TEXT_LIMIT]},
            )
    facts: dict[str, Any] = {
        "interrupted_by": execution.status,
        "execution_error": execution.error,
        "cause": cause[:4000],
        "manual_check": assessment.manual_check,
        "leases_released": released,
        "interrupted_at": execution.stop_date,
    }
    ports.runs.move(run_id, "INTERRUPTED", details=facts)


__all__ = [
    "EndStatus",
    "EndedExecution",
    "UnfinishedOutcome",
    "UnfinishedPorts",
    "Workflow",
    "record_unfinished_run",
]
