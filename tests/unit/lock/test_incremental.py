"""Reusing recorded dependencies in incremental scans."""

from __future__ import annotations

from flowops.lock import FailedObject, LockedDependency, LockedFlow, Lockfile, LockMeta, reusable_dependencies

DEPENDENCIES = [LockedDependency(id="q1", type="QUEUE", name="Sales")]


def _previous(meta: LockMeta | None = None, failed: list[FailedObject] | None = None) -> Lockfile:
    return Lockfile(
        org="dev",
        flows=[
            LockedFlow(id="f1", name="F", type="INBOUNDCALL", published_version="3.0", consumes=DEPENDENCIES)
        ],
        failed_objects=failed or [],
        meta=meta,
    )


def test_unchanged_published_version_reuses_the_recorded_dependencies() -> None:
    assert reusable_dependencies(_previous(LockMeta(index_status="OPERATIONAL")), "f1", "3.0") == DEPENDENCIES
    assert reusable_dependencies(_previous(), "f1", "3.0") == DEPENDENCIES


def test_anything_uncertain_means_read_again() -> None:
    assert reusable_dependencies(None, "f1", "3.0") is None  # first scan
    assert reusable_dependencies(_previous(), "f1", "4.0") is None  # republished
    assert reusable_dependencies(_previous(), "f2", "3.0") is None  # new flow
    assert reusable_dependencies(_previous(), "f1", None) is None  # no published version
    # previous lock written from a partial index
    assert reusable_dependencies(_previous(LockMeta(index_status="BUILDINPROGRESS")), "f1", "3.0") is None
    # the index failed on this flow last time
    assert reusable_dependencies(_previous(failed=[FailedObject(id="f1")]), "f1", "3.0") is None


def test_reuse_returns_a_fresh_list() -> None:
    previous = _previous()
    reused = reusable_dependencies(previous, "f1", "3.0")
    assert reused is not None
    reused.clear()
    assert previous.flows[0].consumes == DEPENDENCIES
