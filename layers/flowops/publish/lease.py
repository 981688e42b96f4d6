"""Per-flow publish lease: one publish of a flow at a time, the later one refused.

Items `pk=PUBLISH_LEASE#<org>#<flowId>, sk=LEASE` in the state table, written with a
conditional put: the put succeeds when no lease exists, the lease has expired (a run that
died without releasing), or this run already holds it (a retried step). Release is a
conditional delete by the holder, so a late release can never drop someone else's lease.

The lease is DynamoDB I/O outside `flowops.store` because the store has no "claim" primitive
yet (the webhook's delivery ledger does the same); see docs/architecture/publish.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from flowops.publish.errors import LeaseHeldError
from flowops.store.errors import mapped_errors, translate_client_error

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

LEASE_SORT_KEY = "LEASE"


def lease_partition_key(org: str, flow_id: str) -> str:
    return f"PUBLISH_LEASE#{org}#{flow_id}"


class Lease(BaseModel):
    model_config = ConfigDict(frozen=True)

    org: str
    flow_id: str
    run_id: str
    expires_at: int


class PublishLeaseStore:
    def __init__(self, table: str, dynamodb_client: DynamoDBClient) -> None:
        self.table = table
        self._dynamodb = dynamodb_client

    def __repr__(self) -> str:
        return f"PublishLeaseStore(table={self.table!r})"

    def acquire(self, org: str, flow_id: str, run_id: str, *, now: float, ttl_seconds: int) -> Lease:
        """Take the lease for `run_id`; `LeaseHeldError` naming the holder if another run has it."""
        expires_at = int(now) + ttl_seconds
        key = {"pk": {"S": lease_partition_key(org, flow_id)}, "sk": {"S": LEASE_SORT_KEY}}
        with mapped_errors(f"acquiring the publish lease of {flow_id}"):
            try:
                self._dynamodb.put_item(
                    TableName=self.table,
                    Item={**key, "run_id": {"S": run_id}, "expires_at": {"N": str(expires_at)}},
                    ConditionExpression="attribute_not_exists(pk) OR run_id = :run OR expires_at < :now",
                    ExpressionAttributeValues={":run": {"S": run_id}, ":now": {"N": str(int(now))}},
                )
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                    holder = self.holder(org, flow_id)
                    if holder is not None and holder.run_id == run_id:
                        # An ambiguous write: this put was applied, but the answer says the condition
                        # failed. The stored lease is this run's, so the run holds it.
                        return holder
                    held_by = holder.run_id if holder else "another run"
                    raise LeaseHeldError(
                        f"flow {flow_id} is being published by run {held_by}; this run was refused so that "
                        "publishes of one flow never overlap"
                    ) from None
                raise translate_client_error(error, f"acquiring the publish lease of {flow_id}") from error
        return Lease(org=org, flow_id=flow_id, run_id=run_id, expires_at=expires_at)

    def holder(self, org: str, flow_id: str) -> Lease | None:
        with mapped_errors(f"reading the publish lease of {flow_id}"):
            try:
                response = self._dynamodb.get_item(
                    TableName=self.table,
                    Key={"pk": {"S": lease_partition_key(org, flow_id)}, "sk": {"S": LEASE_SORT_KEY}},
                    ConsistentRead=True,
                )
            except ClientError as error:
                raise translate_client_error(error, f"reading the publish lease of {flow_id}") from error
        item: dict[str, Any] = dict(response.get("Item") or {})
        if not item:
            return None
        return Lease(
            org=org,
            flow_id=flow_id,
            run_id=str(item["run_id"]["S"]),
            expires_at=int(item["expires_at"]["N"]),
        )

    def release(self, org: str, flow_id: str, run_id: str) -> bool:
        """Drop the lease if `run_id` holds it; False when it did not (already released or lost)."""
        with mapped_errors(f"releasing the publish lease of {flow_id}"):
            try:
                self._dynamodb.delete_item(
                    TableName=self.table,
                    Key={"pk": {"S": lease_partition_key(org, flow_id)}, "sk": {"S": LEASE_SORT_KEY}},
                    ConditionExpression="run_id = :run",
                    ExpressionAttributeValues={":run": {"S": run_id}},
                )
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                    return False
                raise translate_client_error(error, f"releasing the publish lease of {flow_id}") from error
        return True
