"""State machine timeouts are derived from the step budgets, with margin, and cover every timing
a request may ask for: running out of time is a deadline the machine checks (caught, recorded,
notified), never the execution timeout nothing can catch."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import ValidationError

from flowops.publish.models import PublishTiming
from flowops.release import models as release_models
from flowops.release.bundle import MAX_FLOWS
from flowops.release.models import ReleaseTiming
from flowops.release.steps import APPROVAL_WINDOW_SECONDS
from flowops.scan.models import MAX_SCAN_PAGES, IndexPollPolicy, ScanRequest
from flowops.trace.request import TraceRequest
from infra.constructs import publish_workflow, release_workflow, trace_workflow
from infra.constructs.workflow import TIMEOUT_MARGIN
from tests.infra.conftest import SynthesizedApp
from tests.infra.definitions import all_states, definition_of, state_machines

# The audit's single-attempt worst case of a publish that rolls back (validate → record release,
# then rollback and its record), which the old 1-hour limit did not cover.
PUBLISH_SINGLE_ATTEMPT_SECONDS = 3_900


def _timeouts(app: SynthesizedApp) -> dict[str, int]:
    """Workflow (logical id stem) → its definition's TimeoutSeconds."""
    return {
        logical_id.split("StateMachine")[0]: int(
            definition_of(resource["Properties"]["DefinitionString"])["TimeoutSeconds"]
        )
        for logical_id, resource in app.template["Resources"].items()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
    }


def test_the_publish_limit_covers_its_worst_single_attempt_with_margin(
    synthesized_with_nag: SynthesizedApp,
) -> None:
    # Given the synthesized publish machine
    timeout = _timeouts(synthesized_with_nag)["PublishWorkflow"]
    # Then a publish that runs every step to its timeout and both jobs to their deadlines fits
    assert timeout >= 1.25 * PUBLISH_SINGLE_ATTEMPT_SECONDS
    # And the flow's publish lease outlives any run, so no second publish starts while one runs
    assert timeout < PublishTiming().lease_seconds


def test_the_trace_limit_exceeds_the_longest_job_deadline_a_request_may_give(
    synthesized_with_nag: SynthesizedApp,
) -> None:
    timeout = _timeouts(synthesized_with_nag)["TraceWorkflow"]
    assert timeout >= 1.25 * trace_workflow.MAX_JOB_DEADLINE_SECONDS


def test_requests_cannot_ask_for_more_time_than_the_machines_were_sized_for() -> None:
    # Given the limits the state machine timeouts were derived from
    # Then a request asking for longer job deadlines or polls is refused at its edge
    with pytest.raises(ValidationError):
        PublishTiming(publish_deadline_seconds=publish_workflow.JOB_DEADLINE_SECONDS + 1)
    with pytest.raises(ValidationError):
        PublishTiming(rollback_deadline_seconds=publish_workflow.JOB_DEADLINE_SECONDS + 1)
    with pytest.raises(ValidationError):
        PublishTiming(max_poll_seconds=publish_workflow.MAX_POLL_SECONDS + 1)
    assert TraceRequest.model_fields["deadline_seconds"].metadata
    limits = [getattr(m, "le", None) for m in TraceRequest.model_fields["deadline_seconds"].metadata]
    assert max(limit for limit in limits if limit is not None) <= trace_workflow.MAX_JOB_DEADLINE_SECONDS


# ---- scan ------------------------------------------------------------------------------------


def test_the_scan_limit_is_derived_from_its_step_budgets(synthesized_with_nag: SynthesizedApp) -> None:
    # Given the synthesized scan machine, its functions' timeouts, the largest org a scan reads
    # (MAX_SCAN_PAGES pages) and the longest index deadline a request may give
    seconds = _step_seconds(synthesized_with_nag, "scan")
    (definition,) = [
        d for i, d in state_machines(synthesized_with_nag.template).items() if i.startswith("ScanWorkflow")
    ]
    readers = dict(all_states(definition))["/Read every page of flows"]["MaxConcurrency"]
    deadline = int(_field_limit(ScanRequest, "index_deadline_seconds"))
    policy = IndexPollPolicy(deadline_seconds=deadline)
    checks, waited = 1, 0
    while waited < deadline:  # the poll policy's waits until the deadline ends the loop
        waited += policy.wait_for(checks - 1)
        checks += 1
    # The longest single attempt: every index check and wait, the listing, every round of pages,
    # the lock, the pointer and the report, each step to its Lambda timeout
    worst = (
        checks * seconds["check_index"]
        + deadline
        + seconds["list_pages"]
        + math.ceil(MAX_SCAN_PAGES / readers) * seconds["read_page"]
        + seconds["build_lock"]
        + seconds["advance_pointer"]
        + seconds["report"]
    )
    timeout = _timeouts(synthesized_with_nag)["ScanWorkflow"]
    # Then the execution timeout is that attempt with the common margin, to the minute
    assert timeout == 60 * math.ceil(TIMEOUT_MARGIN * worst / 60), (timeout, worst)
    # And it is far longer than the old 3 h, which a 100,000-flow org under one shared budget
    # (~5.7 h at 291 requests a minute) outlasted
    assert timeout > 100_000 / 291 * 60


