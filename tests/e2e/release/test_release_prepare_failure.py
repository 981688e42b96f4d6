"""A PrepareRelease that fails after taking its leases frees them (fenced by owner) instead of
blocking every flow of the release until the leases expire."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.release.helpers import ReleaseWorld, start_release_world
from tests.integration.release.world import MAIN, MODULE, flow_yaml, queue

pytestmark = pytest.mark.slow

FLOWS = {
    "commonModule/shared-menu.yaml": flow_yaml(
        "COMMONMODULE", "Shared Menu", queue("Sales"), description="v2"
    ),
}


@pytest.fixture
def world(
    start_simulator: Callable[..., Any], local_cloud_factory: Callable[..., Any], tmp_path: Path
) -> ReleaseWorld:
    # A slower clock than the other release tests: PrepareRelease's 900 s budget must not run out
    # before the injected crash on a loaded machine (the test is about the crash).
    return start_release_world(start_simulator, local_cloud_factory, tmp_path, time_scale=30.0)


def test_a_preparation_that_crashes_after_its_leases_frees_only_its_own(
    world: ReleaseWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowops.publish.lease import PublishLeaseStore
    from flowops.release import steps

    leases = PublishLeaseStore(world.env["STATE_TABLE"], world.cloud.dynamodb)

    # Given PrepareRelease crashes right after taking the leases of the module and its consumers,
    # and meanwhile Main IVR's lease passed to another run (this one's had expired)
    def crash(*_: Any, **__: Any) -> Any:
        leases.acquire(world.org, MAIN, "publish-other", now=10**10, ttl_seconds=600)
        raise RuntimeError("the preparation crashed")

    prepared_waves = steps._prepared_waves
    monkeypatch.setattr(steps, "_prepared_waves", crash)
    # When the release runs
    result = world.release("release-prepare-crash", FLOWS)
    # Then it ends PreparationFailed after freeing its leases; the other run's lease stands
    assert result.status == "FAILED" and result.error == "RuntimeError", (result.error, result.cause)
    assert "FreePreparationLeases" in result.states_entered()
    assert leases.holder(world.org, MODULE) is None
    holder = leases.holder(world.org, MAIN)
    assert holder is not None and holder.run_id == "publish-other"
    assert [lease["run_id"]["S"] for lease in world.lease_holders()] == ["publish-other"]
    # and the record and the audit trail say why, nothing was deployed
    record = world.record("release-prepare-crash")
    assert record.status == "FAILED" and record.details["outcome"] == "PREPARATION_FAILED"
    assert "the preparation crashed" in record.details["cause"]
    assert world.audit_kinds("release-prepare-crash") == ["release.preparation_failed"]
    assert world.published_versions()["COMMONMODULE/Shared Menu"] == "1.0"
    # and once the other run is done, the same release goes through at once
    monkeypatch.setattr(steps, "_prepared_waves", prepared_waves)
    leases.release(world.org, MAIN, "publish-other")
    again = world.release("release-after-crash", FLOWS)
    assert again.status == "SUCCEEDED", (again.error, again.cause)
