"""A release execution that reaches its execution timeout (uncatchable in AWS) ends recorded,
unleased and paged all the same: the synthesized EventBridge rule delivers its status change to
RecordUnfinishedRun (flowops.unfinished), and the CLI following it says what that record says."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flowops.cli import exit_codes
from flowops.cli.publish import follow_execution
from flowops.cli.release import release_exit_code
from tests.e2e.publish_helpers import with_execution_timeout
from tests.e2e.release.helpers import ReleaseWorld, start_release_world
from tests.integration.release.world import MODULE, flow_yaml, queue

pytestmark = pytest.mark.slow

# Shorter than a stuck job's 960 s deadline: the execution timeout is what ends the run. On a
# clock 30 times real, so the preparation before the wave has 30 s of real time on a loaded machine.
SHORT_RELEASE_TIMEOUT_SECONDS = 900
TIME_SCALE = 30.0
UNFINISHED_RULE = "UnfinishedRunsReleaseEnded"
FLOWS = {
    "commonModule/shared-menu.yaml": flow_yaml(
        "COMMONMODULE", "Shared Menu", queue("Sales"), description="v2"
    ),
}


@pytest.fixture
def world(
    start_simulator: Callable[..., Any],
    local_cloud_factory: Callable[..., Any],
    synthesized_template: dict[str, Any],
    tmp_path: Path,
) -> ReleaseWorld:
    # Architect jobs that never finish (`job=stuck`) and a release machine that times out first
    template = with_execution_timeout(synthesized_template, "ReleaseWorkflow", SHORT_RELEASE_TIMEOUT_SECONDS)
    return start_release_world(
        start_simulator,
        lambda **kwargs: local_cloud_factory(template=template, **kwargs),
        tmp_path,
        time_scale=TIME_SCALE,
        faults="job=stuck",
    )


def test_a_release_that_reaches_its_execution_timeout_is_recorded_unleased_and_paged(
    world: ReleaseWorld,
) -> None:
    # When a release deploys a flow whose Architect job never ends
    result = world.release("release-timeout", FLOWS, timeout=300)
    # Then the execution timed out while polling the job in its wave, uncaught, as in AWS
    assert result.status == "TIMED_OUT", (result.error, result.cause, result.states_entered())
    assert "CheckFlowPublishJob" in result.states_entered()
    assert "PlanRollback" not in result.states_entered()
    # And the backstop received its status change once, and recorded it: interrupted by the
    # timeout, with what to check (the job may still publish the module)
    world.cloud.events.drain(timeout=60)
    deliveries = [
        d for d in world.cloud.events.deliveries_to(UNFINISHED_RULE) if "release-timeout" in d.payload
    ]
    assert len(deliveries) == 1 and deliveries[0].error is None, deliveries
    record = world.record("release-timeout")
    assert record.status == "INTERRUPTED"
    assert record.details["interrupted_by"] == "TIMED_OUT"
    assert "may have deployed some of its flows" in record.details["manual_check"]
    assert MODULE in record.details["leases_released"]
    # And its leases are free, the audit says so, and people were paged on the rollback topic
    assert world.lease_holders() == []
    assert world.audit_kinds("release-timeout")[-1] == "release.interrupted"
    pages = [s for s in world.sns_subjects() if "release-timeout" in s]
    assert len(pages) == 1 and "TIMED_OUT" in pages[0], pages
    # And the CLI following the run reads that record: Genesys may have changed, exit 7
    summary = follow_execution(world.connection(), result.execution_arn, timeout=30, record_grace=30)
    interruption = summary["interruption"]
    assert interruption["recorded"] and interruption["genesys_may_have_changed"]
    assert any(line.startswith("check by hand: release release-timeout") for line in interruption["lines"])
    assert release_exit_code(summary, {}) == exit_codes.ROLLBACK_FAILED
    assert json.dumps(interruption)  # what --json prints
