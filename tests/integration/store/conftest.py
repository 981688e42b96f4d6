"""Store tests run against in-process moto with the same key schema the CDK stack declares."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from flowops.local.runtime.dynamodb_atomicity import atomic_write_patches
from tests.helpers.cloud import LOCAL_REGION
from tests.helpers.tables import create_pk_sk_table

BUCKET = "flowops-test-artifacts"
STATE_TABLE = "flowops-test-state"
AUDIT_TABLE = "flowops-test-audit"


@pytest.fixture
def s3_client(moto_aws: None) -> Iterator[Any]:
    client = boto3.client("s3", region_name=LOCAL_REGION)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": LOCAL_REGION})
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    yield client


@pytest.fixture
def dynamodb_client(moto_aws: None) -> Iterator[Any]:
    client = boto3.client("dynamodb", region_name=LOCAL_REGION)
    create_pk_sk_table(client, STATE_TABLE)
    create_pk_sk_table(client, AUDIT_TABLE)
    yield client


@pytest.fixture
def atomic_conditional_writes() -> Iterator[None]:
    """moto checks a condition and writes without a lock; DynamoDB does both atomically per item."""
    patches = atomic_write_patches()
    yield
    for patch in patches:
        patch.stop()
