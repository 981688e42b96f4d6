"""A release nobody approves ends at its approval task's own timeout in the recorded
NotApproved path (leases freed, audited, `Release.NotApproved`, which ExecutionsFailed alarms),
never at the execution timeout nothing can catch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flowops.cli import exit_codes
from flowops.cli.release import release_exit_code
from flowops.release.steps import APPROVAL_WINDOW_SECONDS
from tests.e2e.publish_helpers import with_definition_edit
from tests.e2e.release.helpers import ReleaseWorld, start_release_world
from tests.integration.release.world import flow_yaml, queue

pytestmark = pytest.mark.slow

# The callback wait is real time in the local runtime (moto waits for the token), so the window
# is shortened to seconds; the stack's is APPROVAL_WINDOW_SECONDS.
SHORT_APPROVAL_WINDOW_SECONDS = 3
FLOWS = {
    "commonModule/shared-menu.yaml": flow_yaml(
        "COMMONMODULE", "Shared Menu", queue("Sales"), description="v2"
    ),
}


def with_approval_window(template: dict[str, Any], seconds: int) -> dict[str, Any]:
    """The template with the release's approval task timing out after `seconds`."""
    return with_definition_edit(
        template,
        "ReleaseWorkflow",
        rf'"TimeoutSeconds":{APPROVAL_WINDOW_SECONDS}\b',
        f'"TimeoutSeconds":{seconds}',
    )


@pytest.fixture
def world(
    start_simulator: Callable[..., Any],
    local_cloud_factory: Callable[..., Any],
    synthesized_template: dict[str, Any],
    tmp_path: Path,
) -> ReleaseWorld:
    template = with_approval_window(synthesized_template, SHORT_APPROVAL_WINDOW_SECONDS)
    world = start_release_world(
        start_simulator, lambda **kwargs: local_cloud_factory(template=template, **kwargs), tmp_path
    )
    world.cloud.runner.env_overrides["FLOWOPS_APPROVAL_REQUIRED"] = "true"
    return world


def test_a_release_nobody_approves_ends_recorded_at_its_approval_timeout(world: ReleaseWorld) -> None:
    before = world.published_versions()
    # When a release to an environment needing approval is never approved
    result = world.release("release-unapproved", FLOWS, timeout=120)
    # Then the approval task timed out (States.Timeout), caught into RecordNotApproved
    assert result.status == "FAILED", (result.error, result.cause, result.states_entered())
    assert result.error == "Release.NotApproved"
    entered = result.states_entered()
    assert entered.index("WaitForApproval") < entered.index("RecordNotApproved")
    assert "PublishWaves" not in entered
    # And nothing was deployed, the record says why, the leases are free, the audit says so
    assert world.published_versions() == before
    record = world.record("release-unapproved")
    assert record.status == "FAILED" and record.details["outcome"] == "NOT_APPROVED"
    assert "States.Timeout" in record.details["cause"]
    assert world.lease_holders() == []
    assert world.audit_kinds("release-unapproved")[-1] == "release.not_approved"
    # And the backstop leaves the recorded end alone; the CLI says refused (nothing changed)
    world.cloud.events.drain(timeout=60)
    assert world.record("release-unapproved").status == "FAILED"
    summary = {"status": result.status, "error": result.error, "cause": result.cause, "interruption": None}
    assert release_exit_code(summary, {}) == exit_codes.REFUSED
