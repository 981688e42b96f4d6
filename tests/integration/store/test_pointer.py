from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.stub import Stubber

from flowops.store import LockPointerStore, LockRaceError, StoreThrottledError, lock_key
from tests.integration.store.conftest import STATE_TABLE

SHA_A = "a" * 64
SHA_B = "b" * 64
SHA_C = "c" * 64


def test_first_lock_then_advance_records_previous(dynamodb_client: Any) -> None:
    # Given no lock for the org
    pointers = LockPointerStore(STATE_TABLE, dynamodb_client)
    assert pointers.get_current("dev") is None
    # When the first lock and then a second are written
    pointers.advance("dev", SHA_A, None, key=lock_key("dev", SHA_A), scan_id="s1")
    pointers.advance("dev", SHA_B, SHA_A, key=lock_key("dev", SHA_B), scan_id="s2")
    # Then the pointer names the newest lock and remembers the previous one
    current = pointers.get_current("dev")
    assert current is not None
    assert (current.sha, current.previous_sha, current.scan_id, current.revision) == (SHA_B, SHA_A, "s2", 2)
    assert current.key == f"locks/dev/{SHA_B}.json"


def test_first_lock_race_loser_learns_the_winner(dynamodb_client: Any) -> None:
    pointers = LockPointerStore(STATE_TABLE, dynamodb_client)
    pointers.advance("dev", SHA_A, None, key=lock_key("dev", SHA_A))
    with pytest.raises(LockRaceError) as race:
        pointers.advance("dev", SHA_B, None, key=lock_key("dev", SHA_B))
    assert race.value.winner_sha == SHA_A


def test_two_writers_racing_from_the_same_previous_sha_exactly_one_wins(dynamodb_client: Any) -> None:
    # Given a current lock A and two scans that both diffed against A
    pointers = LockPointerStore(STATE_TABLE, dynamodb_client)
    pointers.advance("dev", SHA_A, None, key=lock_key("dev", SHA_A))
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def scan(new_sha: str) -> None:
        barrier.wait()
        try:
            outcomes[new_sha] = pointers.advance("dev", new_sha, SHA_A, key=lock_key("dev", new_sha))
        except LockRaceError as error:
            outcomes[new_sha] = error

    # When both advance at the same time
    threads = [threading.Thread(target=scan, args=(sha,)) for sha in (SHA_B, SHA_C)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    # Then exactly one wins and the other's error names the winner, which is what is stored
    races = [value for value in outcomes.values() if isinstance(value, LockRaceError)]
    assert len(outcomes) == 2 and len(races) == 1
    current = pointers.get_current("dev")
    assert current is not None and current.previous_sha == SHA_A
    assert races[0].winner_sha == current.sha
    assert current.sha in {SHA_B, SHA_C}
    assert races[0].asl_error_name == "Store.LockRace"


def test_retried_advance_is_idempotent(dynamodb_client: Any) -> None:
    pointers = LockPointerStore(STATE_TABLE, dynamodb_client)
    pointers.advance("dev", SHA_A, None, key=lock_key("dev", SHA_A))
    first = pointers.advance("dev", SHA_B, SHA_A, key=lock_key("dev", SHA_B))
    again = pointers.advance("dev", SHA_B, SHA_A, key=lock_key("dev", SHA_B))
    assert again.sha == first.sha == SHA_B


def test_throttled_write_is_typed_and_leaves_the_pointer(dynamodb_client: Any) -> None:
    # Given a current lock A
    pointers = LockPointerStore(STATE_TABLE, dynamodb_client)
    pointers.advance("dev", SHA_A, None, key=lock_key("dev", SHA_A))
    # When DynamoDB throttles the advance
    with Stubber(dynamodb_client) as stubber:
        stubber.add_response(
            "get_item", {"Item": {"sha": {"S": SHA_A}, "key": {"S": "k"}, "updated_at": {"S": "t"}}}
        )
        stubber.add_client_error(
            "put_item", service_error_code="ProvisionedThroughputExceededException", http_status_code=400
        )
        with pytest.raises(StoreThrottledError):
            pointers.advance("dev", SHA_B, SHA_A, key=lock_key("dev", SHA_B))
    # Then the pointer still names A
    current = pointers.get_current("dev")
    assert current is not None and current.sha == SHA_A
