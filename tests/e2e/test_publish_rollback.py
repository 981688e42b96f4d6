"""The synthesized publish state machine when the publish goes wrong after StartPublish: job
Failure, a job past its deadline, a failed health check (rolled back), a failed rollback
(RollbackFailed + SNS), Genesys 5xx/429 storms (retried), and locked flows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from flowops.local.runtime.cloud import LOCAL_GENESYS_CREDENTIALS
from flowops.local.simulator.model import Principal
from tests.e2e.publish_helpers import MAIN_FLOW, PublishWorld, start_world

pytestmark = pytest.mark.slow

JOB_STATUS = "GET /api/v2/flows/jobs/{jobId}"
ROLLED_BACK_ERROR = "Publish.RolledBack"


@pytest.fixture
def world_factory(
    start_simulator: Callable[..., Any], local_cloud_factory: Callable[..., Any]
) -> Callable[..., PublishWorld]:
    return lambda **options: start_world(start_simulator, local_cloud_factory, **options)


def assert_restored_to_known_good(world: PublishWorld, run_id: str, result: Any) -> None:
    """Invariants of a rolled-back run: the org publishes a NEW version that runs the known-good
    release's content (2.0), and the lock, artifacts, run item, audit and lease all say so."""
    assert result.status == "FAILED" and result.error == ROLLED_BACK_ERROR, (result.error, result.cause)
    snapshot_yaml = world.artifact(f"flows/{world.org}/{MAIN_FLOW}/2.0.yaml").decode()
    assert world.published_yaml() == snapshot_yaml
    live_version = world.sim_flow()["publishedVersion"]
    assert f"version {live_version}" in (result.cause or "")
    assert "content of known-good release 2.0" in (result.cause or "")
    assert world.lock().flow(MAIN_FLOW).published_version == live_version
    assert world.artifact(f"flows/{world.org}/{MAIN_FLOW}/{live_version}.yaml").decode() == snapshot_yaml
    run = world.run_item(run_id)
    assert run.status == "ROLLED_BACK"
    assert run.details["restored_version"] == live_version and run.details["restored_release"] == "2.0"
    assert run.details["snapshot_version"] == "2.0"
    assert world.audit_kinds(run_id) == ["publish.rolled_back"]
    assert world.lease_holder() is None
    assert world.sns_messages() == []


def assert_untouched(world: PublishWorld, run_id: str, result: Any, *, version_count: int = 2) -> None:
    """Invariants of a run that changed nothing: PublishFailed, 2.0 live with its content and no new
    version, the lock and the run item say 2.0, nobody paged, the lease free."""
    assert result.status == "FAILED" and result.error not in (ROLLED_BACK_ERROR, "Publish.RollbackFailed")
    assert result.states_entered()[-1] == "PublishFailed", result.states_entered()
    assert "WaitForRollback" not in result.states_entered()
    flow = world.sim_flow()
    assert flow["publishedVersion"] == "2.0" and len(flow["versions"]) == version_count
    assert world.published_yaml() == world.artifact(f"flows/{world.org}/{MAIN_FLOW}/2.0.yaml").decode()
    assert world.lock().flow(MAIN_FLOW).published_version == "2.0"
    run = world.run_item(run_id)
    assert run.status == "FAILED" and run.status != "ROLLING_BACK"
    assert world.audit_kinds(run_id) == ["publish.failed"]
    assert world.sns_messages() == []
    assert world.lease_holder() is None


def test_a_job_architect_refused_changes_nothing_and_nothing_is_redeployed(
    world_factory: Callable[..., PublishWorld],
) -> None:
    # Given Genesys fails every publish of Main IVR (Architect refuses the job: nothing changes)
    world = world_factory(faults="publish-fail=Main IVR")
    # When version 3 is published
    result = world.publish("publish-job-fails")
    # Then the job's Error text is carried verbatim, and since the published version never
    # moved nothing is redeployed: PublishFailed, no new version, no page
    assert "Publish.JobFailed" in (result.cause or "")
    assert "An error occurred publishing flow 'Main IVR': the flow could not be generated." in (
        result.cause or ""
    )
    assert "still publishes version 2.0" in (result.cause or "")
    assert_untouched(world, "publish-job-fails", result)
    assert world.run_item("publish-job-fails").details["live_version"] == "2.0"
    # And every Architect job came from a StartPublish attempt, none from a rollback (an attempt
    # its Lambda ran out of time for before the upload is retried and may register a fresh job)
    start_attempts = [
        i for i in world.cloud.runner.invocations if i.handler.endswith("start_publish.handler")
    ]
    assert start_attempts
    assert world.counters().get("POST /api/v2/flows/jobs") == len(start_attempts)


