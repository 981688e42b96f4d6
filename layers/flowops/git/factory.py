"""Wiring the push webhook on AWS clients (Lambda) — the local runtime uses the same."""

from __future__ import annotations

import boto3
from pydantic import SecretStr

from flowops.git.adapters import DynamoDeliveryLog, SecretsManagerGitSecrets, StepFunctionsReleaseStarter
from flowops.git.repository import RepositoryReader, SmartHttpReader
from flowops.git.service import PushReleaser, StatusReporter
from flowops.git.settings import GitPushSettings


def smart_http_reader(url: str, username: str, token: SecretStr | None) -> RepositoryReader:
    return SmartHttpReader(url, username=username, token=token)


def build_push_releaser(settings: GitPushSettings, *, statuses: StatusReporter | None = None) -> PushReleaser:
    return PushReleaser(
        routing=settings.git_routing,
        environments=frozenset({settings.flowops_environment}),
        secrets=SecretsManagerGitSecrets(
            settings.git_secret_id,
            max_age_seconds=settings.git_secret_cache_seconds,
            client=boto3.client("secretsmanager"),
        ),
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
