"""The synthesized publish state machine with an Architect failure too large for the state.

3,000 job messages are about 400 KB of text; Step Functions limits a state to 256 KB and
`States.DataLimitExceeded` is caught by no `States.ALL`. Before the state was bounded, this run
died on the spot: no rollback, no record, the run item RUNNING and the lease held.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.publish_helpers import PublishWorld, start_world

pytestmark = pytest.mark.slow

JOB_ERRORS = 3_000
TERMINAL_RUN_STATUSES = {"ROLLED_BACK", "FAILED", "ROLLBACK_FAILED"}


def test_a_publish_with_3000_architect_errors_ends_in_its_failure_path_with_the_full_list_in_s3(
    start_simulator: Callable[..., Any],
    local_cloud_factory: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given Architect fails the publish of Main IVR with 3,000 error messages (until any
    # rollback starts, so a rollback would succeed)
    world: PublishWorld = start_world(
        start_simulator, local_cloud_factory, faults=f"publish-fail=Main IVR,job-errors={JOB_ERRORS}"
    )
    import flowops.functions.publish.rollback as rollback_module

    real_rollback = rollback_module.handler
    cleared = threading.Event()

    def rollback_after_genesys_recovers(event: Any, context: Any) -> Any:
        if not cleared.is_set():
            cleared.set()
            world.sim.set_faults("")
        return real_rollback(event, context)

    monkeypatch.setattr(rollback_module, "handler", rollback_after_genesys_recovers)

    # When version 3 is published through the synthesized state machine
    result = world.publish("publish-3000-errors", timeout=240)

    # Then the execution ends in a Fail state of the machine, not on the 256 KB limit
    assert result.status == "FAILED"
    assert result.error != "States.DataLimitExceeded", result.cause
    assert "Publish.JobFailed" in (result.cause or "")
    # And every state's input and output stayed far below the limit
    largest = max(len(json.dumps(event)) for event in result.events)
    assert largest < 64 * 1024
    # And the run is recorded as finished, its lease released, its end audited
    run = world.run_item("publish-3000-errors")
    assert run.status in TERMINAL_RUN_STATUSES
    assert world.lease_holder() is None
    assert world.audit_kinds("publish-3000-errors")
    # And the cause names the S3 key holding the full text, which has every message
    match = re.search(r"full text at S3 key (state/[\w./-]+\.json)", result.cause or "")
    assert match, result.cause
    full = json.loads(world.artifact(match.group(1)))["text"]
    assert f"Unable to find a queue named 'Support Queue {JOB_ERRORS - 1}'" in full
    assert full.count("Unable to find a queue named") == JOB_ERRORS - 1
