"""`POST /git/push` through the Lambda handler: API Gateway proxy event in, Secrets Manager
secret, DynamoDB delivery log and Step Functions in moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.helpers.tables import create_pk_sk_table
from tests.integration.webhook.events import FakeLambdaContext, rest_event
from tests.unit.git.fakes import GITHUB_SECRET
from tests.unit.git.payloads import github_branch_push, github_examples, github_headers

C1, C2 = "1" * 40, "2" * 40


@pytest.fixture
def handler(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from flowops.functions.git import push

    region = boto3.session.Session().region_name
    secret = boto3.client("secretsmanager").create_secret(
        Name="flowops/dev/git", SecretString=json.dumps({"github_webhook_secret": GITHUB_SECRET})
    )["ARN"]
    create_pk_sk_table(boto3.client("dynamodb"), "flowops-state")
    boto3.client("s3").create_bucket(
        Bucket="flowops-artifacts", CreateBucketConfiguration={"LocationConstraint": region}
    )
    routing = {
        "repositories": [
            {"provider": "github", "repository": "Codertocat/Hello-World", "branches": {"main": "dev"}}
        ]
    }
    for name, value in {
        "GIT_SECRET_ID": secret,
        "GIT_ROUTING": json.dumps(routing),
        "STATE_TABLE": "flowops-state",
        "ARTIFACTS_BUCKET": "flowops-artifacts",
        "RELEASE_STATE_MACHINE_ARN": f"arn:aws:states:{region}:123456789012:stateMachine:flowops-release",
        "FLOWOPS_ORG": "dev",
        "FLOWOPS_ENVIRONMENT": "dev",
        "POWERTOOLS_METRICS_NAMESPACE": "flowops-test",
    }.items():
        monkeypatch.setenv(name, value)
    push.releaser_for.cache_clear()
    yield lambda body, headers: push.handler(rest_event(body, headers, path="/git/push"), FakeLambdaContext())
    push.releaser_for.cache_clear()


def test_the_handler_verifies_answers_ping_and_ignores_other_branches(handler: Any) -> None:
    ping = json.dumps(github_examples("ping")[1]).encode()
    response = handler(ping, github_headers(ping, GITHUB_SECRET, event="ping"))
    assert response["statusCode"] == 200 and json.loads(response["body"])["status"] == "pong"

    body = json.dumps(github_branch_push(after=C2, before=C1, ref="refs/heads/master")).encode()
    response = handler(body, github_headers(body, GITHUB_SECRET, delivery="d-1"))
    answer = json.loads(response["body"])
    assert response["statusCode"] == 200 and answer["status"] == "ignored" and "master" in answer["reason"]
    # The same delivery again is answered from the delivery log
    again = json.loads(handler(body, github_headers(body, GITHUB_SECRET, delivery="d-1"))["body"])
    assert again["replayed"] is True and again["reason"] == answer["reason"]

    forged = github_headers(body, "not the secret")
    response = handler(body, forged)
    assert response["statusCode"] == 401 and json.loads(response["body"])["code"] == "webhook.signature"


def test_gitlab_without_a_configured_token_is_refused(handler: Any) -> None:
    from tests.unit.git.payloads import gitlab_headers, gitlab_push

    body = json.dumps(gitlab_push(after=C2, before=C1)).encode()
    response = handler(body, gitlab_headers("anything"))
    assert (
        response["statusCode"] == 401
        and "no gitlab webhook secret" in json.loads(response["body"])["message"]
    )
