"""Concurrency on one org, through the synthesized state machines against the simulator:
- publishes of the same flow started together never overlap in Genesys: each later one is
  refused with a clear reason (or runs after the first finished);
- scans started together while the org changes never lose a lock update: every pointer move is
  accounted for, and each scan that lost the race says so and names the winner.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from bench.harness import MAIN_FLOW, PUBLISH_STATE_MACHINE, SCAN_STATE_MACHINE, World, open_world

pytestmark = pytest.mark.slow

CONCURRENT_RUNS = 4


@pytest.fixture(scope="module")
def world(synthesized_template: dict[str, Any]) -> Iterator[World]:
    with open_world(template=synthesized_template) as opened:
        yield opened


def started_and_finished(result: Any, first: str, last: str) -> tuple[str, str] | None:
    """Timestamps of entering state `first` and of the last event of state `last`, if both happened."""
    entered = [e for e in result.events if e.get("stateEnteredEventDetails", {}).get("name") == first]
    exited = [e for e in result.events if e.get("stateExitedEventDetails", {}).get("name") == last]
    if not entered or not exited:
        return None
    return entered[0]["timestamp"], exited[-1]["timestamp"]


def test_publishes_of_one_flow_started_together_never_overlap(world: World) -> None:
    # Given four publishes of Main IVR, each with its own new version
    version_before = world.published_versions()[MAIN_FLOW]
    names = [f"together-{index}-{uuid.uuid4().hex[:6]}" for index in range(CONCURRENT_RUNS)]
    # When all four executions are started at once
    arns = [world.start(PUBLISH_STATE_MACHINE, world.publish_input(name, MAIN_FLOW), name) for name in names]
    results = [world.wait(arn, timeout=240) for arn in arns]
    # Then each ended in a defined state: published, or refused because another run held the flow
    published = [r for r in results if r.status == "SUCCEEDED"]
    refused = [r for r in results if r.status == "FAILED"]
    assert published, [(r.error, r.cause) for r in results]
    for result in refused:
        assert result.error == "Publish.ValidationFailed", result.cause
        assert "FLOW_PUBLISH_IN_PROGRESS" in (result.cause or "") and "being published by run" in (
            result.cause or ""
        )
        assert "StartPublish" not in result.states_entered()
    # and the publishes that went through did so one after another, never at the same time
    windows = sorted(
        window
        for result in published
        if (window := started_and_finished(result, "StartPublish", "RecordRelease")) is not None
    )
    assert len(windows) == len(published)
    for (_, end), (next_start, _) in itertools.pairwise(windows):
        assert end <= next_start, windows
    # and the org moved by exactly one version per successful run; the lease is free
    major = int(float(version_before or "0"))
    assert world.published_versions()[MAIN_FLOW] == f"{major + len(published)}.0"
    assert world.lease_holder(MAIN_FLOW) is None


def test_scans_started_together_while_the_org_changes_never_lose_a_lock_update(world: World) -> None:
    # Given a current lock
    base = world.scan("scan-base-" + uuid.uuid4().hex[:6])
    assert base.status == "SUCCEEDED", base.cause
    revision_before = world.pointer().model_dump().get("revision")
    # When four scans start together, and a flow is republished between the starts
    arns = []
    for index in range(CONCURRENT_RUNS):
        name = f"scan-together-{index}-{uuid.uuid4().hex[:6]}"
        arns.append(world.start(SCAN_STATE_MACHINE, {"page_size": 2}, name))
        republished = world.publish_input(f"between-{index}-{uuid.uuid4().hex[:6]}", MAIN_FLOW)
        between = world.wait(
            world.start(PUBLISH_STATE_MACHINE, republished, republished["execution_name"]), 240
        )
        assert between.status in ("SUCCEEDED", "FAILED"), between.cause
    outcomes = [world.wait(arn, timeout=240) for arn in arns]
    # Then every scan succeeded
    assert all(result.status == "SUCCEEDED" for result in outcomes), [r.cause for r in outcomes]
    pointers = [result.output["pointer"] for result in outcomes]
    # and each one either moved the pointer, found it already holding its lock, or lost a race
    # and says against which lock it re-diffed
    pointer = world.pointer()
    for result, moved in zip(outcomes, pointers, strict=True):
        assert moved["advanced"] or moved["unchanged"] or moved["race"], moved
        if moved["race"]:
            assert moved["compared_with_sha"], moved
            assert moved["current_sha"] != result.output["lock_sha256"] or moved["unchanged"]
    # and no update was lost: the pointer revision grew by exactly the number of moves recorded
    # (scan advances plus the publishes' RecordRelease/RolledBack lock updates, read from the audit)
    revision_after = pointer.model_dump().get("revision")
    assert isinstance(revision_before, int) and isinstance(revision_after, int)
    scan_moves = sum(1 for moved in pointers if moved["advanced"])
    release_moves = revision_after - revision_before - scan_moves
    assert 0 <= release_moves <= CONCURRENT_RUNS, (revision_before, revision_after, pointers)
    # and the current lock is intact and describes the org as it is now (after one more scan)
    final = world.scan("scan-final-" + uuid.uuid4().hex[:6])
    assert final.status == "SUCCEEDED", final.cause
    current = world.pointer()
    assert current.sha == final.output["lock_sha256"]
    from flowops.lock import parse_lock

    lock = parse_lock(world.artifact(current.key), expected_sha256=current.sha)
    assert lock.flow(MAIN_FLOW).published_version == world.published_versions()[MAIN_FLOW]
