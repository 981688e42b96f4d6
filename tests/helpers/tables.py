"""The stack's DynamoDB key schema (infra/constructs/storage.py: `pk` + `sk`, on demand) in moto."""

from __future__ import annotations

from typing import Any


def create_pk_sk_table(client: Any, name: str = "flowops-state") -> str:
    """Create a table shaped like the state and audit tables; returns its name."""
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    return name
