"""The per-flow publish lease on a (moto) DynamoDB table: one run at a time, released by its holder."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from flowops.publish.errors import LeaseHeldError
from flowops.publish.lease import PublishLeaseStore
from tests.helpers.tables import create_pk_sk_table


@pytest.fixture
def leases(moto_aws: None) -> Iterator[PublishLeaseStore]:
    client: Any = boto3.client("dynamodb", region_name="eu-west-1")
    create_pk_sk_table(client, "state")
    yield PublishLeaseStore("state", client)


def test_second_run_is_refused_naming_the_holder_until_the_first_releases(leases: PublishLeaseStore) -> None:
    leases.acquire("dev", "f-main", "run-a", now=1000, ttl_seconds=600)
    with pytest.raises(LeaseHeldError, match="run run-a"):
        leases.acquire("dev", "f-main", "run-b", now=1001, ttl_seconds=600)
    # a retried step of the holder gets it again; another flow is independent
    leases.acquire("dev", "f-main", "run-a", now=1002, ttl_seconds=600)
    leases.acquire("dev", "f-other", "run-b", now=1002, ttl_seconds=600)
    # a late release by a non-holder changes nothing; the holder's release frees it
    assert leases.release("dev", "f-main", "run-b") is False
    assert leases.release("dev", "f-main", "run-a") is True
    assert leases.holder("dev", "f-main") is None
    leases.acquire("dev", "f-main", "run-b", now=1003, ttl_seconds=600)


def test_expired_lease_of_a_dead_run_can_be_taken_over(leases: PublishLeaseStore) -> None:
    leases.acquire("dev", "f-main", "run-dead", now=1000, ttl_seconds=60)
    lease = leases.acquire("dev", "f-main", "run-new", now=1061, ttl_seconds=60)
    assert lease.run_id == "run-new" and leases.holder("dev", "f-main").run_id == "run-new"  # type: ignore[union-attr]


def test_an_acquire_applied_but_answered_with_a_failed_condition_holds_the_lease(
    leases: PublishLeaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the lease put is applied, then answered with ConditionalCheckFailedException
    # (botocore retried a put whose first answer was lost)
    from botocore.exceptions import ClientError

    client: Any = leases._dynamodb
    real_put = client.put_item

    def ambiguous_put(**params: Any) -> Any:
        real_put(**params)
        raise ClientError({"Error": {"Code": "ConditionalCheckFailedException", "Message": "x"}}, "PutItem")

    monkeypatch.setattr(client, "put_item", ambiguous_put)
    # When run-a acquires the lease
    lease = leases.acquire("dev", "f-main", "run-a", now=1000, ttl_seconds=600)
    # Then run-a holds it (it is not refused as "busy with itself")
    assert lease.run_id == "run-a" and leases.holder("dev", "f-main") == lease
