"""Every record and rollback step of the publish survives its own retry and an ambiguous
conditional write (applied, but answered with ConditionalCheckFailedException, as when botocore
retries a write whose first answer was lost), and a released run is never rolled back.

Stores are moto (S3 + two DynamoDB tables); Genesys is the in-memory fake.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from flowops.genesys.models import ArchitectJob
from flowops.lock import canonical_bytes, lock_sha256, parse_lock
from flowops.publish.lease import PublishLeaseStore
from flowops.publish.models import (
    HealthOutcome,
    JobProgress,
    PublishTiming,
    RunRef,
    SnapshotOutcome,
    StepFailure,
    TargetFlow,
    ValidationOutcome,
)
from flowops.publish.steps import (
    PublishPorts,
    record_failure_before_publish,
    record_release,
    record_rollback_failed,
    record_rolled_back,
    start_rollback,
)
from flowops.store import ArtifactStore, AuditLog, LockPointerStore, RunStore, StoreError, lock_key
from flowops.store.errors import ConditionFailedError, StoreThrottledError
from tests.helpers.tables import create_pk_sk_table
from tests.unit.publish.fakes import FakeGenesys, flow, org_lock

REGION = "eu-west-1"
RUN = RunRef(run_id="run-1", started_at="2025-01-06T00:00:00Z")
YAML_KEY = "publish/dev/run-1/flow.yaml"
NEW_YAML = b"inboundCall:\n  name: Main IVR\n"
SNAPSHOT_YAML = b"inboundCall:\n  name: Main IVR (2.0)\n"
FAILURE = StepFailure(Error="Publish.HealthCheckFailed", Cause="flow errors rose")
TERMINAL_KINDS = {"publish.released", "publish.rolled_back", "publish.rollback_failed", "publish.failed"}


class ScriptedDynamoDB:
    """A DynamoDB client whose chosen calls misbehave a set number of times.

    `ambiguous`: the call is applied, then answered with ConditionalCheckFailedException.
    `throttled`: the call fails with ThrottlingException before DynamoDB applies it.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._scripts: list[tuple[str, Callable[[dict[str, Any]], bool], str, list[int]]] = []
        self.injected = 0

    def script(
        self, operation: str, match: Callable[[dict[str, Any]], bool], behaviour: str, times: int = 1
    ) -> None:
        self._scripts.append((operation, match, behaviour, [times]))

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._client, name)
        if not callable(real) or not any(name == script[0] for script in self._scripts):
            return real

        def call(**params: Any) -> Any:
            for operation, match, behaviour, remaining in self._scripts:
                if operation == name and remaining[0] > 0 and match(params):
                    remaining[0] -= 1
                    self.injected += 1
                    code = (
                        "ConditionalCheckFailedException"
                        if behaviour == "ambiguous"
                        else "ThrottlingException"
                    )
                    if behaviour == "ambiguous":
                        real(**params)
                    raise ClientError({"Error": {"Code": code, "Message": "scripted"}}, name)
            return real(**params)

        return call


@dataclass
class Stores:
    dynamodb: ScriptedDynamoDB
    genesys: FakeGenesys
    ports: PublishPorts
    validation: ValidationOutcome
    snapshot: SnapshotOutcome

    def run_status(self) -> str:
        item = self.ports.runs.get(RUN.run_id)
        assert item is not None
        return item.status

    def terminal_events(self) -> list[str]:
        return [
            event.kind
            for event in self.ports.audit.list_events("dev")
            if event.details.get("run_id") == RUN.run_id and event.kind in TERMINAL_KINDS
        ]

    def locked_version(self) -> str | None:
        pointer = self.ports.pointers.get_current("dev")
        assert pointer is not None
        lock = parse_lock(self.ports.artifacts.get_bytes(pointer.key), expected_sha256=pointer.sha)
        locked = lock.flow("f-main")
        return locked.published_version if locked else None

    def lease_holder(self) -> str | None:
        holder = self.ports.leases.holder("dev", "f-main")
        return holder.run_id if holder else None


