"""Append-only audit events per org, expiring through the table's TTL attribute `expires_at`.

Item: pk `ORG#<org>`, sk `<iso-ts>#<event-id>` (sorts by time, unique per event), kind, actor,
subject, details, expires_at (epoch seconds). Writes are conditional on the item not existing,
so an event is never overwritten; there is no update or delete API here on purpose.

Appends are idempotent by event id. A conditional write can fail although it was applied (the
answer was lost and botocore's retry finds the first attempt's item), so a failed condition is
resolved by reading what is stored: the same event is success, anything else an error.
A caller that retries a whole step (a Lambda retried by Step Functions) passes its own stable
`event_id`; the event's time then comes from a claim item, pk `AUDIT_EVENT#<org>#<event-id>`,
sk `CLAIM`, written first (same condition, same TTL), so every retry writes the SAME item and the
org's partition, which `list_events` reads, holds the event exactly once.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from flowops.clock import Clock, SystemClock
from flowops.store._dynamo import from_item, iso_timestamp, to_item
from flowops.store.errors import ConditionFailedError, error_code, mapped_errors, translate_client_error
from flowops.store.pointer import org_partition_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

TTL_ATTRIBUTE = "expires_at"
DEFAULT_RETENTION_DAYS = 400
CLAIM_SORT_KEY = "CLAIM"
_NEW_ITEM_ONLY = "attribute_not_exists(pk) AND attribute_not_exists(sk)"
# What makes two appends "the same event": the time and expiry are the first attempt's.
_CONTENT_FIELDS = ("event_id", "kind", "actor", "subject", "details")


def claim_partition_key(org: str, event_id: str) -> str:
    return f"AUDIT_EVENT#{org}#{event_id}"


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
        self,
        org: str,
        kind: str,
        *,
        actor: str,
        subject: str,
        details: dict[str, Any] | None = None,
        event_id: str | None = None,
    ) -> AuditEvent:
        """Store one event; returns it as stored (a repeat with the same `event_id` returns the first).

        Raises `ConditionFailedError` when `event_id` already names a DIFFERENT event.
        """
        if event_id is not None and (not event_id or "#" in event_id):
            raise ValueError(f"audit event id {event_id!r} must be non-empty and contain no '#'")
        now = self._clock.now()
        event = AuditEvent(
            org=org,
            event_id=event_id or uuid.uuid4().hex,
            timestamp=iso_timestamp(now),
            kind=kind,
            actor=actor,
            subject=subject,
            # Through the item codec, so a comparison with what DynamoDB gives back is exact.
            details=from_item(to_item(details or {})),
            expires_at=int(now) + self._retention_seconds,
        )
        action = f"appending audit event {kind!r} for org {org!r} to {self.table}"
        if event_id is not None:
            event = self._claim(event, action)
        self._put_once(
            {"pk": org_partition_key(org), "sk": f"{event.timestamp}#{event.event_id}"}, event, action
        )
        return event

    def _claim(self, event: AuditEvent, action: str) -> AuditEvent:
        """The event as first claimed under its id: this one, or an earlier attempt's (same content)."""
        key = {"pk": claim_partition_key(event.org, event.event_id), "sk": CLAIM_SORT_KEY}
        return self._put_once(key, event, f"{action} (claiming event id {event.event_id})")

    def _put_once(self, key: dict[str, str], event: AuditEvent, action: str) -> AuditEvent:
        """Conditional put of `event` at `key`; if the item exists, it must be this same event."""
        item = to_item({**key, **event.model_dump(exclude={"org"})})
        with mapped_errors(action):
            try:
                self._dynamodb.put_item(
                    TableName=self.table,
                    Item=item,
                    ConditionExpression=_NEW_ITEM_ONLY,
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise translate_client_error(error, action) from error
                stored = self._stored_event(event.org, key, error)
                if stored is None or _content(stored) != _content(event):
                    raise ConditionFailedError(
                        f"{action}: audit event id {event.event_id} already names a different event"
                    ) from error
                return stored  # written before: by this call's lost first attempt, or a retried step
        return event

    def _stored_event(self, org: str, key: dict[str, str], error: ClientError) -> AuditEvent | None:
        # DynamoDB returns the existing item with ReturnValuesOnConditionCheckFailure; an answer
        # without it (an emulator, a retried request) falls back to a consistent read.
        old: Any = dict(error.response).get("Item")
        if not (isinstance(old, dict) and old):
            with mapped_errors(f"reading audit item {key['pk']}/{key['sk']} from {self.table}"):
                response = self._dynamodb.get_item(
                    TableName=self.table, Key=to_item(key), ConsistentRead=True
                )
            old = response.get("Item")
        return _event_from_item(org, old) if old else None

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
                    events.append(_event_from_item(org, raw))
                    if limit is not None and len(events) >= limit:
                        return events
        return events


def _event_from_item(org: str, item: dict[str, AttributeValueTypeDef] | dict[str, Any]) -> AuditEvent:
    values = from_item(item)
    return AuditEvent(
        org=org,
        event_id=values["event_id"],
        timestamp=values["timestamp"],
        kind=values["kind"],
        actor=values["actor"],
        subject=values["subject"],
        details=values.get("details", {}),
        expires_at=values[TTL_ATTRIBUTE],
    )


def _content(event: AuditEvent) -> tuple[Any, ...]:
    return tuple(getattr(event, name) for name in _CONTENT_FIELDS)