# ---- release ---------------------------------------------------------------------------------


def _release_definition(app: SynthesizedApp) -> dict[str, Any]:
    (definition,) = [d for i, d in state_machines(app.template).items() if i.startswith("ReleaseWorkflow")]
    return definition


def _release_step_seconds(app: SynthesizedApp) -> dict[str, int]:
    """Release step module (`flowops.functions.release.<module>`) → its Lambda's timeout."""
    return _step_seconds(app, "release")


def _step_seconds(app: SynthesizedApp, area: str) -> dict[str, int]:
    """Step module of an area (`flowops.functions.<area>.<module>`) → its Lambda's timeout."""
    prefix = f"flowops.functions.{area}."
    return {
        str(resource["Properties"]["Handler"])[len(prefix) :].removesuffix(".handler"): int(
            resource["Properties"]["Timeout"]
        )
        for resource in app.template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
        and str(resource["Properties"].get("Handler", "")).startswith(prefix)
    }


def test_the_release_limit_is_derived_from_its_step_budgets(synthesized_with_nag: SynthesizedApp) -> None:
    # Given the synthesized release machine, its functions' timeouts and the largest release a
    # bundle may hold (one flow per wave: every flow its own round of the wave Maps)
    definition = _release_definition(synthesized_with_nag)
    seconds = _release_step_seconds(synthesized_with_nag)
    concurrency = _wave_concurrency(synthesized_with_nag)
    rounds = sum(math.ceil(1 / concurrency) for _ in range(MAX_FLOWS))
    approval_seconds = definition["States"]["WaitForApproval"]["TimeoutSeconds"]
    timing = ReleaseTiming()
    job_wait = _field_limit(ReleaseTiming, "job_deadline_seconds") + _field_limit(
        ReleaseTiming, "max_poll_seconds"
    )
    # The longest single attempt: prepared, approved at the window's end, every round deployed
    # (start, each job polled to its deadline plus one last wait, the health check) and its wave
    # recorded; then the last wave fails, every round is restored the same way (start, poll,
    # verify), the rollback planned and recorded.
    worst = (
        seconds["prepare"]
        + approval_seconds
        + rounds * (seconds["start_publish"] + job_wait + seconds["check_job"] + seconds["health_check"])
        + MAX_FLOWS * seconds["record_wave"]
        + seconds["plan_rollback"]
        + rounds * (seconds["start_rollback"] + job_wait + seconds["check_job"] + seconds["verify_restored"])
        + MAX_FLOWS * seconds["record_wave"]
        + seconds["record_rolled_back"]
    )
    timeout = _timeouts(synthesized_with_nag)["ReleaseWorkflow"]
    # Then the execution timeout is that attempt with the common margin, to the minute: a change
    # of any step's timeout, the job deadline, the approval window or the largest release moves it
    assert timeout == 60 * math.ceil(TIMEOUT_MARGIN * worst / 60), (timeout, worst)
    # And the default timing is inside what it was sized for
    assert timing.job_deadline_seconds + timing.max_poll_seconds <= job_wait
    # And the leases of that release (with its approval) outlast its longest attempt
    assert timing.lease_seconds_for(MAX_FLOWS, MAX_FLOWS) + APPROVAL_WINDOW_SECONDS >= worst


def test_the_release_leases_are_sized_from_the_step_timeouts(synthesized_with_nag: SynthesizedApp) -> None:
    # Given the release functions' timeouts in the synthesized stack
    seconds = _release_step_seconds(synthesized_with_nag)
    # Then the core's step allowances, which size a release's leases, cover them
    assert (
        seconds["start_publish"]
        + seconds["check_job"]
        + max(seconds["health_check"], seconds["verify_restored"])
        <= release_models.ROUND_STEP_SECONDS
    )
    assert seconds["start_rollback"] + seconds["check_job"] <= release_models.ROUND_STEP_SECONDS
    assert seconds["record_wave"] <= release_models.WAVE_RECORD_SECONDS
    assert (
        seconds["prepare"]
        + seconds["plan_rollback"]
        + max(seconds["record_release"], seconds["record_rolled_back"], seconds["record_not_approved"])
        <= release_models.RUN_STEP_SECONDS
    )
    assert release_models.LEASE_MARGIN >= TIMEOUT_MARGIN


