"""The shared webhook secret, read from Secrets Manager through powertools with a TTL cache.

The value is held as a `SecretStr` so it never shows in a repr, a log line or an exception.
The secret string is the raw shared secret (what you paste into GitHub's webhook form).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from pydantic import SecretStr

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager.client import SecretsManagerClient


class WebhookSecretSource(Protocol):
    def current(self) -> SecretStr:
        """The shared secret to verify signatures with."""
        ...


class StaticWebhookSecret:
    """A secret known up front (local runtime, tests)."""

    def __init__(self, secret: str | SecretStr) -> None:
        self._secret = secret if isinstance(secret, SecretStr) else SecretStr(secret)

    def current(self) -> SecretStr:
        return self._secret

    def __repr__(self) -> str:
        return "StaticWebhookSecret(**********)"


class SecretsManagerWebhookSecret:
    """`WebhookSecretSource` on Secrets Manager; the value is cached for `max_age_seconds`."""

    def __init__(
        self, secret_id: str, *, max_age_seconds: int = 300, client: SecretsManagerClient | None = None
    ) -> None:
        self.secret_id = secret_id
        self.max_age_seconds = max_age_seconds
        self._provider = SecretsProvider(boto3_client=client)

    def current(self) -> SecretStr:
        value = self._provider.get(self.secret_id, max_age=self.max_age_seconds)
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        if not isinstance(value, str) or not value:
            # Say which secret id is wrong, never anything about its value.
            raise RuntimeError(f"webhook secret {self.secret_id!r} is empty or not a string")
        return SecretStr(value)