@pytest.fixture
def stores(moto_aws: None) -> Iterator[Stores]:
    """A run of Main IVR (2.0 → 3.0) that is RUNNING: lease held, snapshot and new YAML stored,
    a current lock with Main IVR at 2.0; Genesys already publishes 3.0 (the job succeeded)."""
    s3: Any = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="artifacts", CreateBucketConfiguration={"LocationConstraint": REGION})
    real_dynamodb: Any = boto3.client("dynamodb", region_name=REGION)
    create_pk_sk_table(real_dynamodb, "state")
    create_pk_sk_table(real_dynamodb, "audit")
    dynamodb = ScriptedDynamoDB(real_dynamodb)
    genesys = FakeGenesys(flows=[flow("f-main", "Main IVR", version="3.0")])
    ports = PublishPorts(
        org="dev",
        genesys=genesys,
        artifacts=ArtifactStore("artifacts", s3),
        runs=RunStore("state", dynamodb),  # type: ignore[arg-type]
        audit=AuditLog("audit", dynamodb),  # type: ignore[arg-type]
        pointers=LockPointerStore("state", dynamodb),  # type: ignore[arg-type]
        leases=PublishLeaseStore("state", dynamodb),  # type: ignore[arg-type]
    )
    lock = org_lock()
    sha = lock_sha256(lock)
    ports.artifacts.put_immutable(lock_key("dev", sha), canonical_bytes(lock))
    ports.pointers.advance("dev", sha, None, key=lock_key("dev", sha), scan_id="scan-0")
    ports.artifacts.put_immutable(YAML_KEY, NEW_YAML, "application/x-yaml")
    ports.artifacts.put_immutable("flows/dev/f-main/2.0.yaml", SNAPSHOT_YAML, "application/x-yaml")
    ports.runs.create(RUN.run_id, "publish", org="dev")
    ports.runs.transition(
        RUN.run_id, "PENDING", "RUNNING", details={"snapshot_version": "2.0", "publish_job_id": "job-0"}
    )
    genesys.jobs["job-0"] = ArchitectJob(id="job-0", status="Success")
    ports.leases.acquire("dev", "f-main", RUN.run_id, now=1000, ttl_seconds=7200)
    validation = ValidationOutcome(
        ok=True,
        summary="valid",
        report_key="publish/dev/run-1/validation.json",
        target=TargetFlow(id="f-main", name="Main IVR", type="INBOUNDCALL"),
        source_kind="inline",
        yaml_key=YAML_KEY,
        environment="test",
        requester="ci@example.com",
        reason="unit test",
        timing=PublishTiming(),
        lease_acquired=True,
    )
    snapshot = SnapshotOutcome(version="2.0", yaml_key="flows/dev/f-main/2.0.yaml")
    yield Stores(dynamodb, genesys, ports, validation, snapshot)


def _release(stores: Stores) -> Any:
    published = JobProgress(
        purpose="publish", mode="job", job_id="job-0", started_at=0.0, wait_seconds=2, finished=True,
        status="Success", published_version="3.0",
    )  # fmt: skip
    health = HealthOutcome(published_version="3.0", checks=["published version is 3.0"])
    return record_release(RUN, stores.validation, stores.snapshot, published, health, stores.ports)


def _is_audit_event(params: dict[str, Any]) -> bool:
    return params["TableName"] == "audit" and params["Item"]["pk"]["S"].startswith("ORG#")


def _is_audit_claim(params: dict[str, Any]) -> bool:
    return params["TableName"] == "audit" and params["Item"]["sk"]["S"] == "CLAIM"


def _is_pointer(params: dict[str, Any]) -> bool:
    return params["Item"]["sk"]["S"] == "LOCK#CURRENT"


def _moves_run_to(status: str) -> Callable[[dict[str, Any]], bool]:
    return lambda params: params["ExpressionAttributeValues"].get(":to", {}).get("S") == status


def _anything(params: dict[str, Any]) -> bool:
    return True


# ---- the audit log -------------------------------------------------------------------------------


def test_an_audit_append_whose_answer_was_lost_returns_the_stored_event(stores: Stores) -> None:
    # Given the put of the event is applied but answered with a failed condition
    stores.dynamodb.script("put_item", _is_audit_event, "ambiguous")
    # When an event without a caller-chosen id is appended
    event = stores.ports.audit.append("dev", "scan.completed", actor="schedule", subject="sha-1")
    # Then the append succeeded and the org holds that event exactly once
    assert stores.dynamodb.injected == 1
    assert stores.ports.audit.list_events("dev") == [event]


