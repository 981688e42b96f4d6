"""The shared rate-limit schedule in the state table (moto): slots never collide, never crowd."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from flowops.store import SharedRateSchedule
from tests.integration.store.conftest import STATE_TABLE

INTERVAL = 0.2


def test_an_idle_schedule_starts_at_the_caller_and_then_spaces_slots_one_interval_apart(
    dynamodb_client: Any,
) -> None:
    # Given no schedule for the org yet
    schedule = SharedRateSchedule(STATE_TABLE, "dev", dynamodb_client)
    # When three slots are reserved at the same moment
    slots = [schedule.reserve(1000.0, INTERVAL) for _ in range(3)]
    # Then the first starts at once and each next one an interval later
    assert slots == pytest.approx([1000.0, 1000.2, 1000.4])
    # and a caller that comes after the schedule ran dry starts at once again
    assert schedule.reserve(2000.0, INTERVAL) == pytest.approx(2000.0)


@pytest.mark.usefixtures("atomic_conditional_writes")
def test_concurrent_readers_share_one_schedule_without_collisions(dynamodb_client: Any) -> None:
    # Given four readers reserving from one org's schedule at once
    schedule = SharedRateSchedule(STATE_TABLE, "dev", dynamodb_client)
    barrier = threading.Barrier(4)
    slots: list[float] = []
    lock = threading.Lock()

    def reader() -> None:
        barrier.wait()
        for _ in range(15):
            slot = schedule.reserve(1000.0, INTERVAL)
            with lock:
                slots.append(slot)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Then the 60 slots are exactly the schedule's next 60: one interval apart, none shared
    assert sorted(slots) == pytest.approx([1000.0 + INTERVAL * i for i in range(60)])


def test_a_hold_moves_the_schedule_later_never_earlier(dynamodb_client: Any) -> None:
    schedule = SharedRateSchedule(STATE_TABLE, "dev", dynamodb_client)
    schedule.reserve(1000.0, INTERVAL)
    # When one reader holds the budget until its window resets
    schedule.hold_until(1030.0)
    # and another (with an older view) holds until earlier
    schedule.hold_until(1010.0)
    # Then the next slot of every reader is at the later reset
    assert schedule.reserve(1001.0, INTERVAL) == pytest.approx(1030.0)


def test_each_org_has_its_own_schedule(dynamodb_client: Any) -> None:
    dev = SharedRateSchedule(STATE_TABLE, "dev", dynamodb_client)
    prod = SharedRateSchedule(STATE_TABLE, "prod", dynamodb_client)
    dev.reserve(1000.0, INTERVAL)
    assert prod.reserve(1000.0, INTERVAL) == pytest.approx(1000.0)
    item = dynamodb_client.get_item(
        TableName=STATE_TABLE, Key={"pk": {"S": "RATE#dev"}, "sk": {"S": "SCHEDULE"}}
    )
    assert float(item["Item"]["next_slot_at"]["N"]) == pytest.approx(1000.2)
