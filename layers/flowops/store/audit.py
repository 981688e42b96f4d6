"""Append-only audit events per org, expiring through the table's TTL attribute `expires_at`.

Item: pk `ORG#<org>`, sk `<iso-ts>#<event-id>` (sorts by time, unique per event), kind, actor,
subject, details, expires_at (epoch seconds). Writes are conditional on the item not existing,
so an event is never overwritten; there is no update or delete API here on purpose.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import boto3
from pydantic import BaseModel, ConfigDict, Field

from flowops.clock import Clock, SystemClock
from flowops.store._dynamo import from_item, iso_timestamp, to_item
from flowops.store.errors import mapped_errors
from flowops.store.pointer import org_partition_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TTL_ATTRIBUTE = "expires_at"
DEFAULT_RETENTION_DAYS = 400


class AuditEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    org: str
    event_id: str
    timestamp: str
    """UTC ISO-8601 with microseconds; events sort by it."""
    kind: str
    """What happened, e.g. `scan.completed`, `lock.advanced`, `publish.rolled_back`."""
    actor: str
    """Who caused it: an execution ARN, a CI requester, `schedule`."""
    subject: str
    """What it is about: a flow id, a lock sha, an org."""
    details: dict[str, Any] = Field(default_factory=dict)
    expires_at: int


class AuditLog:
    def __init__(
        self,
        table: str,
        dynamodb_client: DynamoDBClient | None = None,
        *,
        clock: Clock | None = None,
        retention_days: int = DEFAULT_RETENTION_DAYS,
    ) -> None:
        if not table:
            raise ValueError("audit table name is empty (is AUDIT_TABLE set?)")
        if retention_days <= 0:
            raise ValueError(f"retention_days must be positive, got {retention_days}")
        self.table = table
        self._dynamodb: DynamoDBClient = (
            dynamodb_client if dynamodb_client is not None else boto3.client("dynamodb")
        )
        self._clock: Clock = clock or SystemClock()
        self._retention_seconds = retention_days * 86400

    def __repr__(self) -> str:
        return f"AuditLog(table={self.table!r})"

    def append(
        self, org: str, kind: str, *, actor: str, subject: str, details: dict[str, Any] | None = None
    ) -> AuditEvent:
        now = self._clock.now()
        event = AuditEvent(
            org=org,
            event_id=uuid.uuid4().hex,
            timestamp=iso_timestamp(now),
            kind=kind,
            actor=actor,
            subject=subject,
            details=details or {},
            expires_at=int(now) + self._retention_seconds,
        )
        item = to_item(
            {
                "pk": org_partition_key(org),
                "sk": f"{event.timestamp}#{event.event_id}",
                **event.model_dump(exclude={"org"}),
            }
        )
        with mapped_errors(f"appending audit event {kind!r} for org {org!r} to {self.table}"):
            self._dynamodb.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) AND attribute_not_exists(sk)",
            )
        return event

    def list_events(
        self, org: str, since: str | None = None, *, limit: int | None = None
    ) -> list[AuditEvent]:
        """Events of `org` in time order, from `since` (an ISO timestamp prefix) on."""
        condition = "pk = :pk"
        values: dict[str, Any] = {":pk": org_partition_key(org)}
        if since is not None:
            condition += " AND sk >= :since"
            values[":since"] = since
        events: list[AuditEvent] = []
        with mapped_errors(f"listing audit events of org {org!r} from {self.table}"):
            paginator = self._dynamodb.get_paginator("query")
            for page in paginator.paginate(
                TableName=self.table,
                KeyConditionExpression=condition,
                ExpressionAttributeValues=to_item(values),
                ScanIndexForward=True,
            ):
                for raw in page.get("Items", []):
                    values_ = from_item(raw)
                    events.append(
                        AuditEvent(
                            org=org,
                            event_id=values_["event_id"],
                            timestamp=values_["timestamp"],
                            kind=values_["kind"],
                            actor=values_["actor"],
                            subject=values_["subject"],
                            details=values_.get("details", {}),
                            expires_at=values_[TTL_ATTRIBUTE],
                        )
                    )
                    if limit is not None and len(events) >= limit:
                        return events
        return events
