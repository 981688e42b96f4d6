"""`POST /git/push` (GitHub/GitLab push webhooks → releases) and the function that reports each
git-started release's outcome on its commit and mirrors it to `live/<env>` (docs/git.md).

Only composed when the environment has `git` in cdk.json.
"""

from __future__ import annotations

import json

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from flowops.partitions import pending_mirror_partition
from infra.constructs.functions import FunctionsConstruct, Grant
from infra.constructs.storage import StorageConstruct
from infra.constructs.workflow import grant_describe_executions
from infra.environment import EnvironmentConfig, GitConfig
from infra.nag import acknowledge, logical_id

# Every release a push starts is named `git-…` (flowops.git.service.release_name).
EXECUTION_PREFIX = "git-"
# Reading the pushed commit over HTTPS is the slow part; a provider waits 10 s (GitHub) for the
# answer and redelivers on a timeout, which the release name makes harmless.
PUSH_TIMEOUT = Duration.seconds(60)
STATUS_TIMEOUT = Duration.minutes(5)


def git_secret_name(config: EnvironmentConfig, git: GitConfig) -> str:
    return git.secret_name or f"flowops/{config.name}/git"


def pending_mirror_items(state: dynamodb.ITable, org: str) -> Grant:
    """Get/Put/Delete on the org's pending mirror items of the state table (`gitmirror#<org>`,
    flowops.git.pending), and nothing else of it."""
    return lambda grantee: iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
        resource_arns=[state.table_arn],
        conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [pending_mirror_partition(org)]}},
    )


def git_environment(config: EnvironmentConfig, git: GitConfig) -> dict[str, str]:
    """What every Git function reads (flowops.git.settings.GitSettings)."""
    return {
        "GIT_SECRET_ID": git_secret_name(config, git),
        "GIT_ROUTING": json.dumps({"repositories": git.repositories}, separators=(",", ":")),
        "GIT_GITHUB_API": git.github_api,
        "GIT_GITLAB_API": git.gitlab_api,
    }


class GitPushConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        git: GitConfig,
        storage: StorageConstruct,
        functions: FunctionsConstruct,
        api: apigw.RestApi,
        release_state_machine: sfn.IStateMachine,
    ) -> None:
        super().__init__(scope, construct_id)
        secret_name = git_secret_name(config, git)
        secret = secretsmanager.Secret.from_secret_name_v2(self, "GitSecret", secret_name)
        environment = {
            **git_environment(config, git),
            "GIT_RUN_URL": git.run_url,
            "GIT_MIRROR": "true" if git.mirror else "false",
            "RELEASE_STATE_MACHINE_ARN": release_state_machine.state_machine_arn,
        }
        self.push_function = functions.add_function(
            "GitPush",
            handler="flowops.functions.git.push.handler",
            grants=[storage.state_table.grant_read_write_data],
            timeout=PUSH_TIMEOUT,
            environment=environment,
            description="flowops: GitHub/GitLab push webhooks start releases",
        )
        secret.grant_read(self.push_function)
        release_state_machine.grant_start_execution(self.push_function)
        storage.artifacts_bucket.grant_put(self.push_function, "releases/*")
        describe_executions = grant_describe_executions(
            self.push_function, release_state_machine, EXECUTION_PREFIX
        )
        api.root.add_resource("git").add_resource("push").add_method(
            "POST",
            apigw.LambdaIntegration(self.push_function, proxy=True),
            # Authenticated by the provider's signature/token in the function (401 otherwise).
            authorization_type=apigw.AuthorizationType.NONE,
        )

        self.status_function = functions.add_function(
            "GitReleaseStatus",
            handler="flowops.functions.git.release_status.handler",
            grants=[
                storage.state_table.grant_read_data,
                pending_mirror_items(storage.state_table, config.org_key),
            ],
            calls_genesys=True,
            timeout=STATUS_TIMEOUT,
            environment=environment,
            description="flowops: commit status and live/<env> after a git-started release",
        )
        secret.grant_read(self.status_function)
        # The live org's export cache: `flows/<org>/<flowId>/<version>.yaml` (docs/releases.md).
        storage.artifacts_bucket.grant_read(self.status_function, "flows/*")
        storage.artifacts_bucket.grant_put(self.status_function, "flows/*")
        events.Rule(
            self,
            "ReleaseStatusChanged",
            description="flowops: a release started or ended; report it on its commit",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={
                    "stateMachineArn": [release_state_machine.state_machine_arn],
                    # Only git-started releases have a commit to report on: CLI and promoted
                    # releases invoke nothing (the function would only answer "not git-started").
                    "name": events.Match.prefix(EXECUTION_PREFIX),
                    # RUNNING: GitLab's commit shows `running` (flowops.git.status.report_running).
                    "status": ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"],
                },
            ),
            targets=[targets.LambdaFunction(self.status_function, retry_attempts=2)],
        )
        bucket_id = logical_id(storage.artifacts_bucket)
        acknowledge(
            self.push_function,
            f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/releases/*]",
            "Writes release bundles only (content-addressed under releases/); the prefix bounds it.",
        )
        acknowledge(
            self.push_function,
            describe_executions,
            "DescribeExecution on the release machine's git-started executions only (names derive from "
            "repository, commit and environment, unknown in advance); read-only.",
        )
        acknowledge(
            self.status_function,
            f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/flows/*]",
            "The live org's export cache (flows/<org>/<flowId>/<version>.yaml) read to mirror live/<env>.",
        )
        for action in ("s3:GetBucket*", "s3:GetObject*", "s3:List*"):
            acknowledge(
                self.status_function,
                f"AwsSolutions-IAM5[Action::{action}]",
                "CDK's grant_read action group, bounded to the flows/ prefix of the bucket.",
            )
