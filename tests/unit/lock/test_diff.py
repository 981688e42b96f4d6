"""Drift between two locks of one org, and replaying it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from flowops.lock import (
    DiffBaseMismatchError,
    LockedDependency,
    LockedFlow,
    LockedObject,
    Lockfile,
    apply_diff,
    canonical_bytes,
    diff_locks,
)
from tests.unit.lock.strategies import lockfiles

MODULE_V2 = LockedDependency(id="m1", type="COMMONMODULEFLOW", name="Auth", version="2.0")
MODULE_V3 = LockedDependency(id="m1", type="COMMONMODULEFLOW", name="Auth", version="3.0")
QUEUE = LockedDependency(id="q1", type="QUEUE", name="Sales")


def _lock(*flows: LockedFlow, objects: list[LockedObject] | None = None) -> Lockfile:
    return Lockfile(org="dev", flows=list(flows), objects=objects or [])


def _flow(
    flow_id: str, version: str | None, *consumes: LockedDependency, name: str | None = None
) -> LockedFlow:
    return LockedFlow(
        id=flow_id,
        name=name or flow_id.upper(),
        type="INBOUNDCALL",
        published_version=version,
        consumes=list(consumes),
    )


def test_republished_flow_is_the_only_change_reported() -> None:
    # Given a lock, and the same org after one flow was republished against a newer module
    old = _lock(_flow("a", "1.0", MODULE_V2, QUEUE), _flow("b", "4.0", QUEUE))
    new = _lock(_flow("a", "2.0", MODULE_V3, QUEUE), _flow("b", "4.0", QUEUE))

    # When they are diffed
    diff = diff_locks(old, new)

    # Then exactly that flow is named: re-versioned, old module edge out, new module edge in
    assert diff.changed_flow_ids() == ["a"]
    assert [(c.flow_id, c.old_version, c.new_version) for c in diff.flows_reversioned] == [
        ("a", "1.0", "2.0")
    ]
    assert [e.dependency for e in diff.edges_removed] == [MODULE_V2]
    assert [e.dependency for e in diff.edges_added] == [MODULE_V3]
    assert not diff.flows_added and not diff.flows_removed and not diff.flows_renamed
    assert not diff.is_empty


def test_added_removed_and_renamed_flows() -> None:
    old = _lock(_flow("a", "1.0"), _flow("gone", "1.0", QUEUE))
    new = _lock(_flow("a", "1.0", name="Renamed"), _flow("fresh", "1.0", QUEUE))

    diff = diff_locks(old, new)

    assert [flow.id for flow in diff.flows_added] == ["fresh"]
    assert [flow.id for flow in diff.flows_removed] == ["gone"]
    assert [(r.old_name, r.new_name) for r in diff.flows_renamed] == [("A", "Renamed")]
    # Edges of added/removed flows travel with the flow record, not as edge changes
    assert not diff.edges_added and not diff.edges_removed
    assert diff.changed_flow_ids() == ["a", "fresh", "gone"]


def test_object_changes_report_deleted_state() -> None:
    old = _lock(
        objects=[LockedObject(id="q1", type="QUEUE", name="Sales"), LockedObject(id="x", type="QUEUE")]
    )
    new = _lock(
        objects=[
            LockedObject(id="q1", type="QUEUE", name="Sales", deleted=True),
            LockedObject(id="y", type="QUEUE"),
        ]
    )

    diff = diff_locks(old, new)

    assert [change.new.id for change in diff.objects_deleted_state_changed] == ["q1"]
    assert diff.objects_changed[0].changed_fields == ["deleted"]
    assert [o.id for o in diff.objects_added] == ["y"] and [o.id for o in diff.objects_removed] == ["x"]


def test_identical_locks_give_an_empty_diff_that_applies_to_itself() -> None:
    lock = _lock(_flow("a", "1.0", QUEUE))
    diff = diff_locks(lock, lock)
    assert diff.is_empty and diff.changed_flow_ids() == []
    assert apply_diff(lock, diff) == lock


def test_a_diff_refuses_to_apply_to_another_base() -> None:
    # Given a diff from lock A to lock B
    lock_a, lock_b = _lock(_flow("a", "1.0")), _lock(_flow("a", "2.0"))
    diff = diff_locks(lock_a, lock_b)

    # When it is applied to a third lock / Then it refuses, naming both hashes
    with pytest.raises(DiffBaseMismatchError, match="computed from lock"):
        apply_diff(_lock(_flow("z", "1.0")), diff)


def test_an_altered_diff_refuses_to_produce_a_lock() -> None:
    lock_a, lock_b = _lock(_flow("a", "1.0")), _lock(_flow("a", "2.0"))
    diff = diff_locks(lock_a, lock_b).model_copy(update={"flows_reversioned": []})
    with pytest.raises(DiffBaseMismatchError, match="altered"):
        apply_diff(lock_a, diff)


@settings(max_examples=200, deadline=None)
@given(old=lockfiles(), new=lockfiles())
def test_applying_the_diff_rebuilds_the_new_lock(old: Lockfile, new: Lockfile) -> None:
    # Given any two locks / When the diff of old→new is applied to old / Then new comes out
    rebuilt = apply_diff(old, diff_locks(old, new))
    assert canonical_bytes(rebuilt) == canonical_bytes(new)


@settings(max_examples=50, deadline=None)
@given(old=lockfiles(), new=lockfiles())
def test_diff_survives_json_round_trip(old: Lockfile, new: Lockfile) -> None:
    # A diff is an artifact too (written to S3 as a drift report): it must read back usable
    diff = diff_locks(old, new)
    restored = type(diff).model_validate_json(diff.model_dump_json())
    assert canonical_bytes(apply_diff(old, restored)) == canonical_bytes(new)
