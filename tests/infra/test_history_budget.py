"""Worst-case history events of a scan of 20,000 flows and of a publish, computed from the
SYNTHESIZED definitions, stay under the 25,000 events a Standard execution may have (beyond
that AWS fails the execution, and nothing in the machine can catch it).

Upper bound, not an estimate: every state of the definition is counted as visited (success and
failure branches alike); every Lambda task as failing every retry its Retry rules allow, each
attempt costing Scheduled + Started + Failed/Succeeded; a poll loop (a Wait, the Lambda task it
leads to, and the Choice that leads back) as often as its policy allows within its deadline; each
item of the page Map at the most pages a scan plans (`MAX_SCAN_PAGES`); each flow of a release
deployed and restored, its job polled as often as the most-polling timing a request may give.
"""

from __future__ import annotations

from typing import Any

import pytest

from flowops.publish.models import MAX_JOB_POLLS
from flowops.release.bundle import MAX_FLOWS
from flowops.release.models import MAX_JOB_POLLS as MAX_RELEASE_JOB_POLLS
from flowops.release.models import ReleaseTiming
from flowops.scan.models import MAX_INDEX_DEADLINE_SECONDS, MAX_SCAN_PAGES, IndexPollPolicy
from tests.infra.conftest import SynthesizedApp
from tests.infra.definitions import is_lambda_task, state_machines

HISTORY_LIMIT = 25_000
EXECUTION_EVENTS = 2  # ExecutionStarted, ExecutionSucceeded/Failed/...
MAP_EVENTS = 4  # MapStateEntered, MapStateStarted, MapStateSucceeded, MapStateExited
MAP_ITEM_EVENTS = 2  # MapIterationStarted, MapIterationSucceeded/Failed
ORG_FLOWS = 20_000


def task_events(state: dict[str, Any]) -> int:
    """Entered + Exited, and Scheduled + Started + (Failed|Succeeded) for each attempt."""
    retries = sum(int(rule.get("MaxAttempts", 3)) for rule in state.get("Retry", []))
    return 2 + 3 * (1 + retries)


def state_events(state: dict[str, Any]) -> int:
    if state["Type"] == "Task":
        return task_events(state)
    if state["Type"] == "Map":
        return MAP_EVENTS
    return 2  # Entered + Exited (Pass, Choice, Wait, Succeed, Fail)


