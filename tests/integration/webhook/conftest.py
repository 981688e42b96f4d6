"""A moto-backed AWS for the webhook handler: secret, state table, bucket, publish state machine."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from flowops.webhook.signature import signed_headers
from tests.helpers.tables import create_pk_sk_table
from tests.integration.webhook.events import FakeLambdaContext, rest_event

WEBHOOK_SECRET = "integration-shared-secret-5f1c"  # what the tests sign with; must never be logged
ORG = "dev"
MAIN_IVR_ID = "5e2f0c4a-1111-4a4a-9c9c-000000000001"


@dataclass
class WebhookCloud:
    state_table: str
    bucket: str
    state_machine_arn: str

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        from flowops.functions.webhook import api

        response: dict[str, Any] = api.handler(event, FakeLambdaContext())
        return response

    def signed_event(
        self,
        document: dict[str, Any] | bytes,
        *,
        delivery_id: str | None = None,
        timestamp: int | None = None,
    ) -> dict[str, Any]:
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        headers = signed_headers(
            body,
            WEBHOOK_SECRET,
            delivery_id=delivery_id or str(uuid.uuid4()),
            timestamp=int(time.time()) if timestamp is None else timestamp,
        )
        return rest_event(body, headers)

    def executions(self) -> list[dict[str, Any]]:
        sfn = boto3.client("stepfunctions")
        return list(sfn.list_executions(stateMachineArn=self.state_machine_arn)["executions"])


def publish_document(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "flow": {"name": "Main IVR", "type": "INBOUNDCALL"},
        "environment": "test",
        "version": "3.0",
        "requester": "ci@example.com",
        "reason": "release 42",
    }
    document.update(overrides)
    return document


def _atomic(method: Callable[..., Any], lock: threading.Lock) -> Callable[..., Any]:
    def locked(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return method(*args, **kwargs)

    return locked


@pytest.fixture
def webhook_cloud(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookCloud]:
    """Given: the AWS resources the webhook function is deployed with, and a lock naming Main IVR."""
    from moto.dynamodb.models.table import Table

    from flowops.functions.webhook import api
    from flowops.lock.canonical import lock_document_bytes
    from flowops.lock.models import LockedFlow, Lockfile
    from flowops.store import ArtifactStore, LockPointerStore, lock_key, sha256_hex
    from flowops.webhook.lookup import substitutions_key

    # DynamoDB applies a condition and the write atomically; moto checks and writes without a
    # lock, so concurrent threads could both pass the check. Restore the real service's guarantee.
    monkeypatch.setattr(Table, "put_item", _atomic(Table.put_item, threading.Lock()))

    region = boto3.session.Session().region_name
    secret_arn = boto3.client("secretsmanager").create_secret(
        Name="flowops/webhook", SecretString=WEBHOOK_SECRET
    )["ARN"]
    dynamodb = boto3.client("dynamodb")
    create_pk_sk_table(dynamodb, "flowops-state")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="flowops-artifacts", CreateBucketConfiguration={"LocationConstraint": region})
    role_arn = boto3.client("iam").create_role(
        RoleName="flowops-publish",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    definition = {"StartAt": "Validate", "States": {"Validate": {"Type": "Pass", "End": True}}}
    state_machine_arn = boto3.client("stepfunctions").create_state_machine(
        name="flowops-publish", definition=json.dumps(definition), roleArn=role_arn
    )["stateMachineArn"]

    # The current lock of the org knows one flow; the "test" environment has substitutions.
    artifacts = ArtifactStore("flowops-artifacts", s3_client=s3)
    lock = Lockfile(org=ORG, flows=[LockedFlow(id=MAIN_IVR_ID, name="Main IVR", type="INBOUNDCALL")])
    document = lock_document_bytes(lock)
    key = lock_key(ORG, sha256_hex(document))  # the store content-addresses the stored bytes
    artifacts.put_immutable(key, document)
    LockPointerStore("flowops-state", dynamodb_client=dynamodb).advance(
        ORG, sha256_hex(document), None, key=key
    )
    artifacts.put_json(substitutions_key(ORG, "test"), {"queue_name": "Support"})

    for name, value in {
        "WEBHOOK_SECRET_ID": secret_arn,
        "STATE_TABLE": "flowops-state",
        "ARTIFACTS_BUCKET": "flowops-artifacts",
        "PUBLISH_STATE_MACHINE_ARN": state_machine_arn,
        "FLOWOPS_ORG": ORG,
        "WEBHOOK_MAX_BODY_BYTES": str(64 * 1024),
        "POWERTOOLS_METRICS_NAMESPACE": "flowops-test",
    }.items():
        monkeypatch.setenv(name, value)
    api.webhook_for.cache_clear()  # clients must be created inside this moto context
    yield WebhookCloud(
        state_table="flowops-state", bucket="flowops-artifacts", state_machine_arn=state_machine_arn
    )
    api.webhook_for.cache_clear()
