"""The AWS side of the push webhook: secrets (Secrets Manager), delivery log (DynamoDB state
table), release starter (S3 bundle + Step Functions)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr

from flowops.git.mirror import MirrorChange
from flowops.git.pending import (
    CARRY_DAYS,
    MirrorChangeList,
    PendingMirror,
    carried,
)
from flowops.git.providers import Provider
from flowops.git.service import PushAnswer
from flowops.git.status import StatusTarget
from flowops.partitions import pending_mirror_partition
from flowops.release.bundle import ReleaseBundle, bundle_key
from flowops.release.models import ReleaseRequest
from flowops.store import ArtifactStore, StoreError
from flowops.webhook.errors import DependencyUnavailableError
from flowops.webhook.starter import StepFunctionsExecutionStarter

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_secretsmanager.client import SecretsManagerClient
    from mypy_boto3_stepfunctions.client import SFNClient

SECRET_FIELDS: dict[str, dict[Provider, str]] = {
    "webhook": {"github": "github_webhook_secret", "gitlab": "gitlab_webhook_token"},
    "read": {"github": "github_read_token", "gitlab": "gitlab_read_token"},
    "status": {"github": "github_status_token", "gitlab": "gitlab_status_token"},
    "write": {"github": "github_write_token", "gitlab": "gitlab_write_token"},
}
"""The Git secret is one JSON document; a provider without its field is not set up."""
_DELIVERY_PREFIX = "gitdelivery#"
_AWS_ERRORS = (ClientError, BotoCoreError)


class SecretsManagerGitSecrets:
    def __init__(
        self, secret_id: str, *, max_age_seconds: int = 300, client: SecretsManagerClient | None = None
    ):
        self.secret_id = secret_id
        self.max_age_seconds = max_age_seconds
        self._provider = SecretsProvider(boto3_client=client)

    def __repr__(self) -> str:
        return f"SecretsManagerGitSecrets({self.secret_id!r})"

    def _field(self, kind: str, provider: Provider) -> SecretStr | None:
        try:
            raw = self._provider.get(self.secret_id, max_age=self.max_age_seconds)
        except Exception as error:  # powertools wraps every AWS failure in GetParameterError
            raise DependencyUnavailableError(f"the Git secret {self.secret_id!r} is not readable") from error
        text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        try:
            document = json.loads(text)
        except ValueError:
            raise RuntimeError(f"Git secret {self.secret_id!r} is not a JSON object") from None
        value = document.get(SECRET_FIELDS[kind][provider]) if isinstance(document, dict) else None
        return SecretStr(value) if isinstance(value, str) and value else None

    def webhook_secret(self, provider: Provider) -> SecretStr | None:
        return self._field("webhook", provider)

    def read_token(self, provider: Provider) -> SecretStr | None:
        return self._field("read", provider)

    def write_token(self, provider: Provider) -> SecretStr | None:
        """The token that pushes `live/<env>` (contents: write); the mirror is off without it."""
        return self._field("write", provider)

    def status_token(self, provider: Provider) -> SecretStr | None:
        """The token that posts commit statuses (`repo:status` / `api`); the read token if unset."""
        return self._field("status", provider) or self._field("read", provider)


class DynamoDeliveryLog:
    """Answers per provider delivery id in the state table (`pk = gitdelivery#<id>`), with TTL."""

    def __init__(self, table: str, *, client: DynamoDBClient, ttl_seconds: int = 7 * 24 * 3600) -> None:
        self._table = table
        self._client = client
        self.ttl_seconds = ttl_seconds

    def _key(self, delivery_id: str) -> dict[str, Any]:
        return {"pk": {"S": f"{_DELIVERY_PREFIX}{delivery_id}"}, "sk": {"S": "delivery"}}

    def answered(self, delivery_id: str) -> PushAnswer | None:
        try:
            item = self._client.get_item(
                TableName=self._table, Key=self._key(delivery_id), ConsistentRead=True
            )
        except _AWS_ERRORS as error:
            raise DependencyUnavailableError("the delivery log is not readable") from error
        found = item.get("Item")
        return PushAnswer.model_validate_json(found["answer"]["S"]) if found else None

    def record(self, delivery_id: str, answer: PushAnswer) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **self._key(delivery_id),
                    "kind": {"S": "git-delivery"},
                    "answer": {"S": answer.model_dump_json()},
                    "expires_at": {"N": str(int(time.time()) + self.ttl_seconds)},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            # A concurrent delivery of the same id answered first: its answer stays.


class StepFunctionsReleaseStarter:
    """Stores the bundle content-addressed and starts the Release state machine by name."""

    def __init__(
        self, state_machine_arn: str, *, org: str, bucket: str, sfn: SFNClient, s3: S3Client
    ) -> None:
        self._starter = StepFunctionsExecutionStarter(state_machine_arn, client=sfn)
        self._artifacts = ArtifactStore(bucket, s3)
        self.org = org

    def start(
        self, name: str, bundle: ReleaseBundle, *, environment: str, requester: str, reason: str
    ) -> str:
        key = bundle_key(self.org, bundle.sha256)
        request = ReleaseRequest(
            bundle_key=key,
            bundle_sha256=bundle.sha256,
            environment=environment,
            requester=requester[:200],
            reason=reason[:1000],
        )
        try:
            self._artifacts.put_immutable(key, bundle.canonical_bytes())
            return self._starter.start(name, request.model_dump_json())
        except (StoreError, *_AWS_ERRORS) as error:
            raise DependencyUnavailableError(
                "the release could not be started; redeliver the push"
            ) from error


class DynamoStatusTargets:
    """Where each git-started release reports (`pk = gitrelease#<release id>`), kept 90 days
    (Step Functions keeps execution names that long)."""

    def __init__(self, table: str, *, client: DynamoDBClient, ttl_seconds: int = 90 * 24 * 3600) -> None:
        self._table = table
        self._client = client
        self.ttl_seconds = ttl_seconds

    def _key(self, release_id: str) -> dict[str, Any]:
        return {"pk": {"S": f"gitrelease#{release_id}"}, "sk": {"S": "status-target"}}

    def keep(self, target: StatusTarget) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **self._key(target.release_id),
                    "kind": {"S": "git-release"},
                    "target": {"S": target.model_dump_json()},
                    "expires_at": {"N": str(int(time.time()) + self.ttl_seconds)},
                },
            )
        except _AWS_ERRORS as error:
            raise DependencyUnavailableError("the release's status target could not be kept") from error

    def find(self, release_id: str) -> StatusTarget | None:
        item = self._client.get_item(TableName=self._table, Key=self._key(release_id), ConsistentRead=True)
        found = item.get("Item")
        return StatusTarget.model_validate_json(found["target"]["S"]) if found else None


class DynamoPendingMirrors:
    """Pending mirrors in the state table: `pk = gitmirror#<org>`, `sk = <env>#<repository>`,
    compare-and-set on a revision, expiring CARRY_DAYS after the last failure."""

    def __init__(
        self, table: str, *, org: str, client: DynamoDBClient, ttl_seconds: int = CARRY_DAYS * 86400
    ):
        self._table = table
        self._client = client
        self.org = org
        self.ttl_seconds = ttl_seconds

    def _key(self, environment: str, repository: str) -> dict[str, Any]:
        return {"pk": {"S": pending_mirror_partition(self.org)}, "sk": {"S": f"{environment}#{repository}"}}

    def pending(self, environment: str, repository: str) -> PendingMirror | None:
        try:
            found = self._client.get_item(
                TableName=self._table, Key=self._key(environment, repository), ConsistentRead=True
            ).get("Item")
        except _AWS_ERRORS as error:
            raise DependencyUnavailableError("the pending Git mirror is not readable") from error
        if not found or int(found.get("expires_at", {"N": "0"})["N"]) < time.time():
            return None  # DynamoDB deletes expired items within days, not at once
        return PendingMirror(
            changes=MirrorChangeList.model_validate_json(found["changes"]["S"]).changes,
            since=found["since"]["S"],
            failures=int(found["failures"]["N"]),
            reason=found["reason"]["S"],
            dropped=int(found["dropped"]["N"]),
            revision=int(found["revision"]["N"]),
        )

    def carry(self, environment: str, repository: str, changes: Sequence[MirrorChange], reason: str) -> None:
        for _ in range(5):
            now = self.pending(environment, repository)
            merged = carried(now, changes, reason)
            condition = (
                {
                    "ConditionExpression": "revision = :revision",
                    "ExpressionAttributeValues": {":revision": {"N": str(now.revision)}},
                }
                if now is not None
                else {
                    "ConditionExpression": "attribute_not_exists(pk) OR expires_at < :now",
                    "ExpressionAttributeValues": {":now": {"N": str(int(time.time()))}},
                }
            )
            try:
                self._client.put_item(
                    TableName=self._table,
                    Item={
                        **self._key(environment, repository),
                        "kind": {"S": "git-pending-mirror"},
                        "changes": {"S": MirrorChangeList(changes=merged.changes).model_dump_json()},
                        "since": {"S": merged.since.isoformat()},
                        "failures": {"N": str(merged.failures)},
                        "reason": {"S": merged.reason or "-"},
                        "dropped": {"N": str(merged.dropped)},
                        "revision": {"N": str(merged.revision + 1)},
                        "expires_at": {"N": str(int(time.time()) + self.ttl_seconds)},
                    },
                    **condition,  # type: ignore[arg-type]
                )
                return
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise DependencyUnavailableError("the pending Git mirror could not be kept") from error
            except BotoCoreError as error:
                raise DependencyUnavailableError("the pending Git mirror could not be kept") from error
        raise DependencyUnavailableError("the pending Git mirror kept changing; not kept")

    def settle(self, environment: str, repository: str, landed: PendingMirror) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=self._key(environment, repository),
                ConditionExpression="revision = :revision",
                ExpressionAttributeValues={":revision": {"N": str(landed.revision)}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise DependencyUnavailableError("the landed Git mirror could not be settled") from error
            # Carried meanwhile: it stays, and the next mirror lands it (no empty commit).
