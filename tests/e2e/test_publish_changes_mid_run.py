"""The synthesized publish state machine when a write's answer is lost, when the stores or Genesys
fail after the release went live, and when the flow is renamed or deleted mid-run (issue 12).

Every test reads the simulator's published version AND content and checks the run item, the
audit trail, the lock and the lease say the same."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bench.campaign import CONNECT_FAILURE, CONNECTION_LOST, AwsFaultInjector, AwsFaultRule
from tests.e2e.publish_helpers import MAIN_FLOW, PublishWorld, start_world

pytestmark = pytest.mark.slow


@pytest.fixture
def world(start_simulator: Callable[..., Any], local_cloud_factory: Callable[..., Any]) -> PublishWorld:
    return start_world(start_simulator, local_cloud_factory)


@pytest.fixture
def injector() -> Iterator[AwsFaultInjector]:
    faults = AwsFaultInjector()
    with faults.installed():
        yield faults


def released_version_runs_the_new_yaml(world: PublishWorld, run_id: str, result: Any) -> str:
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    live = world.sim_flow()["publishedVersion"]
    assert "Welcome to Example Corp." in world.published_yaml()
    assert result.output["published_version"] == live
    run = world.run_item(run_id)
    assert run.status == "SUCCEEDED" and run.details["published_version"] == live
    assert world.lock().flow(MAIN_FLOW).published_version == live
    assert world.artifact(f"flows/{world.org}/{MAIN_FLOW}/{live}.yaml").decode() == world.published_yaml()
    assert world.audit_kinds(run_id) == ["publish.released"]
    assert world.lease_holder() is None
    return str(live)


# ---- answers lost after a successful write -------------------------------------------------------


def test_an_upload_whose_answer_was_lost_is_not_resent_and_the_release_stands(
    world: PublishWorld, before_handler: Callable[[str, Callable[[], None]], None]
) -> None:
    # Given the answer to the job's YAML upload is lost although Genesys took the upload
    before_handler("start_publish", lambda: world.sim.set_faults("lost-answer=upload"))
    # When version 3 is published
    result = world.publish("publish-upload-answer-lost")
    # Then the job's status proved the upload arrived: no second job, no 403, no rollback
    assert "RollbackToPreviousVersion" not in result.states_entered()
    assert world.counters().get("POST /api/v2/flows/jobs") == 1
    assert released_version_runs_the_new_yaml(world, "publish-upload-answer-lost", result) == "3.0"
    assert len(world.sim_flow()["versions"]) == 3


def test_a_version_publish_whose_answer_was_lost_publishes_once(
    world: PublishWorld, before_handler: Callable[[str, Callable[[], None]], None]
) -> None:
    # Given the answer to `POST /flows/actions/publish` is lost although Genesys started it
    before_handler("start_publish", lambda: world.sim.set_faults("lost-answer=publish"))
    # When the existing version 1.0 is published again
    result = world.publish("publish-version-answer-lost", version="1.0")
    # Then the request was sent once (never blindly resent), the operation was adopted, and
    # exactly one new version exists and is live
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert world.counters().get("POST /api/v2/flows/actions/publish") == 1
    flow = world.sim_flow()
    assert flow["publishedVersion"] == "3.0" and len(flow["versions"]) == 3
    assert world.run_item("publish-version-answer-lost").details["published_version"] == "3.0"
    assert world.lock().flow(MAIN_FLOW).published_version == "3.0"


# ---- failures after the release went live ----------------------------------------------------


def assert_parked(world: PublishWorld, run_id: str, result: Any) -> None:
    """A live, verified release whose records failed: never rolled back; parked, and it says so."""
    assert result.status == "FAILED" and result.error == "Publish.ReleaseUnrecorded", result.cause
    assert "RollbackToPreviousVersion" not in result.states_entered()
    flow = world.sim_flow()
    assert flow["publishedVersion"] == "3.0" and "Welcome to Example Corp." in world.published_yaml()
    run = world.run_item(run_id)
    assert run.status == "RELEASE_UNRECORDED" and run.details["published_version"] == "3.0"
    assert "flowops scan" in run.details["repair"] and "version 3.0" in (result.cause or "")
    assert world.audit_kinds(run_id) == ["publish.release_unrecorded"]
    assert world.lease_holder() is None
    assert world.sns_messages() == []


def test_a_genesys_outage_during_record_release_never_reverts_the_healthy_release(
    world: PublishWorld, before_handler: Callable[[str, Callable[[], None]], None]
) -> None:
    # Given Genesys stops answering right after the health check passed
    before_handler("record_release", lambda: world.sim.set_faults("reset=1.0"))
    # When version 3 is published
    result = world.publish("publish-outage-at-record", timeout=300)
    world.sim.set_faults("")
    # Then the release stands, the run is parked for repair and says what is live
    assert_parked(world, "publish-outage-at-record", result)
    # and the repair the run names (a scan) records the live version in the lock
    world.scan()
    assert world.lock().flow(MAIN_FLOW).published_version == "3.0"


def test_a_brief_s3_connection_loss_during_record_release_is_retried_and_released(
    world: PublishWorld,
    injector: AwsFaultInjector,
    before_handler: Callable[[str, Callable[[], None]], None],
) -> None:
    # Given the first S3 calls of RecordRelease fail to connect, and one write is applied but
    # its answer lost (the connection closed)
    rules = [
        AwsFaultRule("s3", frozenset({"PutObject", "GetObject", "HeadObject"}), CONNECT_FAILURE, 0, 0, 2),
        AwsFaultRule("s3", frozenset({"PutObject"}), CONNECTION_LOST, 0, 1, 1),
    ]
    before_handler("record_release", lambda: injector.arm(rules))
    # When version 3 is published
    result = world.publish("publish-s3-blip")
    injector.disarm()
    # Then the store error was the retryable one: the step retried, and the release is recorded
    assert sum(rule.fired for rule in rules) == 3
    assert released_version_runs_the_new_yaml(world, "publish-s3-blip", result) == "3.0"


def test_an_s3_outage_during_record_release_parks_the_release(
    world: PublishWorld,
    injector: AwsFaultInjector,
    before_handler: Callable[[str, Callable[[], None]], None],
) -> None:
    # Given S3 cannot be reached for the whole of RecordRelease's attempts
    rule = AwsFaultRule(
        "s3", frozenset({"PutObject", "GetObject", "HeadObject"}), CONNECT_FAILURE, 0, 0, 10_000
    )
    before_handler("record_release", lambda: injector.arm([rule]))
    before_handler("park_release", injector.disarm)
    # When version 3 is published
    result = world.publish("publish-s3-outage", timeout=300)
    injector.disarm()
    # Then the healthy release was not rolled back: it is parked, and says so
    assert rule.fired > 0
    assert_parked(world, "publish-s3-outage", result)


# ---- the flow renamed or deleted mid-run ---------------------------------------------------------


def flow_names(world: PublishWorld) -> dict[str, tuple[str, bool]]:
    with world.sim.state.lock:
        return {flow.id: (flow.name, flow.deleted) for flow in world.sim.org.flows.values()}


def assert_nothing_stray(world: PublishWorld, before: dict[str, tuple[str, bool]]) -> None:
    after = flow_names(world)
    created = {flow_id: state for flow_id, state in after.items() if flow_id not in before}
    assert all(deleted for _name, deleted in created.values()), created
    assert not [
        n for n, (name, deleted) in after.items() if name == "Main IVR" and not deleted and n != MAIN_FLOW
    ]


def rename_main(world: PublishWorld) -> None:
    with world.sim.state.lock:
        world.sim.org.flows[MAIN_FLOW].name = "Main IVR (old)"


def delete_main(world: PublishWorld) -> None:
    with world.sim.state.lock:
        world.sim.org.flows[MAIN_FLOW].deleted = True


def test_a_flow_renamed_before_the_deploy_is_refused_and_nothing_changes(
    world: PublishWorld, before_handler: Callable[[str, Callable[[], None]], None]
) -> None:
    # Given Main IVR is renamed in Architect just before StartPublish
    before = flow_names(world)
    before_handler("start_publish", lambda: rename_main(world))
    # When version 3 is published (by name, through the jobs API)
    result = world.publish("publish-renamed-early")
    # Then nothing was deployed: PublishFailed naming the rename, no stray flow, 2.0 still live
    assert result.states_entered()[-1] == "PublishFailed"
    assert "Publish.FlowChanged" in (result.cause or "") and "renamed" in (result.cause or "")
    assert world.counters().get("POST /api/v2/flows/jobs") is None
    assert_nothing_stray(world, before)
    assert world.sim_flow()["publishedVersion"] == "2.0" and len(world.sim_flow()["versions"]) == 2
    run = world.run_item("publish-renamed-early")
    assert run.status == "FAILED" and world.audit_kinds("publish-renamed-early") == ["publish.failed"]
    assert world.lease_holder() is None and world.sns_messages() == []


@pytest.mark.parametrize("change", [rename_main, delete_main], ids=["renamed", "deleted"])
def test_a_flow_changed_while_its_job_runs_leaves_no_stray_flow(
    world: PublishWorld, monkeypatch: pytest.MonkeyPatch, change: Callable[[PublishWorld], None]
) -> None:
    # Given the job is held (`job=stuck`) and the flow is renamed/deleted while it waits, so
    # the job (which addresses the flow by name) creates a NEW flow called Main IVR
    before = flow_names(world)
    world.sim.set_faults("job=stuck")
    import flowops.functions.publish.check_publish as module

    real = module.handler
    changed = threading.Event()

    def handler(event: Any, context: Any) -> Any:
        if not changed.is_set():
            changed.set()
            change(world)
            world.sim.set_faults("")
        return real(event, context)

    monkeypatch.setattr(module, "handler", handler)
    # When version 3 is published
    result = world.publish(f"publish-{change.__name__}")
    # Then the job's flow id gave it away: the stray flow was deleted, the target never moved,
    # and the run ends PublishFailed saying so (nothing to roll back, nobody paged)
    assert result.states_entered()[-1] == "PublishFailed", (result.error, result.cause)
    assert "stray flow" in (result.cause or "") and "was deleted" in (result.cause or "")
    assert_nothing_stray(world, before)
    target = world.sim_flow()
    assert target["publishedVersion"] == "2.0" and len(target["versions"]) == 2
    run = world.run_item(f"publish-{change.__name__}")
    assert run.status == "FAILED" and "stray flow" in run.details["cause"]
    assert world.audit_kinds(f"publish-{change.__name__}") == ["publish.failed"]
    assert world.lease_holder() is None and world.sns_messages() == []