def test_genesys_unreachable_at_start_publish_ends_publish_failed_without_a_page(
    world_factory: Callable[..., PublishWorld], before_handler: Callable[[str, Callable[[], None]], None]
) -> None:
    # Given Genesys stops answering (every connection reset) when StartPublish begins, for good
    world = world_factory()
    before_handler("start_publish", lambda: world.sim.set_faults("reset=1.0"))
    # When version 3 is published
    result = world.publish("publish-unreachable", timeout=300)
    # Then nothing was deployed, so nothing is rolled back and nobody is paged
    world.sim.set_faults("")
    assert "Genesys.Unavailable" in (result.cause or "")
    assert_untouched(world, "publish-unreachable", result)


def test_job_still_running_at_the_deadline_is_fenced_then_rolled_back(
    world_factory: Callable[..., PublishWorld],
) -> None:
    # Given real time (a job takes ~5 s; each state costs the local runtime ~0.3 s) and a
    # 1.5-second publish deadline
    world = world_factory(time_scale=1.0)
    timing = {"first_poll_seconds": 1, "publish_deadline_seconds": 1.5}
    # When version 3 is published
    result = world.publish("publish-deadline", timing=timing)
    # Then the run gave up at the deadline, waited for the late job to end (fence), and only then
    # restored the known-good release over the late job's version
    assert "Publish.DeadlineExceeded" in (result.cause or "") and "deadline 2 s" in (result.cause or "")
    entered = result.states_entered()
    assert entered.count("RollbackToPreviousVersion") == 2  # fence, then the decision
    assert_restored_to_known_good(world, "publish-deadline", result)
    assert world.sim_flow()["publishedVersion"] == "4.0"  # 3.0 = the late job, 4.0 = the restore


