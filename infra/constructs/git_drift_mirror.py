"""The scan step that commits out-of-band drift to `live/<env>` in Git (docs/git.md).

Only composed when the environment has `git` in cdk.json with `mirror` on; the scan workflow
then runs it after its report when published flows changed since the compared lock.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.constructs.functions import FunctionsConstruct
from infra.constructs.git_push import git_environment, git_secret_name, pending_mirror_items
from infra.constructs.storage import StorageConstruct
from infra.environment import EnvironmentConfig, GitConfig
from infra.nag import acknowledge, logical_id

# Up to flowops.git.drift.MAX_DRIFT_FLOWS export jobs, then a push per repository: the Lambda
# maximum (a bulk change of 300 flows at the org's rate limit fits it).
MIRROR_TIMEOUT = Duration.minutes(15)


class GitDriftMirrorConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        git: GitConfig,
        storage: StorageConstruct,
        functions: FunctionsConstruct,
    ) -> None:
        super().__init__(scope, construct_id)
        bucket = storage.artifacts_bucket
        self.function: lambda_.Function = functions.add_function(
            "GitMirrorDrift",
            handler="flowops.functions.git.mirror_drift.handler",
            # The scan's report (its full diff), the live org's export cache and the pending
            # mirrors of failed pushes (state table, its own partition), nothing else.
            grants=[
                pending_mirror_items(storage.state_table, config.org_key),
                lambda grantee: bucket.grant_read(grantee, "scans/*"),
                lambda grantee: bucket.grant_read(grantee, "flows/*"),
                lambda grantee: bucket.grant_put(grantee, "flows/*"),
            ],
            calls_genesys=True,
            timeout=MIRROR_TIMEOUT,
            environment=git_environment(config, git),
            description="flowops: a scan's out-of-band drift committed to live/<env> in Git",
        )
        secretsmanager.Secret.from_secret_name_v2(self, "GitSecret", git_secret_name(config, git)).grant_read(
            self.function
        )
        bucket_id = logical_id(bucket)
        acknowledge(
            self.function,
            f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/scans/*]",
            "Reads scan reports (scans/<org>/<scan id>/report.json, ids unknown in advance); read-only.",
        )
        acknowledge(
            self.function,
            f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/flows/*]",
            "The live org's export cache (flows/<org>/<flowId>/<version>.yaml), read and filled.",
        )
        for action in ("s3:GetBucket*", "s3:GetObject*", "s3:List*"):
            acknowledge(
                self.function,
                f"AwsSolutions-IAM5[Action::{action}]",
                "CDK's grant_read action group, bounded to the scans/ and flows/ prefixes of the bucket.",
            )
