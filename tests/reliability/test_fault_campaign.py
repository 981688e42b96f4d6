"""Fast mode of the fault campaign (bench/campaign.py): randomized executions of the synthesized
scan and publish state machines against the simulator, every fault kind injected at least once,
and the invariants checked after every run. `python -m bench.campaign` runs the full 300."""

from __future__ import annotations

from typing import Any

import pytest

from bench.campaign import (
    EXCLUSIVE_FAULTS,
    PUBLISH_FAULTS,
    PUBLISH_TERMINAL_STATES,
    SCAN_FAULTS,
    SCAN_TERMINAL_STATES,
    FaultKind,
    plan_runs,
    run_campaign,
)

pytestmark = pytest.mark.slow

FAST_RUNS = 20
FAST_SEED = 2024


def test_a_short_campaign_still_plans_every_fault_kind_reproducibly() -> None:
    # Given the fast mode's seed and size
    # When the runs are planned twice
    first, second = plan_runs(FAST_RUNS, FAST_SEED), plan_runs(FAST_RUNS, FAST_SEED)
    # Then the plans are identical (a failure is reproducible from the seed)
    assert [(p.workflow, p.flow_id, p.faults, p.seed) for p in first] == [
        (p.workflow, p.flow_id, p.faults, p.seed) for p in second
    ]
    # and every fault kind is injected, only into workflows that can meet it, and faults that
    # each hold the job or replace the flow/YAML never meet in one run
    assert {fault for plan in first for fault in plan.faults} == set(FaultKind)
    for plan in first:
        assert len(EXCLUSIVE_FAULTS & set(plan.faults)) <= 1, plan
        if plan.workflow == "scan":
            assert not set(plan.faults) - set(SCAN_FAULTS), plan
        else:
            assert not set(plan.faults) - set(PUBLISH_FAULTS) and plan.flow_id is not None


def test_a_full_campaign_injects_each_new_fault_at_least_twenty_times() -> None:
    # Given the documented 300-run campaign (`python -m bench.campaign --runs 300 --seed 1`)
    plans = plan_runs(300, 1)
    # Then each fault kind of issue 12 is planned into at least 20 runs
    issue_12 = [
        FaultKind.JOB_FINISHES_AFTER_ROLLBACK_STARTED,
        FaultKind.ANSWER_LOST_AFTER_WRITE,
        FaultKind.AWS_CONNECTION_ERRORS,
        FaultKind.FLOW_RENAMED_MID_RUN,
        FaultKind.FLOW_DELETED_MID_RUN,
        FaultKind.HOSTILE_YAML,
        FaultKind.EXPIRED_DELIVERY_REUSED,
    ]
    for kind in issue_12:
        assert sum(1 for plan in plans if kind in plan.faults) >= 20, kind
    # and a reused delivery id always has an earlier publish run to take the id of
    first_publish = next(plan.index for plan in plans if plan.workflow == "publish")
    for plan in plans:
        if FaultKind.EXPIRED_DELIVERY_REUSED in plan.faults:
            assert plan.workflow == "publish" and plan.index > first_publish, plan


def test_randomized_faulty_runs_always_end_in_a_defined_state_with_every_invariant_holding(
    aws_credentials: None, synthesized_template: dict[str, Any]
) -> None:
    # Given one simulator + local cloud, and 20 seeded runs mixing every fault kind
    from bench.harness import open_world

    with open_world(template=synthesized_template, time_scale=60.0) as world:
        # When the campaign runs them one after another
        report = run_campaign(FAST_RUNS, FAST_SEED, world=world)

    # Then every run reached a named terminal state of its state machine
    for record in report.records:
        allowed = SCAN_TERMINAL_STATES if record.plan.workflow == "scan" else PUBLISH_TERMINAL_STATES
        assert record.terminal_state in allowed, (record.plan, record.status, record.cause)
    # and no invariant was violated (org, run item, lock pointer, artifacts, audit, lease agree)
    assert report.violations == [], report.table()
    # and the faults really happened: AWS errors were raised, and some runs did not simply succeed
    assert sum(report.aws_injected.values()) > 0
    assert any(record.status == "FAILED" for record in report.records), report.table()
    assert any(record.terminal_state == "Published" for record in report.records), report.table()
    # and a delivery id reused after its claim expired started a NEW execution of its own
    # (the webhook's name for it, not the earlier run's), whose records were checked above
    reused = [r for r in report.records if FaultKind.EXPIRED_DELIVERY_REUSED in r.plan.faults]
    assert reused, report.table()
    for record in reused:
        assert record.run_id.startswith("publish-") and record.run_id != record.plan.name, record
        assert record.terminal_state in PUBLISH_TERMINAL_STATES, record