def test_an_event_id_appended_again_is_the_first_event_and_a_different_event_is_refused(
    stores: Stores,
) -> None:
    audit = stores.ports.audit
    # Given an event appended under a stable id, whose claim write's answer was lost
    stores.dynamodb.script("put_item", _is_audit_claim, "ambiguous")
    first = audit.append(
        "dev", "publish.released", actor="ci", subject="f-main", details={"v": "3.0"}, event_id="r:x"
    )
    # When a retried step appends the same event again
    again = audit.append(
        "dev", "publish.released", actor="ci", subject="f-main", details={"v": "3.0"}, event_id="r:x"
    )
    # Then it is the first event (same time), stored once
    assert again == first and audit.list_events("dev") == [first]
    # and the id cannot name a different event
    with pytest.raises(ConditionFailedError, match="already names a different event"):
        audit.append(
            "dev", "publish.released", actor="ci", subject="f-main", details={"v": "4.0"}, event_id="r:x"
        )


def test_a_retry_after_the_claim_but_before_the_event_writes_the_claimed_event(stores: Stores) -> None:
    audit = stores.ports.audit
    # Given the claim was written, then the event's put was throttled (the step failed)
    stores.dynamodb.script("put_item", _is_audit_event, "throttled")
    with pytest.raises(StoreThrottledError):
        audit.append("dev", "publish.failed", actor="ci", subject="f-main", event_id="run-9:publish.failed")
    assert audit.list_events("dev") == []
    # When the step is retried
    event = audit.append(
        "dev", "publish.failed", actor="ci", subject="f-main", event_id="run-9:publish.failed"
    )
    # Then the event is stored once, under the claimed id
    assert audit.list_events("dev") == [event] and event.event_id == "run-9:publish.failed"


# ---- RecordRelease -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "match"),
    [
        ("put_item", _is_pointer),
        ("update_item", _moves_run_to("SUCCEEDED")),
        ("put_item", _is_audit_claim),
        ("put_item", _is_audit_event),
        ("delete_item", _anything),  # the lease
    ],
    ids=["lock-pointer", "run-succeeded", "audit-claim", "audit-event", "lease-release"],
)
def test_record_release_succeeds_when_one_of_its_conditional_writes_is_ambiguous(
    stores: Stores, operation: str, match: Callable[[dict[str, Any]], bool]
) -> None:
    # Given one conditional write of RecordRelease is applied but answered with a failed condition
    stores.dynamodb.script(operation, match, "ambiguous")
    # When RecordRelease runs
    outcome = _release(stores)
    # Then the release is recorded as if nothing had happened
    assert stores.dynamodb.injected == 1
    assert outcome.published_version == "3.0" and outcome.previous_version == "2.0"
    assert stores.run_status() == "SUCCEEDED"
    assert stores.locked_version() == "3.0"
    assert stores.ports.artifacts.get_bytes("flows/dev/f-main/3.0.yaml") == NEW_YAML
    assert stores.terminal_events() == ["publish.released"]
    assert stores.lease_holder() is None


def test_a_retried_record_release_returns_the_committed_release_without_a_second_event(
    stores: Stores,
) -> None:
    # Given RecordRelease completed, but its answer never reached Step Functions
    first = _release(stores)
    # When the step is retried
    again = _release(stores)
    # Then it returns the same release and records nothing twice
    assert again == first
    assert stores.terminal_events() == ["publish.released"]
    assert stores.run_status() == "SUCCEEDED" and stores.lease_holder() is None


# ---- the Catch path after a committed release ----------------------------------------------------


def test_an_error_after_the_commit_ends_in_the_recorded_release_not_a_rollback(stores: Stores) -> None:
    # Given the audit event of the release keeps being throttled after the run item moved to SUCCEEDED
    stores.dynamodb.script("put_item", _is_audit_event, "throttled", times=1)
    with pytest.raises(StoreError):
        _release(stores)
    assert stores.run_status() == "SUCCEEDED" and stores.lease_holder() == RUN.run_id
    # When the Catch sends the run to the rollback step
    progress = start_rollback(RUN, stores.validation, stores.snapshot, FAILURE, stores.ports, now=2000.0)
    # Then nothing is redeployed: the step hands on the committed release, announced and unleased
    assert progress.release_recorded and progress.finished and list(stores.genesys.jobs) == ["job-0"]
    assert progress.recorded_release is not None and progress.recorded_release.published_version == "3.0"
    assert progress.recorded_release.previous_version == "2.0"
    assert stores.run_status() == "SUCCEEDED"
    assert stores.terminal_events() == ["publish.released"]
    assert stores.lease_holder() is None


