"""The delivery ledger on the flowops state table (DynamoDB).

`flowops.store` owns the table's lock-pointer and run items; it has no "claim once" primitive,
so the webhook keeps its own small one here (item `pk = DELIVERY#<id>`). Every write is
conditional, which is what makes 50 concurrent deliveries of one event produce one claim.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from flowops.webhook.replay import DeliveryRecord, DeliveryStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

DELIVERY_KEY_PREFIX = "DELIVERY#"
DELIVERY_SORT_KEY = "DELIVERY"


def _is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoDeliveryLedger:
    """`DeliveryLedger` on DynamoDB: conditional put to claim, conditional updates afterwards.

    `lease_seconds` is how long a CLAIMED record belongs to the handler that wrote it; past
    that, the owner is presumed dead (Lambda timed out between claim and start) and another
    delivery of the same id may take over. It must exceed the function timeout.
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient,
        lease_seconds: int = 120,
        partition_key: str = "pk",
        sort_key: str | None = "sk",
        ttl_attribute: str = "expires_at",
    ) -> None:
        self._table = table_name
        self._client = client
        self.lease_seconds = lease_seconds
        self._pk = partition_key
        self._sk = sort_key
        self._ttl = ttl_attribute

    def _key(self, delivery_id: str) -> dict[str, AttributeValueTypeDef]:
        key: dict[str, AttributeValueTypeDef] = {self._pk: {"S": f"{DELIVERY_KEY_PREFIX}{delivery_id}"}}
        if self._sk is not None:
            key[self._sk] = {"S": DELIVERY_SORT_KEY}
        return key

    def _item(self, record: DeliveryRecord) -> dict[str, AttributeValueTypeDef]:
        return {
            **self._key(record.delivery_id),
            "kind": {"S": "delivery"},
            "delivery_id": {"S": record.delivery_id},
            "body_sha256": {"S": record.body_sha256},
            "execution_name": {"S": record.execution_name},
            "execution_arn": {"S": record.execution_arn},
            "status": {"S": record.status.value},
            "claimed_at": {"N": repr(record.claimed_at)},
            self._ttl: {"N": str(record.expires_at)},
            "generation": {"N": str(record.generation)},
            **({"claim_token": {"S": record.claim_token}} if record.claim_token else {}),
        }

    def _record(self, item: dict[str, Any]) -> DeliveryRecord:
        return DeliveryRecord(
            delivery_id=item["delivery_id"]["S"],
            body_sha256=item["body_sha256"]["S"],
            execution_name=item["execution_name"]["S"],
            execution_arn=item["execution_arn"]["S"],
            status=DeliveryStatus(item["status"]["S"]),
            claimed_at=float(item["claimed_at"]["N"]),
            expires_at=int(item[self._ttl]["N"]),
            # Items written before generations existed are the first use of their id.
            generation=int(item.get("generation", {}).get("N", "1")),
            claim_token=item.get("claim_token", {}).get("S", ""),
        )

    def claim(self, record: DeliveryRecord) -> DeliveryRecord | None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=self._item(record),
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": self._pk},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
            # DynamoDB returns the item we collided with (ReturnValuesOnConditionCheckFailure).
            existing: Any = error.response.get("Item")
            if isinstance(existing, dict) and existing:
                return self._record(existing)
            return self._read(record.delivery_id)
        return None

    def _read(self, delivery_id: str) -> DeliveryRecord:
        # A strongly consistent read: the claim we lost to was acknowledged before our put failed.
        response = self._client.get_item(
            TableName=self._table, Key=self._key(delivery_id), ConsistentRead=True
        )
        item = response.get("Item")
        if item is None:
            # The winner released its claim between our put and this read; report it as stale so
            # the caller takes over instead of answering with an execution that will never exist.
            raise LookupError(f"delivery {delivery_id} was released while being read")
        return self._record(item)

    def take_over(self, stale: DeliveryRecord, *, now: float) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(stale.delivery_id),
                UpdateExpression="SET claimed_at = :now",
                ConditionExpression="#status = :claimed AND claimed_at = :previous",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":now": {"N": repr(now)},
                    ":claimed": {"S": DeliveryStatus.CLAIMED.value},
                    ":previous": {"N": repr(stale.claimed_at)},
                },
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def replace(self, current: DeliveryRecord, successor: DeliveryRecord) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=self._item(successor),
                ConditionExpression="execution_name = :name AND claimed_at = :claimed",
                ExpressionAttributeValues={
                    ":name": {"S": current.execution_name},
                    ":claimed": {"N": repr(current.claimed_at)},
                },
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def mark_started(self, delivery_id: str, execution_arn: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=self._key(delivery_id),
            UpdateExpression="SET #status = :started, execution_arn = :arn",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":started": {"S": DeliveryStatus.STARTED.value},
                ":arn": {"S": execution_arn},
            },
        )

    def release(self, delivery_id: str, *, claimed_at: float) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=self._key(delivery_id),
                ConditionExpression="#status = :claimed AND claimed_at = :mine",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":claimed": {"S": DeliveryStatus.CLAIMED.value},
                    ":mine": {"N": repr(claimed_at)},
                },
            )
        except ClientError as error:
            # Someone else owns the record now (took over, or started it): leave it alone.
            if not _is_condition_failure(error):
                raise
