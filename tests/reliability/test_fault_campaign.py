"""Fast mode of the fault campaign (bench/campaign.py): randomized executions of the synthesized
scan and publish state machines against the simulator, every fault kind injected at least once,
and the invariants checked after every run. `python -m bench.campaign` runs the full 200."""

from __future__ import annotations

from typing import Any

import pytest

from bench.campaign import (
    PUBLISH_TERMINAL_STATES,
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
    # and every fault kind is injected, only into workflows that can meet it
    assert {fault for plan in first for fault in plan.faults} == set(FaultKind)
    for plan in first:
        if plan.workflow == "scan":
            assert FaultKind.PUBLISH_JOB_FAILURE not in plan.faults
            assert FaultKind.JOB_PAST_DEADLINE not in plan.faults
        else:
            assert FaultKind.INDEX_STUCK not in plan.faults and plan.flow_id is not None


def test_randomized_faulty_runs_always_end_in_a_defined_state_with_every_invariant_holding(
    aws_credentials: None, synthesized_template: dict[str, Any]
) -> None:
    # Given one simulator + local cloud, and 20 seeded runs mixing every fault kind
    from bench.harness import open_world

    with open_world(template=synthesized_template) as world:
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
