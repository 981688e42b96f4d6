"""The synthesized publish state machine when LAMBDA fails, not Genesys: a throttled invoke at
StartPublish, a step killed at its timeout, and a step whose Genesys client runs out of time.
Each is retried by the state machine and the run is published; none rolls back.

The local runtime reports these as AWS does (`Lambda.TooManyRequestsException`, `Lambda.Unknown`)
and kills a function at its configured timeout on the function's clock.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from typing import Any

import pytest

from flowops.clock import process_clock
from tests.e2e.publish_helpers import PublishWorld, start_world

pytestmark = pytest.mark.slow


@pytest.fixture
def world(start_simulator: Callable[..., Any], local_cloud_factory: Callable[..., Any]) -> PublishWorld:
    return start_world(start_simulator, local_cloud_factory)


def _calls(world: PublishWorld, handler: str) -> list[str | None]:
    return [call.error_type for call in world.cloud.runner.invocations if call.handler == handler]


def _on_first_call(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str, first: Callable[..., Any]
) -> None:
    """The first call of `module.name` runs `first(original, *args, **kwargs)`; later ones run it
    unchanged (the state machine's retry of the step)."""
    original, calls = getattr(module, name), itertools.count()

    def patched(*args: Any, **kwargs: Any) -> Any:
        if next(calls) == 0:
            return first(original, *args, **kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, patched)


def _assert_published_without_rollback(world: PublishWorld, result: Any) -> None:
    assert result.status == "SUCCEEDED", result.cause
    assert "RollbackToPreviousVersion" not in result.states_entered()
    assert world.sim_flow()["publishedVersion"] == "3.0"
    assert world.run_item(result.name).status == "SUCCEEDED"


def test_a_throttled_invoke_at_start_publish_is_retried_not_rolled_back(world: PublishWorld) -> None:
    # Given Lambda throttling the next invoke of the StartPublish function
    world.cloud.runner.inject_service_error("publish.start_publish", "TooManyRequestsException")
    # When a publish runs
    result = world.publish("throttled-start")
    # Then the throttle reached the state machine under Lambda's name and was retried
    assert _calls(world, "flowops.functions.publish.start_publish.handler") == [
        "Lambda.TooManyRequestsException",
        None,
    ]
    assert len(result.delays_of("StartPublish", "retry")) == 1
    # And the run published the new version
    _assert_published_without_rollback(world, result)


def test_a_step_killed_at_its_timeout_is_retried_not_rolled_back(
    world: PublishWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the first poll of the publish job hangs past its function's timeout
    import flowops.functions.publish.check_publish as step

    def hangs(original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        # Waits forever on the accelerated clock (as a step waiting on Genesys does locally): its
        # 300 s budget passes in 5 real seconds at x60, where a compute loop would take 300.
        clock = process_clock(float(os.environ["FLOWOPS_TIME_SCALE"]))
        while True:  # never returns: Lambda kills it
            clock.sleep(1.0)

    _on_first_call(monkeypatch, step, "check_publish_job", hangs)
    # When a publish runs
    result = world.publish("killed-poll")
    # Then Lambda killed the poll, Step Functions saw Lambda.Unknown and retried it
    assert _calls(world, "flowops.functions.publish.check_publish.handler")[0] == "Timeout"
    assert len(result.delays_of("CheckPublishJob", "retry")) == 1
    # And the run published the new version
    _assert_published_without_rollback(world, result)


def test_a_genesys_client_out_of_time_raises_the_retryable_error_in_time(
    world: PublishWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Genesys answering every request after 70 s while the first StartPublish runs: longer
    # than its 60 s function, so the client must give up on the request in time
    import flowops.functions.publish.start_publish as step

    def with_slow_genesys(original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        world.sim.set_faults("latency=70")
        try:
            return original(*args, **kwargs)
        finally:
            world.sim.set_faults("")

    _on_first_call(monkeypatch, step, "start_publish", with_slow_genesys)
    # When a publish runs
    result = world.publish("out-of-time")
    # Then the first StartPublish stopped itself with a retryable Genesys error (not killed)
    errors = _calls(world, "flowops.functions.publish.start_publish.handler")
    assert errors[0] == "Genesys.Unavailable", errors
    assert "Timeout" not in errors
    assert errors[-1] is None
    # And the state machine retried it and the run published the new version
    assert result.delays_of("StartPublish", "retry")
    _assert_published_without_rollback(world, result)
