"""One org's shared rate-limit schedule: a single DynamoDB item that concurrent readers reserve
send slots from (`flowops.genesys.ratelimit.SharedSchedule`).

The item holds `next_slot_at`, the wall time (seconds) at which the next free slot starts. A
reservation is ONE conditional update, never a read-modify-write:

- while the schedule runs ahead of the caller (`next_slot_at >= earliest`, the steady state of a
  busy budget), `SET next_slot_at = next_slot_at + interval` — an atomic add, so concurrent
  readers never get the same slot and never conflict; the slot is the new value minus `interval`;
- when it has fallen behind (idle budget, or no item yet), `SET next_slot_at = earliest +
  interval` on the condition that it is still behind; if another reader moved it first, the
  first form applies on the next try.

A hold (`hold_until`) only ever moves the schedule later. The item lives in the state table
under its own partition key (`RATE#<org>`), so IAM can grant exactly this item
(`dynamodb:LeadingKeys`) and nothing else of the table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from flowops.clock import Clock
from flowops.partitions import rate_schedule_partition
from flowops.store._dynamo import StateTableStore, from_item, to_item
from flowops.store.errors import StoreUnavailableError, error_code, mapped_errors, translate_client_error

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SCHEDULE_SORT_KEY = "SCHEDULE"
RESERVE_ATTEMPTS = 8


class SharedRateSchedule(StateTableStore):
    """The shared send schedule of one org's Genesys budget, in the state table."""

    def __init__(
        self,
        table: str,
        org: str,
        dynamodb_client: DynamoDBClient | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(table, dynamodb_client, clock=clock)
        self.org = org
        self._key = to_item({"pk": rate_schedule_partition(org), "sk": SCHEDULE_SORT_KEY})

    def reserve(self, earliest: float, interval_seconds: float) -> float:
        for _ in range(RESERVE_ATTEMPTS):
            slot = self._take_next_slot(earliest, interval_seconds)
            if slot is not None:
                return slot
            if self._start_schedule_at(earliest, interval_seconds):
                return earliest
        # Each failed pair means another reader moved the schedule between our two conditions;
        # eight in a row is not contention a handful of readers can cause.
        raise StoreUnavailableError(
            f"could not reserve a rate-limit slot for org {self.org!r} in {self.table} after "
            f"{RESERVE_ATTEMPTS} conditional updates; retry the step"
        )

    def hold_until(self, moment: float) -> None:
        with mapped_errors(f"holding the rate-limit schedule of org {self.org!r}"):
            try:
                self._dynamodb.update_item(
                    TableName=self.table,
                    Key=self._key,
                    UpdateExpression="SET next_slot_at = :moment",
                    ConditionExpression="attribute_not_exists(next_slot_at) OR next_slot_at < :moment",
                    ExpressionAttributeValues=to_item({":moment": moment}),
                )
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise translate_client_error(error, "holding the rate-limit schedule") from error
                # The schedule already starts later: nothing to move.

    def _take_next_slot(self, earliest: float, interval: float) -> float | None:
        """The schedule's next slot if it runs ahead of `earliest`; None if it has fallen behind."""
        with mapped_errors(f"reserving a rate-limit slot of org {self.org!r}"):
            try:
                response = self._dynamodb.update_item(
                    TableName=self.table,
                    Key=self._key,
                    UpdateExpression="SET next_slot_at = next_slot_at + :interval",
                    ConditionExpression="next_slot_at >= :earliest",
                    ExpressionAttributeValues=to_item({":interval": interval, ":earliest": earliest}),
                    ReturnValues="UPDATED_NEW",
                )
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise translate_client_error(error, "reserving a rate-limit slot") from error
                return None
        next_slot_at = float(from_item(response["Attributes"])["next_slot_at"])
        return next_slot_at - interval

    def _start_schedule_at(self, earliest: float, interval: float) -> bool:
        """Restart a schedule that fell behind at `earliest`; False if another reader moved it first."""
        with mapped_errors(f"reserving a rate-limit slot of org {self.org!r}"):
            try:
                self._dynamodb.update_item(
                    TableName=self.table,
                    Key=self._key,
                    UpdateExpression="SET next_slot_at = :next",
                    ConditionExpression="attribute_not_exists(next_slot_at) OR next_slot_at < :earliest",
                    ExpressionAttributeValues=to_item({":next": earliest + interval, ":earliest": earliest}),
                )
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise translate_client_error(error, "reserving a rate-limit slot") from error
                return False
        return True
