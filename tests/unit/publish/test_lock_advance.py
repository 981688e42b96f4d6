"""Advancing the lock by several flows at once (a release) without losing a concurrent scan."""

from __future__ import annotations

from typing import Any

from flowops.lock import canonical_bytes, lock_sha256, parse_lock
from flowops.lock.models import LockedFlow, Lockfile
from flowops.publish.lockadvance import advance_current_lock
from flowops.publish.lockupdate import ConsumedResource, FlowChange, with_flow_changes
from flowops.publish.ports import DeployPorts
from tests.unit.publish.fakes import org_lock
from tests.unit.scan.fakes import FakeArtifacts, FakePointer, FakePointers

SUPPORT = ConsumedResource(id="q-support", type="QUEUE", name="Support")


def test_one_change_set_updates_creates_and_deletes_flows() -> None:
    # Given the org's lock and a release that republished Main IVR, created New Line and
    # (a rollback) deleted Caller
    lock = org_lock()
    changes = [
        FlowChange(flow_id="f-main", name="Main IVR", type="INBOUNDCALL", version="3.0", consumed=[SUPPORT]),
        FlowChange(flow_id="f-new", name="New Line", type="INBOUNDCALL", version="1.0", consumed=[SUPPORT]),
        FlowChange(flow_id="f-caller", name="Caller", type="INBOUNDCALL", version=None),
    ]
    # When they are applied together
    updated = with_flow_changes(lock, changes)
    # Then every changed flow says what the org runs, the others are untouched
    main, new = updated.flow("f-main"), updated.flow("f-new")
    assert (
        main is not None
        and main.published_version == "3.0"
        and [d.id for d in main.consumes] == ["q-support"]
    )
    assert updated.object("f-main").version == "3.0"  # type: ignore[union-attr]
    assert new is not None and (new.name, new.object_type, new.published_version) == (
        "New Line",
        "INBOUNDCALLFLOW",
        "1.0",
    )
    assert updated.flow("f-caller") is None
    assert updated.flow("m-menu") == lock.flow("m-menu")
    # and a deleted flow the lock never knew changes nothing
    gone = FlowChange(flow_id="f-unknown", name="X", type="INBOUNDCALL", version=None)
    assert lock_sha256(with_flow_changes(lock, [gone])) == lock_sha256(lock)


def stores(lock: Lockfile) -> tuple[DeployPorts, FakeArtifacts, FakePointers]:
    artifacts, pointers = FakeArtifacts(), FakePointers()
    put(artifacts, pointers, lock)
    ports = DeployPorts(
        org="dev",
        artifacts=artifacts,  # type: ignore[arg-type]
        runs=None,  # type: ignore[arg-type]
        audit=None,  # type: ignore[arg-type]
        pointers=pointers,  # type: ignore[arg-type]
        leases=None,  # type: ignore[arg-type]
    )
    return ports, artifacts, pointers


def put(artifacts: FakeArtifacts, pointers: FakePointers, lock: Lockfile) -> str:
    sha = lock_sha256(lock)
    artifacts.objects[f"locks/dev/{sha}.json"] = canonical_bytes(lock)
    pointers.current["dev"] = FakePointer(sha, f"locks/dev/{sha}.json")
    return sha


def current(artifacts: FakeArtifacts, pointers: FakePointers) -> Lockfile:
    pointer = pointers.current["dev"]
    return parse_lock(artifacts.objects[pointer.key], expected_sha256=pointer.sha)


def test_a_scan_that_moves_the_pointer_meanwhile_keeps_its_update() -> None:
    # Given a release's change, and a scan that advances the lock (a new flow it found) between
    # the release's read of the lock and its advance
    ports, artifacts, pointers = stores(org_lock())
    scanned = org_lock().model_copy(
        update={"flows": [*org_lock().flows, LockedFlow(id="f-scan", name="Scanned", type="INBOUNDCALL")]}
    )
    real_advance = pointers.advance
    raced: list[str] = []

    def advance(*args: Any, **kwargs: Any) -> None:
        if not raced:
            raced.append(put(artifacts, pointers, Lockfile.model_validate(scanned.model_dump())))
        real_advance(*args, **kwargs)

    pointers.advance = advance  # type: ignore[method-assign]
    change = FlowChange(
        flow_id="f-main", name="Main IVR", type="INBOUNDCALL", version="3.0", consumed=[SUPPORT]
    )
    # When the release advances the lock
    sha = advance_current_lock(ports, lambda lock: with_flow_changes(lock, [change]), writer="release-r1")
    # Then its change was applied on top of the scan's lock: both are there
    lock = current(artifacts, pointers)
    assert sha == pointers.current["dev"].sha == lock_sha256(lock)
    assert lock.flow("f-scan") is not None
    assert lock.flow("f-main").published_version == "3.0"  # type: ignore[union-attr]
    # and a retried step writes nothing new
    again = advance_current_lock(ports, lambda lock: with_flow_changes(lock, [change]), writer="release-r1")
    assert again == sha and len(pointers.advances) == 1


def test_no_lock_yet_leaves_everything_to_the_first_scan() -> None:
    ports, _, pointers = stores(org_lock())
    pointers.current.clear()
    assert advance_current_lock(ports, lambda lock: lock, writer="release-r1") is None
