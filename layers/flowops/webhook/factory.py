"""Wiring the deployed webhook: settings → AWS-backed collaborators → `PublishWebhook`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

from flowops.store import ArtifactStore, LockPointerStore
from flowops.webhook.dynamo_ledger import DynamoDeliveryLedger
from flowops.webhook.lookup import (
    ArtifactSubstitutions,
    CurrentLockFlowDirectory,
    FlowDirectory,
    SubstitutionsSource,
)
from flowops.webhook.secret import SecretsManagerWebhookSecret
from flowops.webhook.service import PublishWebhook, WebhookLimits
from flowops.webhook.settings import WebhookSettings
from flowops.webhook.starter import StepFunctionsExecutionStarter

if TYPE_CHECKING:
    from flowops.clock import Clock


def build_publish_webhook(settings: WebhookSettings, *, clock: Clock | None = None) -> PublishWebhook:
    """A `PublishWebhook` on Secrets Manager, DynamoDB, Step Functions and (if configured) S3."""
    dynamodb = boto3.client("dynamodb")
    flows: FlowDirectory | None = None
    substitutions: SubstitutionsSource | None = None
    artifacts: ArtifactStore | None = None
    if settings.artifacts_bucket:
        artifacts = ArtifactStore(settings.artifacts_bucket, s3_client=boto3.client("s3"))
        flows = CurrentLockFlowDirectory(
            settings.flowops_org,
            pointers=LockPointerStore(settings.state_table, dynamodb_client=dynamodb),
            artifacts=artifacts,
        )
        if settings.webhook_check_environment:
            substitutions = ArtifactSubstitutions(settings.flowops_org, artifacts=artifacts)
    return PublishWebhook(
        org=settings.flowops_org,
        secrets=SecretsManagerWebhookSecret(
            settings.webhook_secret_id,
            max_age_seconds=settings.webhook_secret_cache_seconds,
            client=boto3.client("secretsmanager"),
        ),
        ledger=DynamoDeliveryLedger(
            settings.state_table, client=dynamodb, lease_seconds=settings.webhook_claim_lease_seconds
        ),
        starter=StepFunctionsExecutionStarter(
            settings.publish_state_machine_arn, client=boto3.client("stepfunctions")
        ),
        flows=flows,
        substitutions=substitutions,
        limits=WebhookLimits(
            max_body_bytes=settings.webhook_max_body_bytes,
            max_inline_yaml_bytes=settings.webhook_max_inline_yaml_bytes,
            timestamp_tolerance_seconds=settings.webhook_timestamp_tolerance_seconds,
            delivery_ttl_seconds=settings.webhook_delivery_ttl_seconds,
            claim_lease_seconds=settings.webhook_claim_lease_seconds,
        ),
        clock=clock,
        status_base_url=settings.webhook_status_base_url,
        release_starter=StepFunctionsExecutionStarter(
            settings.release_state_machine_arn, client=boto3.client("stepfunctions")
        )
        if settings.release_state_machine_arn
        else None,
        bundles=artifacts,
    )
