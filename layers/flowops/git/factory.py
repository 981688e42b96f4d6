"""Wiring the push webhook on AWS clients (Lambda) — the local runtime uses the same."""

from __future__ import annotations

import boto3
from pydantic import SecretStr

from flowops.git.adapters import (
    DynamoDeliveryLog,
    DynamoPendingMirrors,
    DynamoStatusTargets,
    SecretsManagerGitSecrets,
    StepFunctionsReleaseStarter,
)
from flowops.git.repository import RepositoryReader, SmartHttpReader
from flowops.git.service import PushReleaser, StatusReporter
from flowops.git.settings import GitPushSettings, GitSettings
from flowops.git.status import CommitStatusClient, PushStatusReporter


def smart_http_reader(url: str, username: str, token: SecretStr | None) -> RepositoryReader:
    return SmartHttpReader(url, username=username, token=token)


def status_client(settings: GitSettings, secrets: SecretsManagerGitSecrets) -> CommitStatusClient:
    return CommitStatusClient(
        github_api=settings.git_github_api,
        gitlab_api=settings.git_gitlab_api,
        tokens={"github": secrets.status_token("github"), "gitlab": secrets.status_token("gitlab")},
    )


def status_targets(settings: GitPushSettings) -> DynamoStatusTargets:
    """Where a git-started release's commit and clone URL are kept until its status is reported."""
    return DynamoStatusTargets(settings.state_table, client=boto3.client("dynamodb"))


def pending_mirrors(state_table: str, org: str) -> DynamoPendingMirrors:
    """What failed `live/<env>` pushes missed, carried to the next mirror (flowops.git.pending)."""
    return DynamoPendingMirrors(state_table, org=org, client=boto3.client("dynamodb"))


def git_secrets(settings: GitSettings) -> SecretsManagerGitSecrets:
    return SecretsManagerGitSecrets(
        settings.git_secret_id,
        max_age_seconds=settings.git_secret_cache_seconds,
        client=boto3.client("secretsmanager"),
    )


def build_push_releaser(settings: GitPushSettings) -> PushReleaser:
    secrets = git_secrets(settings)
    statuses: StatusReporter | None = None
    if settings.git_run_url:
        statuses = PushStatusReporter(
            status_client(settings, secrets),
            status_targets(settings),
            run_url=settings.git_run_url,
        )
    return PushReleaser(
        routing=settings.git_routing,
        environments=frozenset({settings.flowops_environment}),
        secrets=secrets,
        deliveries=DynamoDeliveryLog(settings.state_table, client=boto3.client("dynamodb")),
        starter=StepFunctionsReleaseStarter(
            settings.release_state_machine_arn,
            org=settings.flowops_org,
            bucket=settings.artifacts_bucket,
            sfn=boto3.client("stepfunctions"),
            s3=boto3.client("s3"),
        ),
        reader_factory=smart_http_reader,
        statuses=statuses,
    )
