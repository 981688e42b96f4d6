"""The synthesized publish state machine when DynamoDB answers RecordRelease ambiguously: a
conditional write applied but answered with ConditionalCheckFailedException (botocore retried a
write whose first answer was lost), or the step failing after the release was committed. The
run ends Published, and the org, the lock, the run item, the artifacts, the audit log and the
lease all agree (finding 1 of the fault campaign, docs/decisions.md, "Publish pipeline")."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from bench.campaign import DYNAMODB_CONDITIONAL_WRITES, AwsFaultInjector, AwsFaultRule
from tests.e2e.publish_helpers import MAIN_FLOW, PublishWorld, start_world

pytestmark = pytest.mark.slow


@dataclass
class ItemRule(AwsFaultRule):
    """A campaign fault rule limited to the writes whose parameters `params_match` accepts."""

    params_match: Callable[[dict[str, Any]], bool] = field(default=lambda params: True)

    def matches(self, service: str, operation: str, params: dict[str, Any]) -> bool:
        return super().matches(service, operation, params) and self.params_match(params)


def _audit_event_put(params: dict[str, Any]) -> bool:
    item = params.get("Item", {})
    return "audit" in params["TableName"].lower() and item.get("pk", {}).get("S", "").startswith("ORG#")


def _run_moves_to_succeeded(params: dict[str, Any]) -> bool:
    return params.get("ExpressionAttributeValues", {}).get(":to", {}).get("S") == "SUCCEEDED"


@pytest.fixture
def injector() -> Iterator[AwsFaultInjector]:
    faults = AwsFaultInjector()
    with faults.installed():
        yield faults


@pytest.fixture
def arm_before_record_release(
    monkeypatch: pytest.MonkeyPatch, injector: AwsFaultInjector
) -> Callable[[AwsFaultRule], None]:
    """Arm `rule` right before the real RecordRelease handler runs (so only its writes can fail)."""
    import flowops.functions.publish.record_release as module

    def arm(rule: AwsFaultRule) -> None:
        real = module.handler
        armed = threading.Event()

        def handler(event: Any, context: Any) -> Any:
            if not armed.is_set():
                armed.set()
                injector.arm([rule])
            return real(event, context)

        monkeypatch.setattr(module, "handler", handler)

    return arm


def assert_released_consistently(world: PublishWorld, run_id: str, result: Any) -> None:
    """Invariants of a finished release: org, lock, run item, artifacts, audit, lease agree."""
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.states_entered()[-1] == "Published"
    live = world.sim_flow()["publishedVersion"]
    assert live != "2.0"
    assert result.output["published_version"] == live and result.output["previous_version"] == "2.0"
    run = world.run_item(run_id)
    assert run.status == "SUCCEEDED" and run.details["published_version"] == live
    assert world.lock().flow(MAIN_FLOW).published_version == live  # lock() verifies the pointer's sha
    assert world.artifact(f"flows/{world.org}/{MAIN_FLOW}/{live}.yaml").decode() == world.published_yaml()
    assert world.audit_kinds(run_id) == ["publish.released"]
    assert world.lease_holder() is None
    assert world.sns_messages() == []


@pytest.mark.parametrize(
    "params_match",
    [_audit_event_put, _run_moves_to_succeeded],
    ids=["audit-append", "run-item-succeeded"],
)
def test_an_ambiguous_conditional_write_in_record_release_still_ends_published(
    start_simulator: Callable[..., Any],
    local_cloud_factory: Callable[..., Any],
    injector: AwsFaultInjector,
    arm_before_record_release: Callable[[AwsFaultRule], None],
    params_match: Callable[[dict[str, Any]], bool],
) -> None:
    # Given a scanned org and one conditional write of RecordRelease that is applied, then
    # answered with ConditionalCheckFailedException
    world = start_world(start_simulator, local_cloud_factory)
    rule = ItemRule(
        "dynamodb", DYNAMODB_CONDITIONAL_WRITES, "ConditionalCheckFailedException", 400, skip=0, count=1,
        conditional_only=True, params_match=params_match,
    )  # fmt: skip
    arm_before_record_release(rule)
    # When version 3 is published
    result = world.publish("publish-ambiguous")
    injector.disarm()
    # Then the ambiguous write happened, and the run ends Published with every record consistent
    assert rule.fired == 1
    assert "RollbackToPreviousVersion" not in result.states_entered()
    assert_released_consistently(world, "publish-ambiguous", result)


def test_record_release_failing_after_its_commit_ends_published_without_a_rollback(
    start_simulator: Callable[..., Any],
    local_cloud_factory: Callable[..., Any],
    injector: AwsFaultInjector,
    arm_before_record_release: Callable[[AwsFaultRule], None],
) -> None:
    # Given the release's audit event is throttled on every attempt of RecordRelease (after the
    # run item moved to SUCCEEDED), and then no more
    world = start_world(start_simulator, local_cloud_factory)
    rule = ItemRule(
        "dynamodb", frozenset({"PutItem"}), "ThrottlingException", 400, skip=0, count=5,
        params_match=_audit_event_put,
    )  # fmt: skip
    arm_before_record_release(rule)
    # When version 3 is published
    result = world.publish("publish-after-commit")
    injector.disarm()
    # Then the Catch found the committed release: nothing was redeployed, the run ends Published
    assert rule.fired == 5
    entered = result.states_entered()
    assert "ParkUnrecordedRelease" in entered and "KeepTheReleaseFoundWhenParking" in entered
    assert "RollbackToPreviousVersion" not in entered and "WaitForRollback" not in entered
    assert_released_consistently(world, "publish-after-commit", result)