def test_a_release_holds_its_leases_for_as_long_as_it_may_run() -> None:
    timing = ReleaseTiming()
    # A small release keeps the requested lease (2 h)
    assert timing.lease_seconds_for(1, 1) == timing.lease_seconds == 7200
    # A release of 10 flows in 3 waves may run ~8 h: its leases last that long
    assert timing.lease_seconds_for(10, 3) == timing.run_seconds(10, 3) > 8 * 3600
    # A longer requested lease stands
    assert ReleaseTiming(lease_seconds=10**6).lease_seconds_for(10, 3) == 10**6


def _field_limit(model: Any, field: str) -> float:
    limits = [getattr(m, "le", None) for m in model.model_fields[field].metadata]
    return float(min(limit for limit in limits if limit is not None))


def _wave_concurrency(app: SynthesizedApp) -> int:
    # Both directions run their waves in the one wave machine, its flows this many at once.
    (wave,) = [d for i, d in state_machines(app.template).items() if i.startswith("ReleaseWaveWorkflow")]
    return int(dict(all_states(wave))["/DeployWaveFlows"]["MaxConcurrency"])


def test_the_release_child_limits_are_derived_from_the_flow_budget(
    synthesized_with_nag: SynthesizedApp,
) -> None:
    # Given the release step timeouts and the longest job a timing may ask for
    seconds = _release_step_seconds(synthesized_with_nag)
    job_wait = _field_limit(ReleaseTiming, "job_deadline_seconds") + _field_limit(
        ReleaseTiming, "max_poll_seconds"
    )
    timeouts = _timeouts(synthesized_with_nag)
    # Then a flow's execution lasts its longer direction (start, job to its deadline, check), with margin
    deploy = seconds["start_publish"] + seconds["check_job"] + seconds["health_check"]
    restore = seconds["start_rollback"] + seconds["check_job"] + seconds["verify_restored"]
    flow = 60 * math.ceil(TIMEOUT_MARGIN * (max(deploy, restore) + job_wait) / 60)
    assert timeouts["ReleaseFlowWorkflow"] == flow
    # And a wave's execution, its largest wave (every flow of a release) in rounds of flow
    # executions each to its timeout, then its record
    rounds = math.ceil(MAX_FLOWS / _wave_concurrency(synthesized_with_nag))
    wave = 60 * math.ceil(TIMEOUT_MARGIN * (rounds * flow + seconds["record_wave"]) / 60)
    assert timeouts["ReleaseWaveWorkflow"] == wave


def test_the_release_rounds_never_exceed_its_flows() -> None:
    # Waves one at a time, a wave's flows at the Map's concurrency: a chain is the worst case
    assert release_workflow.deploy_rounds([1] * 7) == 7
    assert release_workflow.deploy_rounds([9, 4, 1]) == 3 + 1 + 1
    assert release_workflow.WORST_CASE_ROUNDS == MAX_FLOWS == release_workflow.MAX_RELEASE_FLOWS


def test_release_requests_cannot_ask_for_more_time_than_the_machine_was_sized_for() -> None:
    with pytest.raises(ValidationError):
        ReleaseTiming(job_deadline_seconds=release_workflow.JOB_DEADLINE_SECONDS + 1)
    with pytest.raises(ValidationError):
        ReleaseTiming(max_poll_seconds=release_workflow.MAX_POLL_SECONDS + 1)
    with pytest.raises(ValidationError, match="more than 60 times"):
        ReleaseTiming(first_poll_seconds=1, backoff_rate=1.0, max_poll_seconds=1)  # 960 polls of a job
    assert _field_limit(ReleaseTiming, "job_deadline_seconds") == release_workflow.JOB_DEADLINE_SECONDS
    assert _field_limit(ReleaseTiming, "max_poll_seconds") == release_workflow.MAX_POLL_SECONDS


def test_an_approval_nobody_gives_ends_recorded_before_the_execution_timeout(
    synthesized_with_nag: SynthesizedApp,
) -> None:
    # Given the approval task (a task token a person answers with `flowops approve`)
    definition = _release_definition(synthesized_with_nag)
    approval = definition["States"]["WaitForApproval"]
    # Then its wait has its own bound: the approval window the leases are held for
    assert approval["TimeoutSeconds"] == APPROVAL_WINDOW_SECONDS
    assert approval["TimeoutSeconds"] < _timeouts(synthesized_with_nag)["ReleaseWorkflow"]
    # And its end (States.Timeout included) is caught into the recorded NotApproved path
    (catch,) = approval["Catch"]
    assert catch["ErrorEquals"] == ["States.ALL"] and catch["Next"] == "RecordNotApproved"
    record = definition["States"]["RecordNotApproved"]
    assert record["Next"] == "ReleaseNotApproved"
    assert definition["States"]["ReleaseNotApproved"]["Error"] == "Release.NotApproved"