def poll_loops(definition: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(wait, task, choice) triples: Wait → Lambda task → Choice that can go back to the Wait."""
    states = definition["States"]
    loops = []
    for name, state in states.items():
        if state["Type"] != "Wait":
            continue
        task_name = state.get("Next")
        task = states.get(task_name, {})
        choice_name = task.get("Next")
        choice = states.get(choice_name, {})
        targets = {rule.get("Next") for rule in choice.get("Choices", [])} | {choice.get("Default")}
        if is_lambda_task(task) and choice.get("Type") == "Choice" and name in targets:
            loops.append((name, task_name, choice_name))
    return loops


def once_each(definition: dict[str, Any], *, skip: set[str]) -> int:
    return sum(state_events(state) for name, state in definition["States"].items() if name not in skip)


def loop_events(definition: dict[str, Any], loop: tuple[str, str, str]) -> int:
    return sum(state_events(definition["States"][name]) for name in loop)


def _machine(app: SynthesizedApp, workflow: str) -> dict[str, Any]:
    (definition,) = [
        d for logical_id, d in state_machines(app.template).items() if logical_id.startswith(workflow)
    ]
    return definition


def index_polls(deadline_seconds: int) -> int:
    policy = IndexPollPolicy(deadline_seconds=deadline_seconds)
    polls, waited = 1, 0  # the first check comes before any wait
    while waited < deadline_seconds:
        waited += policy.wait_for(polls - 1)
        polls += 1
    return polls


def scan_worst_case(definition: dict[str, Any]) -> int:
    (loop,) = poll_loops(definition)
    (map_name,) = [name for name, state in definition["States"].items() if state["Type"] == "Map"]
    processor = (
        definition["States"][map_name].get("ItemProcessor") or definition["States"][map_name]["Iterator"]
    )
    per_page = MAP_ITEM_EVENTS + once_each(processor, skip=set())
    # Pages of a 20,000-flow org at the smallest page size a request may ask for are raised to fit.
    pages = min(MAX_SCAN_PAGES, ORG_FLOWS)
    return (
        EXECUTION_EVENTS
        + once_each(definition, skip=set(loop))
        + index_polls(MAX_INDEX_DEADLINE_SECONDS) * loop_events(definition, loop)
        + pages * per_page
    )


def publish_worst_case(definition: dict[str, Any]) -> int:
    loops = poll_loops(definition)
    assert len(loops) == 2, loops  # the publish job and the rollback job (which also fences)
    in_loops = {name for loop in loops for name in loop}
    # After a fence the rollback step and its first Choice are entered a second time.
    fence_reentry = sum(
        state_events(definition["States"][name])
        for name in ("RollbackToPreviousVersion", "IsTheReleaseAlreadyRecorded")
    )
    # The timing validator bounds the polls of the publish job, the fence and the rollback job.
    return (
        EXECUTION_EVENTS
        + once_each(definition, skip=in_loops)
        + fence_reentry
        + MAX_JOB_POLLS * max(loop_events(definition, loop) for loop in loops)
    )


def test_a_20000_flow_scan_fits_one_execution_history(synthesized_with_nag: SynthesizedApp) -> None:
    # Given the synthesized scan definition, a 20,000-flow org and the longest index wait allowed
    worst = scan_worst_case(_machine(synthesized_with_nag, "ScanWorkflow"))
    # Then even with every retry failing until the last, the history stays under AWS's limit
    assert 0 < worst < HISTORY_LIMIT, worst


def test_a_publish_with_its_rollback_fits_one_execution_history(synthesized_with_nag: SynthesizedApp) -> None:
    # Given the synthesized publish definition and the most job polls a timing may ask for
    worst = publish_worst_case(_machine(synthesized_with_nag, "PublishWorkflow"))
    # Then a publish that polls, fails, rolls back and polls again, every retry used, fits
    assert 0 < worst < HISTORY_LIMIT, worst


def _flow_processor(definition: dict[str, Any], waves: str) -> dict[str, Any]:
    wave = definition["States"][waves]["ItemProcessor"]
    (flows,) = [state for state in wave["States"].values() if state["Type"] == "Map"]
    return flows["ItemProcessor"]  # type: ignore[no-any-return]


def release_worst_case(definition: dict[str, Any], *, flows: int, timing: ReleaseTiming) -> int:
    """One flow per wave (the most wave records), every flow deployed and restored, each job
    polled to its deadline, every retry used."""
    polls = timing.job_polls()
    events = EXECUTION_EVENTS + once_each(definition, skip=set())
    for waves in ("PublishWaves", "RollBackWaves"):
        wave = definition["States"][waves]["ItemProcessor"]
        processor = _flow_processor(definition, waves)
        (loop,) = poll_loops(processor)
        per_flow = (
            MAP_ITEM_EVENTS + once_each(processor, skip=set(loop)) + polls * loop_events(processor, loop)
        )
        per_wave = MAP_ITEM_EVENTS + once_each(wave, skip=set())
        events += flows * (per_wave + per_flow)
    return events


# The most-polling timing a release request may give: 16 s waits that never grow, to the deadline.
MOST_POLLING_RELEASE_TIMING = ReleaseTiming(first_poll_seconds=16, backoff_rate=1.0, max_poll_seconds=16)


def test_the_release_history_grows_with_its_flows(synthesized_with_nag: SynthesizedApp) -> None:
    # Given the synthesized release definition
    definition = _machine(synthesized_with_nag, "ReleaseWorkflow")
    # Then one flow, deployed and restored with the most polls a timing may ask for, fits
    assert MOST_POLLING_RELEASE_TIMING.job_polls() == MAX_RELEASE_JOB_POLLS
    most = release_worst_case(definition, flows=1, timing=MOST_POLLING_RELEASE_TIMING)
    assert 0 < most < HISTORY_LIMIT, most
    one = release_worst_case(definition, flows=1, timing=ReleaseTiming())
    # And every further flow costs the same again (nothing in the release is per-bundle but its ends)
    two = release_worst_case(definition, flows=2, timing=ReleaseTiming())
    assert two - one == one - release_worst_case(definition, flows=0, timing=ReleaseTiming())


@pytest.mark.xfail(
    strict=True,
    reason="issue 13: the release's wave Maps are inline, so every flow's deploy and restore is "
    "in the one execution history; a 500-flow release needs child executions (a distributed Map "
    "or a per-wave execution)",
)
def test_the_largest_release_fits_one_execution_history(synthesized_with_nag: SynthesizedApp) -> None:
    definition = _machine(synthesized_with_nag, "ReleaseWorkflow")
    worst = release_worst_case(definition, flows=MAX_FLOWS, timing=MOST_POLLING_RELEASE_TIMING)
    assert 0 < worst < HISTORY_LIMIT, worst