def test_a_job_finishing_after_its_deadline_and_after_the_rollback_started_is_fenced(
    world_factory: Callable[..., PublishWorld], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Architect jobs stay Started (`job=stuck`) past the 30-second publish deadline, and
    # only finish after the rollback step began waiting (the third fence poll)
    world = world_factory(faults="job=stuck")
    import flowops.functions.publish.check_job as module

    real = module.handler
    fence_polls: list[int] = []

    def handler(event: Any, context: Any) -> Any:
        if event.get("progress", {}).get("purpose") == "fence":
            fence_polls.append(1)
            if len(fence_polls) == 3:
                world.sim.set_faults("")  # the late job finishes now
        return real(event, context)

    monkeypatch.setattr(module, "handler", handler)
    timing = {"first_poll_seconds": 2, "publish_deadline_seconds": 30}
    # When version 3 is published
    result = world.publish("publish-job-late", timing=timing)
    # Then no rollback job started before the late job ended: the late job's version (3.0) was
    # replaced by the restore (4.0), which runs the known-good content, as every record says
    assert len(fence_polls) >= 3
    assert "Publish.DeadlineExceeded" in (result.cause or "") and "still Started" in (result.cause or "")
    assert world.counters().get("POST /api/v2/flows/jobs") == 2  # the publish, then one rollback
    assert_restored_to_known_good(world, "publish-job-late", result)
    assert world.sim_flow()["publishedVersion"] == "4.0"


def test_failed_health_check_rolls_back_to_the_known_good_release(
    world_factory: Callable[..., PublishWorld], before_health_check: Callable[[Callable[[], None]], None]
) -> None:
    # Given someone republishes Main IVR outside the pipeline right after our job succeeded
    world = world_factory()
    before_health_check(lambda: publish_out_of_band(world))
    # When version 3 is published
    result = world.publish("publish-unhealthy")
    # Then the health check saw another version live and the run restored the known-good release
    assert "Publish.HealthCheckFailed" in (result.cause or "")
    assert "someone else published" in (result.cause or "")
    assert_restored_to_known_good(world, "publish-unhealthy", result)


def publish_out_of_band(world: PublishWorld) -> None:
    from flowops.clock import ScaledClock
    from flowops.genesys import ClientCredentials, GenesysClient

    client_id, client_secret = LOCAL_GENESYS_CREDENTIALS
    with GenesysClient(
        ClientCredentials(client_id=client_id, client_secret=client_secret),
        base_url=world.sim.url,
        clock=ScaledClock(60),
    ) as client:
        client.publish_flow(MAIN_FLOW)
        client.wait_until(
            lambda: client.get_flow(MAIN_FLOW),
            lambda flow: bool(flow.current_operation and flow.current_operation.complete),
            what="out-of-band publish",
            poll_interval_seconds=1.0,
            timeout_seconds=120,
        )


def test_failed_rollback_ends_in_rollback_failed_with_a_notification_and_a_manual_fix(
    world_factory: Callable[..., PublishWorld],
    before_handler: Callable[[str, Callable[[], None]], None],
    before_health_check: Callable[[Callable[[], None]], None],
) -> None:
    # Given the health check fails (an out-of-band publish made 4.0 live) and then Genesys fails
    # every deploy of Main IVR, the rollback's too
    world = world_factory()
    before_health_check(lambda: publish_out_of_band(world))
    before_handler("rollback", lambda: world.sim.set_faults("publish-fail=Main IVR"))
    # When version 3 is published
    result = world.publish("publish-rollback-fails")
    world.sim.set_faults("")
    # Then the run ends in RollbackFailed, naming both errors
    assert result.status == "FAILED" and result.error == "Publish.RollbackFailed"
    assert "Publish.HealthCheckFailed" in (result.cause or "") and "rollback failed" in (result.cause or "")
    assert "NotifyRollbackFailed" in result.states_entered()
    # and an SNS notification went out with the cause
    messages = world.sns_messages()
    assert len(messages) == 1 and "ROLLBACK_FAILED" in str(messages[0]["message"])
    # and the run item holds what a person needs and the version that really is live
    run = world.run_item("publish-rollback-fails")
    live = world.sim_flow()["publishedVersion"]
    assert live == "4.0"
    assert run.status == "ROLLBACK_FAILED"
    assert run.details["snapshot_key"] == f"flows/{world.org}/{MAIN_FLOW}/2.0.yaml"
    assert "flowops rollback" in run.details["manual_fix"] and run.details["live_version"] == live
    assert world.audit_kinds("publish-rollback-fails") == ["publish.rollback_failed"]
    assert world.lease_holder() is None


def test_server_error_storm_is_retried_with_jittered_backoff_and_the_publish_succeeds(
    world_factory: Callable[..., PublishWorld],
) -> None:
    # Given Genesys answers 503 to everything once the job is registered, until two polls failed
    world = world_factory()
    retries_per_call = 6  # the client's own attempts before it raises Genesys.ServerError
    stop = threading.Event()

    def storm_then_heal() -> None:
        while not stop.is_set() and not world.counters().get("POST /api/v2/flows/jobs"):
            time.sleep(0.002)
        world.sim.set_faults("5xx=1.0")
        while not stop.is_set():
            if world.counters().get(JOB_STATUS, 0) >= 2 * retries_per_call:
                world.sim.set_faults("")
                return
            time.sleep(0.002)

    storm = threading.Thread(target=storm_then_heal, daemon=True)
    storm.start()
    try:
        # When version 3 is published
        result = world.publish("publish-5xx-storm")
    finally:
        stop.set()
        storm.join(timeout=5)
    # Then the state machine retried the poll with full jitter under the doubling ceiling
    assert result.status == "SUCCEEDED", result.cause
    retries = result.delays_of("CheckPublishJob", "retry")
    assert len(retries) >= 2
    assert all(0 <= delay <= 5 * 2**attempt for attempt, delay in enumerate(retries))
    assert world.sim_flow()["publishedVersion"] == "3.0"
    assert world.lock().flow(MAIN_FLOW).published_version == "3.0"


def test_rate_limit_storm_is_absorbed(world_factory: Callable[..., PublishWorld]) -> None:
    # Given an org whose rate limit dropped to 15 requests per minute
    world = world_factory()
    world.sim.set_faults("storm=15")
    # When version 3 is published
    result = world.publish("publish-429-storm")
    # Then the client honoured Retry-After and the publish succeeded
    assert result.status == "SUCCEEDED", result.cause
    assert world.sim_flow()["publishedVersion"] == "3.0"
    assert world.run_item("publish-429-storm").status == "SUCCEEDED"


def lock_main_flow(world: PublishWorld) -> None:
    world.sim.org.flows[MAIN_FLOW].locked_by = Principal(
        "u-jane", "Jane Architect", "architect-ui", "Architect UI"
    )


def test_flow_locked_by_someone_else_is_refused_without_force_unlock(
    world_factory: Callable[..., PublishWorld],
) -> None:
    # Given Jane has Main IVR checked out in Architect
    world = world_factory()
    lock_main_flow(world)
    # When version 3 is published without force_unlock
    result = world.publish("publish-locked")
    # Then validation refuses it, naming the holder, and the lock is untouched
    assert result.status == "FAILED" and result.error == "Publish.ValidationFailed"
    assert "FLOW_LOCKED" in (result.cause or "") and "Jane Architect" in (result.cause or "")
    assert world.sim_flow()["lockedBy"]["user"] == "Jane Architect"
    assert not world.counters().get("POST /api/v2/flows/actions/unlock")
    assert world.lease_holder() is None


def test_force_unlock_removes_the_lock_audits_it_and_publishes(
    world_factory: Callable[..., PublishWorld],
) -> None:
    # Given Jane has Main IVR checked out in Architect
    world = world_factory()
    lock_main_flow(world)
    # When version 3 is published with force_unlock
    result = world.publish("publish-force-unlock", force_unlock=True)
    # Then the lock was removed once, audited, and the publish went through
    assert result.status == "SUCCEEDED", result.cause
    assert world.counters().get("POST /api/v2/flows/actions/unlock") == 1
    assert world.sim_flow()["lockedBy"] is None
    assert world.audit_kinds("publish-force-unlock") == ["publish.force_unlock", "publish.released"]
    assert any("FLOW_UNLOCKED" in warning for warning in result.output["warnings"])
