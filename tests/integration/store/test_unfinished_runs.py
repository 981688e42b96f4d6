"""flowops.unfinished against the real stores (moto): what the backstop frees, records, audits
and who it notifies, per workflow, and that a second delivery changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from flowops.publish.lease import PublishLeaseStore
from flowops.store import ArtifactStore, AuditLog, RunStore
from flowops.unfinished import EndedExecution, UnfinishedPorts, Workflow, record_unfinished_run
from tests.integration.store.conftest import AUDIT_TABLE, BUCKET, STATE_TABLE

ORG = "dev"
NOW = 1_800_000_000.0


class World:
    def __init__(self, s3: Any, dynamodb: Any) -> None:
        self.runs = RunStore(STATE_TABLE, dynamodb_client=dynamodb)
        self.audit = AuditLog(AUDIT_TABLE, dynamodb_client=dynamodb)
        self.leases = PublishLeaseStore(STATE_TABLE, dynamodb)
        self.artifacts = ArtifactStore(BUCKET, s3_client=s3)
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    def ports(self) -> UnfinishedPorts:
        return UnfinishedPorts(
            org=ORG,
            runs=self.runs,
            audit=self.audit,
            leases=self.leases,
            artifacts=self.artifacts,
            notify=lambda audience, subject, message: self.sent.append((audience, subject, message)),
        )

    def end(self, workflow: Workflow, name: str, status: str, **fields: Any) -> Any:
        execution = EndedExecution(
            execution_arn=f"arn:aws:states:eu-west-1:123456789012:execution:M:{name}",
            name=name,
            status=status,  # type: ignore[arg-type]
            **fields,
        )
        return record_unfinished_run(workflow, execution, self.ports())

    def kinds(self, run_id: str) -> list[str]:
        return [e.kind for e in self.audit.list_events(ORG) if e.details.get("run_id") == run_id]


@pytest.fixture
def world(s3_client: Any, dynamodb_client: Any) -> World:
    return World(s3_client, dynamodb_client)


def test_a_timed_out_release_frees_only_its_own_leases_and_pages_people(world: World) -> None:
    # Given a deploying release whose plan changes two flows (one new) and leaves one unchanged,
    # holding both leases; another run holds the unchanged flow's lease
    world.runs.create("rel-1", "release", org=ORG, details={"requester": "ci"})
    world.runs.transition("rel-1", "PENDING", "RUNNING")
    world.artifacts.put_json(
        f"releases/{ORG}/runs/rel-1/plan.json",
        {
            "flows": [
                {"key": "inboundcall/main", "action": "update", "flow_id": "f-1"},
                {"key": "inboundcall/new", "action": "create", "flow_id": None},
                {"key": "inboundcall/other", "action": "unchanged", "flow_id": "f-3"},
            ]
        },
    )
    for lease in ("f-1", "new:inboundcall/new"):
        world.leases.acquire(ORG, lease, "rel-1", now=NOW, ttl_seconds=7200)
    world.leases.acquire(ORG, "f-3", "someone-else", now=NOW, ttl_seconds=7200)
    # When its execution times out
    outcome = world.end("release", "rel-1", "TIMED_OUT")
    # Then its two leases are free and the other run's is not
    assert sorted(outcome.leases_released) == ["f-1", "new:inboundcall/new"]
    assert world.leases.holder(ORG, "f-3") is not None
    # And the release record says INTERRUPTED with what to check, people were paged, once audited
    record = world.runs.get("rel-1")
    assert record is not None and record.status == "INTERRUPTED"
    assert (
        record.details["interrupted_by"] == "TIMED_OUT"
        and "releases show rel-1" in record.details["manual_check"]
    )
    # (with the leases it freed, which `flowops` commands say)
    assert sorted(record.details["leases_released"]) == ["f-1", "new:inboundcall/new"]
    assert [audience for audience, _, _ in world.sent] == ["people"]
    assert world.kinds("rel-1") == ["release.interrupted"]
    # And a second delivery of the same event changes nothing and pages nobody
    again = world.end("release", "rel-1", "TIMED_OUT")
    assert not again.recorded and len(world.sent) == 1 and world.kinds("rel-1") == ["release.interrupted"]


def test_a_release_timed_out_while_waiting_for_approval_changed_nothing(world: World) -> None:
    world.runs.create("rel-2", "release", org=ORG)
    world.runs.transition("rel-2", "PENDING", "RUNNING")
    world.runs.create("rel-2-approval", "release-approval", org=ORG, details={"task_token": "t"})
    outcome = world.end("release", "rel-2", "TIMED_OUT")
    assert outcome.recorded and not outcome.genesys_may_have_changed
    assert [audience for audience, _, _ in world.sent] == ["alarm"]
    record = world.runs.get("rel-2")
    assert record is not None and record.details.get("manual_check") is None
    assert "Nothing was changed in Genesys" in record.details["cause"]


def test_a_publish_the_machine_recorded_is_left_as_is_but_its_lease_is_freed(world: World) -> None:
    # Given a publish recorded ROLLED_BACK whose lease was not freed (its last write failed)
    world.runs.create("pub-1", "publish", org=ORG, details={"flow_id": "f-1"})
    world.runs.transition("pub-1", "PENDING", "RUNNING")
    world.runs.transition("pub-1", "RUNNING", "ROLLING_BACK")
    world.runs.transition("pub-1", "ROLLING_BACK", "ROLLED_BACK")
    world.leases.acquire(ORG, "f-1", "pub-1", now=NOW, ttl_seconds=7200)
    # When its FAILED status change arrives
    outcome = world.end("publish", "pub-1", "FAILED", error="Publish.RolledBack", cause="...")
    # Then the lease is free and nothing else happened
    assert not outcome.recorded and outcome.leases_released == ["f-1"]
    record = world.runs.get("pub-1")
    assert record is not None and record.status == "ROLLED_BACK"
    assert world.sent == [] and world.kinds("pub-1") == []


def test_a_publish_stopped_before_it_created_its_run_item_gets_one(world: World) -> None:
    outcome = world.end("publish", "pub-2", "ABORTED", input={"flow": {"id": "f-9"}, "requester": "ci"})
    record = world.runs.get("pub-2")
    assert record is not None and (record.status, record.kind) == ("INTERRUPTED", "publish")
    assert outcome.notified == "none"  # someone stopped it; nothing changed
    assert world.kinds("pub-2") == ["publish.interrupted"]


@pytest.mark.parametrize(("status", "audience"), [("TIMED_OUT", "alarm"), ("ABORTED", "none")])
def test_a_scan_or_trace_is_recorded_by_its_audit_event(world: World, status: str, audience: str) -> None:
    for workflow in ("scan", "trace"):
        outcome = world.end(workflow, f"{workflow}-1", status)  # type: ignore[arg-type]
        assert outcome.recorded and outcome.run_status is None and outcome.notified == audience
        assert world.kinds(f"{workflow}-1") == [f"{workflow}.interrupted"]
        assert world.runs.get(f"{workflow}-1") is None
