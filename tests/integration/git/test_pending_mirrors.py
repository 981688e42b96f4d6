"""Pending mirrors in the state table (moto): carried changes merge, a settle after a concurrent
carry keeps the newer ones, expired items count as none. The in-memory fake keeps the same contract."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest

from flowops.git.adapters import DynamoPendingMirrors
from flowops.git.mirror import FlowName, MirrorChange
from flowops.partitions import pending_mirror_partition
from tests.helpers.tables import create_pk_sk_table
from tests.unit.git.fakes import MemoryPendingMirrors

A = MirrorChange(flow_id="a", type="INBOUNDCALL", name="Main IVR")
B = MirrorChange(flow_id="b", type="INBOUNDCALL", name="After Hours")


def state_table() -> DynamoPendingMirrors:
    """The state table's key schema (infra/constructs/storage.py) in moto."""
    client = boto3.client("dynamodb")
    create_pk_sk_table(client, "flowops-state")
    return DynamoPendingMirrors("flowops-state", org="dev", client=client)


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return MemoryPendingMirrors()
    request.getfixturevalue("moto_aws")
    return state_table()


def test_carried_changes_merge_and_settle_only_what_landed(store: Any) -> None:
    assert store.pending("prod", "acme/flows") is None
    # Given a failed mirror of A, then one of A (renamed meanwhile) and B
    store.carry("prod", "acme/flows", [A], "push rejected")
    renamed = MirrorChange(flow_id="a", name="Main IVR 2", previous=[FlowName(name="Main IVR")])
    store.carry("prod", "acme/flows", [renamed, B], "unreachable")
    pending = store.pending("prod", "acme/flows")
    # Then one change per flow, knowing both names, and the latest reason
    assert [c.flow_id for c in pending.changes] == ["a", "b"]
    assert pending.changes[0].name == "Main IVR 2" and pending.changes[0].previous == [
        FlowName(name="Main IVR")
    ]
    assert pending.failures == 2 and pending.reason == "unreachable"
    assert store.pending("prod", "acme/other") is None and store.pending("dev", "acme/flows") is None
    # When that landed but another failure was carried meanwhile, the newer stays
    store.carry("prod", "acme/flows", [B], "rejected again")
    store.settle("prod", "acme/flows", pending)
    assert store.pending("prod", "acme/flows") is not None
    # And when what landed is what is stored, it is gone
    store.settle("prod", "acme/flows", store.pending("prod", "acme/flows"))
    assert store.pending("prod", "acme/flows") is None


def test_an_expired_pending_mirror_counts_as_none_and_is_replaced(moto_aws: None) -> None:
    store = state_table()
    client = boto3.client("dynamodb")
    store.carry("prod", "acme/flows", [A], "rejected")
    key = {"pk": {"S": pending_mirror_partition("dev")}, "sk": {"S": "prod#acme/flows"}}
    client.update_item(
        TableName="flowops-state",
        Key=key,
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )
    # DynamoDB deletes expired items within days: until then it is not pending
    assert store.pending("prod", "acme/flows") is None
    store.carry("prod", "acme/flows", [B], "rejected")
    assert [c.flow_id for c in store.pending("prod", "acme/flows").changes] == ["b"]
