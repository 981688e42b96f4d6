"""Artifacts bucket (+ its access-log bucket) and the two DynamoDB tables."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constants import (
    ACCESS_LOGS_BUCKET_ID,
    ARTIFACTS_BUCKET_ID,
    AUDIT_TABLE_ID,
    AUDIT_TTL_ATTRIBUTE,
    PARTITION_KEY,
    SORT_KEY,
    STATE_TABLE_ID,
)
from infra.constructs.operations import data_removal_policy
from infra.environment import EnvironmentConfig
from infra.nag import acknowledge

# Prefixes written once per run (flowops.scan.keys, flowops.publish.steps, flowops.trace.pipeline,
# flowops.statepayload, flowops.release.steps): they expire after `runArtifactDays`. A release's
# records are per org (`<org>` is the stack's org key).
RUN_ARTIFACT_PREFIXES = (
    "scans/",
    "publish/",
    "traces/",
    "state/",
    "releases/<org>/runs/",  # plan and wave results of one release run
    "releases/<org>/consumed/",  # what a released version consumes, read at the end of its run
)
# Prefixes kept on purpose (only their noncurrent versions expire), and why. Every prefix code
# writes is in one of the two lists (tests/infra/test_lifecycle_prefixes.py).
KEPT_PREFIXES = {
    "locks/": "content-addressed lockfile history, named by the lock pointer and by release records",
    "flows/": "each flow version's YAML and release history: the rollback sources",
    "config/": "operator configuration (substitutions per environment)",
    "releases/<org>/bundles/": "release bundles, replayed by `flowops promote` into the next environment",
    "releases/<org>/yaml/": "content-addressed deploy YAML, reused by later releases of the same content",
}


def run_artifact_prefixes(org: str) -> list[str]:
    """The expiring prefixes of org `org`'s bucket."""
    return [prefix.replace("<org>", org) for prefix in RUN_ARTIFACT_PREFIXES]


class StorageConstruct(Construct):
    """Where flowops keeps lockfiles, flow YAML, reports, the lock pointer, runs and audit events."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        removal = data_removal_policy(config)
        # No auto_delete_objects: it adds a Node.js custom-resource Lambda to every stack. A DESTROY
        # bucket that still holds objects makes `cdk destroy` stop and say so, which is the safer failure.

        self.access_logs_bucket = s3.Bucket(
            self,
            ACCESS_LOGS_BUCKET_ID,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(id="ExpireAccessLogs", expiration=cdk.Duration.days(365))],
            removal_policy=removal,
        )
        acknowledge(
            self.access_logs_bucket,
            "AwsSolutions-S1",
            "This IS the server-access-log target of the artifacts bucket; logging it to itself would "
            "loop, and logging it elsewhere adds another bucket with the same finding.",
        )

        self.artifacts_bucket = s3.Bucket(
            self,
            ARTIFACTS_BUCKET_ID,
            # Lockfiles are content-addressed and immutable; versioning keeps any overwrite attempt
            # (outside flowops) recoverable, and the lifecycle bounds what old versions cost.
            versioned=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="artifacts/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireNoncurrentVersions",
                    noncurrent_version_expiration=cdk.Duration.days(config.noncurrent_version_days),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                ),
                # Per-run artifacts grow with every scan, publish and trace; nothing reads them after
                # the run but operators looking back. Locks (content-addressed history), flows/
                # (rollback sources), config/ and release bundles are kept.
                *(
                    s3.LifecycleRule(
                        id=f"ExpireRunArtifacts-{prefix.rstrip('/').replace('/', '-')}",
                        prefix=prefix,
                        expiration=cdk.Duration.days(config.run_artifact_days),
                    )
                    for prefix in run_artifact_prefixes(config.org_key)
                ),
            ],
            removal_policy=removal,
        )

        self.state_table = self._table(STATE_TABLE_ID, removal, ttl_attribute=None)
        self.audit_table = self._table(AUDIT_TABLE_ID, removal, ttl_attribute=AUDIT_TTL_ATTRIBUTE)

    def _table(
        self, construct_id: str, removal: cdk.RemovalPolicy, *, ttl_attribute: str | None
    ) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            construct_id,
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute=ttl_attribute,
            removal_policy=removal,
        )
