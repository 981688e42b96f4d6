"""Worst-case history events of a scan of 20,000 flows, a publish and a release of 500 flows (the
release, each of its wave executions and each of its flow executions), computed from the
SYNTHESIZED definitions, stay under the 25,000 events a Standard execution may have (beyond
that AWS fails the execution, and nothing in the machine can catch it).

Upper bound, not an estimate: every state of the definition is counted as visited (success and
failure branches alike); every Lambda task as failing every retry its Retry rules allow, each
attempt costing Scheduled + Started + Failed/Succeeded; a poll loop (a Wait, the Lambda task it
leads to, and the Choice that leads back) as often as its policy allows within its deadline; each
item of the page Map at the most pages a scan plans (`MAX_SCAN_PAGES`); a child execution
(`startExecution.sync:2`) as one task in its parent (Submitted added to each attempt); a release
flow's job polled as often as the most-polling timing a request may give.
"""

from __future__ import annotations

from typing import Any

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
        d
        for logical_id, d in state_machines(app.template).items()
        if logical_id.removeprefix(workflow).startswith("StateMachine")
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


def child_task_events(state: dict[str, Any]) -> int:
    """A `startExecution.sync:2` task: Entered + Exited, and Scheduled + Started + Submitted +
    (Failed|Succeeded) for each attempt."""
    retries = sum(int(rule.get("MaxAttempts", 3)) for rule in state.get("Retry", []))
    return 2 + 4 * (1 + retries)


def is_child_execution(state: dict[str, Any]) -> bool:
    resource = state.get("Resource", "")
    text = resource if isinstance(resource, str) else str(resource)
    return state["Type"] == "Task" and "states:startExecution.sync" in text


def processor_events(processor: dict[str, Any]) -> int:
    """Every state of a Map iteration visited once, a child execution counted as one."""
    return sum(
        child_task_events(state) if is_child_execution(state) else state_events(state)
        for state in processor["States"].values()
    )


def release_worst_case(definition: dict[str, Any], *, flows: int) -> int:
    """The release execution itself: one flow per wave (the most waves), every wave deployed and
    restored, each in ONE child execution (its flows are in theirs), every state visited."""
    events = EXECUTION_EVENTS + once_each(definition, skip=set())
    for waves in ("PublishWaves", "RollBackWaves"):
        wave = definition["States"][waves]["ItemProcessor"]
        assert any(is_child_execution(state) for state in wave["States"].values()), wave
        events += flows * (MAP_ITEM_EVENTS + processor_events(wave))
    return events


def release_wave_worst_case(definition: dict[str, Any], *, flows: int) -> int:
    """One wave holding every flow of the release, each flow in its own child execution."""
    (flows_map,) = [state for state in definition["States"].values() if state["Type"] == "Map"]
    per_flow = MAP_ITEM_EVENTS + processor_events(flows_map["ItemProcessor"])
    return EXECUTION_EVENTS + once_each(definition, skip=set()) + flows * per_flow


def release_flow_worst_case(definition: dict[str, Any], *, timing: ReleaseTiming) -> int:
    """One flow deployed (or restored: the longer of the two), its job polled to its deadline,
    every retry used; both branches counted as visited."""
    loops = poll_loops(definition)
    assert len(loops) == 2, loops  # the deploy job and the restore job
    in_loops = {name for loop in loops for name in loop}
    return (
        EXECUTION_EVENTS
        + once_each(definition, skip=in_loops)
        + timing.job_polls() * max(loop_events(definition, loop) for loop in loops)
    )


# The most-polling timing a release request may give: 16 s waits that never grow, to the deadline.
MOST_POLLING_RELEASE_TIMING = ReleaseTiming(first_poll_seconds=16, backoff_rate=1.0, max_poll_seconds=16)


def test_a_release_flow_fits_its_own_execution_history(synthesized_with_nag: SynthesizedApp) -> None:
    # Given the synthesized per-flow machine and the most job polls a timing may ask for
    assert MOST_POLLING_RELEASE_TIMING.job_polls() == MAX_RELEASE_JOB_POLLS
    worst = release_flow_worst_case(
        _machine(synthesized_with_nag, "ReleaseFlowWorkflow"), timing=MOST_POLLING_RELEASE_TIMING
    )
    # Then a flow deployed (or restored) with every poll and every retry fits its own history
    assert 0 < worst < HISTORY_LIMIT, worst


def test_the_largest_wave_fits_its_own_execution_history(synthesized_with_nag: SynthesizedApp) -> None:
    # Given the synthesized per-wave machine and a wave of every flow a release may have
    worst = release_wave_worst_case(_machine(synthesized_with_nag, "ReleaseWaveWorkflow"), flows=MAX_FLOWS)
    # Then the wave's history holds a bounded number of events per flow, under the limit
    assert 0 < worst < HISTORY_LIMIT, worst


def test_the_largest_release_fits_one_execution_history(synthesized_with_nag: SynthesizedApp) -> None:
    # Given the synthesized release machine and the largest release, one flow per wave
    definition = _machine(synthesized_with_nag, "ReleaseWorkflow")
    worst = release_worst_case(definition, flows=MAX_FLOWS)
    # Then every wave deployed and restored, each in its child execution, fits the parent history
    assert 0 < worst < HISTORY_LIMIT, worst
    # And every further flow costs the same bounded number of events, whatever its job's polls
    one, two = release_worst_case(definition, flows=1), release_worst_case(definition, flows=2)
    assert two - one == one - release_worst_case(definition, flows=0)
