"""DynamoDB item (de)serialisation shared by the table-backed stores."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from flowops.clock import Clock, SystemClock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef


class StateTableStore:
    """What the stores on the state table share: the table name, a DynamoDB client, a clock."""

    def __init__(
        self, table: str, dynamodb_client: DynamoDBClient | None = None, *, clock: Clock | None = None
    ) -> None:
        if not table:
            raise ValueError("state table name is empty (is STATE_TABLE set?)")
        self.table = table
        self._dynamodb: DynamoDBClient = (
            dynamodb_client if dynamodb_client is not None else boto3.client("dynamodb")
        )
        self._clock: Clock = clock or SystemClock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(table={self.table!r})"


_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: Mapping[str, Any]) -> dict[str, AttributeValueTypeDef]:
    """Plain Python values → DynamoDB attribute values (None values are dropped, floats as Decimal)."""
    return {
        name: _serializer.serialize(_to_dynamo_value(value))
        for name, value in values.items()
        if value is not None
    }


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _from_dynamo_value(_deserializer.deserialize(value)) for name, value in item.items()}


def iso_timestamp(epoch_seconds: float) -> str:
    """Sortable UTC timestamp with microseconds, e.g. 2025-01-02T03:04:05.000006Z."""
    return datetime.fromtimestamp(epoch_seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _to_dynamo_value(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, Mapping):
        return {key: _to_dynamo_value(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_to_dynamo_value(item) for item in value]
    return value


def _from_dynamo_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _from_dynamo_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_dynamo_value(item) for item in value]
    if isinstance(value, set):
        return sorted(_from_dynamo_value(item) for item in value)
    return value
