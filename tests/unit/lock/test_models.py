"""Lock models: canonical order, duplicates, defaults."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from flowops.lock import LockedDependency, LockedFlow, LockedObject, Lockfile, canonical_bytes


def test_lists_are_put_in_canonical_order_when_the_lock_is_built() -> None:
    # Given flows, consumes and objects in scan order
    flow_b = LockedFlow(
        id="b",
        name="B",
        type="INBOUNDCALL",
        consumes=[
            LockedDependency(id="q1", type="QUEUE"),
            LockedDependency(id="m1", type="COMMONMODULEFLOW"),
        ],
    )
    flow_a = LockedFlow(id="a", name="A", type="INBOUNDCALL")
    objects = [LockedObject(id="q1", type="QUEUE"), LockedObject(id="z9", type="DATAACTION")]

    # When the lock is built
    lock = Lockfile(org="dev", flows=[flow_b, flow_a], objects=objects)

    # Then flows are sorted by id, consumes and objects by (type, id)
    assert [flow.id for flow in lock.flows] == ["a", "b"]
    assert [dependency.key for dependency in lock.flows[1].consumes] == [
        ("COMMONMODULEFLOW", "m1"),
        ("QUEUE", "q1"),
    ]
    assert [locked.key for locked in lock.objects] == [("DATAACTION", "z9"), ("QUEUE", "q1")]


def test_exact_duplicates_from_overlapping_pages_are_dropped() -> None:
    # Given the same dependency and the same object reported twice
    dependency = LockedDependency(id="q1", type="QUEUE", name="Queue", version=None)
    lock = Lockfile(
        org="dev",
        flows=[LockedFlow(id="a", name="A", type="INBOUNDCALL", consumes=[dependency, dependency])],
        objects=[LockedObject(id="q1", type="QUEUE"), LockedObject(id="q1", type="QUEUE")],
    )

    # Then each is kept once
    assert lock.flows[0].consumes == [dependency]
    assert len(lock.objects) == 1


@pytest.mark.parametrize(
    "build",
    [
        lambda: Lockfile(
            org="dev",
            flows=[
                LockedFlow(id="a", name="A", type="INBOUNDCALL"),
                LockedFlow(id="a", name="B", type="INBOUNDCALL"),
            ],
        ),
        lambda: LockedFlow(
            id="a",
            name="A",
            type="INBOUNDCALL",
            consumes=[
                LockedDependency(id="m", type="COMMONMODULEFLOW", version="1.0"),
                LockedDependency(id="m", type="COMMONMODULEFLOW", version="2.0"),
            ],
        ),
        lambda: Lockfile(
            org="dev",
            objects=[LockedObject(id="q", type="QUEUE"), LockedObject(id="q", type="QUEUE", deleted=True)],
        ),
    ],
    ids=["flow", "dependency", "object"],
)
def test_conflicting_records_for_one_key_are_rejected_naming_the_key(build: object) -> None:
    # Given two different records for the same key / When the model is built / Then it fails clearly
    with pytest.raises(ValidationError, match="conflicting"):
        build()  # type: ignore[operator]


def test_object_type_is_derived_from_the_flow_type_when_omitted() -> None:
    assert LockedFlow(id="a", name="A", type="INBOUNDCALL").object_type == "INBOUNDCALLFLOW"
    assert LockedFlow(id="w", name="W", type="WORKFLOW").object_type == "WORKFLOW"
    assert LockedFlow(id="w", name="W", type="WORKITEM").object_type == "WORKITEMFLOW"
    assert LockedFlow(id="x", name="X", type="INBOUNDCALL", object_type="inboundcallflow").object_type == (
        "INBOUNDCALLFLOW"
    )


def test_locks_are_immutable_values_and_lookups_do_not_affect_equality() -> None:
    # Given two equal locks, one of which has served a lookup
    first = Lockfile(org="dev", flows=[LockedFlow(id="a", name="A", type="INBOUNDCALL")])
    second = Lockfile(org="dev", flows=[LockedFlow(id="a", name="A", type="INBOUNDCALL")])
    assert first.flow("a") is not None and first.flow("missing") is None

    # Then they are still equal, and fields cannot be reassigned
    assert first == second
    with pytest.raises(ValidationError):
        first.org = "prod"  # type: ignore[misc]


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Lockfile.model_validate({"org": "dev", "flows": [], "extra": 1})


def test_object_lookup_by_id() -> None:
    lock = Lockfile(org="dev", objects=[LockedObject(id="q", type="QUEUE", name="Queue")])
    found = lock.object("q")
    assert found is not None and found.name == "Queue"
    assert lock.object("nope") is None
    assert b'"name":"Queue"' in canonical_bytes(lock)
