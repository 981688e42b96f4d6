"""Store tests run against in-process moto with the same key schema the CDK stack declares."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.helpers.cloud import LOCAL_REGION

BUCKET = "flowops-test-artifacts"
STATE_TABLE = "flowops-test-state"
AUDIT_TABLE = "flowops-test-audit"


def _create_pk_sk_table(client: Any, name: str) -> None:
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )


@pytest.fixture
def s3_client(moto_aws: None) -> Iterator[Any]:
    client = boto3.client("s3", region_name=LOCAL_REGION)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": LOCAL_REGION})
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    yield client


@pytest.fixture
def dynamodb_client(moto_aws: None) -> Iterator[Any]:
    client = boto3.client("dynamodb", region_name=LOCAL_REGION)
    _create_pk_sk_table(client, STATE_TABLE)
    _create_pk_sk_table(client, AUDIT_TABLE)
    yield client