def test_the_rollback_failure_recorder_never_fails_a_released_run(stores: Stores) -> None:
    # Given a committed release (the rollback step itself failed before it could tell)
    released = _release(stores)
    # When the rollback failure is recorded
    outcome = record_rollback_failed(
        RUN, stores.validation, stores.snapshot, FAILURE,
        StepFailure(Error="Store.Throttled", Cause="throttled"), stores.ports,
    )  # fmt: skip
    # Then the outcome is the release, and the run stays SUCCEEDED with one terminal event
    assert outcome.status == "SUCCEEDED" and outcome.release == released
    assert stores.run_status() == "SUCCEEDED"
    assert stores.terminal_events() == ["publish.released"]


# ---- the rollback steps --------------------------------------------------------------------------


def test_rollback_steps_repeated_or_ambiguous_record_one_rollback(stores: Stores) -> None:
    # Given the move to ROLLING_BACK and the move to ROLLED_BACK are each applied, then refused
    stores.dynamodb.script("update_item", _moves_run_to("ROLLING_BACK"), "ambiguous")
    stores.dynamodb.script("update_item", _moves_run_to("ROLLED_BACK"), "ambiguous")
    # When the rollback starts (and is retried), and its record step runs twice
    first = start_rollback(RUN, stores.validation, stores.snapshot, FAILURE, stores.ports, now=2000.0)
    retried = start_rollback(RUN, stores.validation, stores.snapshot, FAILURE, stores.ports, now=2001.0)
    stores.genesys.flows["f-main"] = flow("f-main", "Main IVR", version="4.0")  # the job restored 2.0
    stores.genesys.exports[("f-main", "4.0")] = SNAPSHOT_YAML.decode()
    restored = retried.model_copy(update={"finished": True, "status": "Success", "published_version": "4.0"})
    outcomes = [
        record_rolled_back(RUN, stores.validation, stores.snapshot, FAILURE, restored, stores.ports)
        for _ in range(2)
    ]
    # Then the retried start found the first start's job under way (one job), nothing was
    # released, and one rollback is recorded
    assert not first.release_recorded and first.job_id is not None and retried.job_id == first.job_id
    assert sorted(stores.genesys.jobs) == ["job-0", first.job_id]
    assert outcomes[0] == outcomes[1] and outcomes[0].status == "ROLLED_BACK"
    assert stores.run_status() == "ROLLED_BACK"
    assert stores.locked_version() == "4.0"
    assert stores.ports.artifacts.get_bytes("flows/dev/f-main/4.0.yaml") == SNAPSHOT_YAML
    assert stores.terminal_events() == ["publish.rolled_back"]
    assert stores.lease_holder() is None


def test_a_retried_rollback_failure_recorder_repeats_the_first_facts(stores: Stores) -> None:
    rollback_failure = StepFailure(Error="Publish.RollbackFailed", Cause="the rollback job failed")
    # Given the rollback failure was recorded while Genesys published 3.0
    first = record_rollback_failed(
        RUN, stores.validation, stores.snapshot, FAILURE, rollback_failure, stores.ports
    )
    # When the step is retried after someone published again
    stores.genesys.flows["f-main"] = flow("f-main", "Main IVR", version="5.0")
    again = record_rollback_failed(
        RUN, stores.validation, stores.snapshot, FAILURE, rollback_failure, stores.ports
    )
    # Then it reports the recorded facts, once
    assert again == first and "now publishes version 3.0" in first.cause
    assert stores.run_status() == "ROLLBACK_FAILED"
    assert stores.terminal_events() == ["publish.rollback_failed"]
    assert stores.lease_holder() is None


def test_a_retried_failure_before_publish_is_recorded_once(stores: Stores) -> None:
    # Given a step before StartPublish failed; its recorder's answer was lost, so it runs twice
    failure = StepFailure(Error="Publish.SnapshotUnavailable", Cause="export failed")
    outcomes = [
        record_failure_before_publish(RUN, stores.validation, failure, stores.ports) for _ in range(2)
    ]
    # Then one failure is recorded and the lease is free
    assert outcomes[0] == outcomes[1] and outcomes[0].status == "FAILED"
    assert stores.run_status() == "FAILED"
    assert stores.terminal_events() == ["publish.failed"]
    assert stores.lease_holder() is None
