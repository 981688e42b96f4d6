"""OAuth client credentials and where they come from (Secrets Manager).

The secret is a JSON document `{"client_id": "...", "client_secret": "..."}`. It is read
through the powertools SecretsProvider, which caches it for `max_age` seconds so a warm
Lambda does not call Secrets Manager on every invocation.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from flowops.genesys.errors import ConfigurationError

SECRET_CACHE_SECONDS = 300


class ClientCredentials(BaseModel):
    """An OAuth client-credentials grant. `client_secret` never appears in repr/str/dumps."""

    model_config = ConfigDict(frozen=True)

    client_id: str
    client_secret: SecretStr

    @field_validator("client_id")
    @classmethod
    def _client_id_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("client_id must not be blank")
        return value.strip()


class SecretValueProvider(Protocol):
    """What we need from powertools' `parameters.SecretsProvider` (or a test fake)."""

    def get(self, name: str, max_age: int | None = ..., transform: Any = ..., **sdk_options: Any) -> Any: ...


def credentials_from_secret_document(document: Any, *, secret_id: str) -> ClientCredentials:
    """Validate a secret's content, naming a missing key but never echoing a value."""
    if isinstance(document, str | bytes):
        try:
            document = json.loads(document)
        except ValueError:
            raise ConfigurationError(
                f'secret {secret_id!r} is not JSON; expected {{"client_id": ..., "client_secret": ...}}'
            ) from None
    if not isinstance(document, dict):
        raise ConfigurationError(
            f"secret {secret_id!r} must be a JSON object with keys client_id and client_secret"
        )
    missing = [
        key
        for key in ("client_id", "client_secret")
        if not isinstance(document.get(key), str) or not document[key].strip()
    ]
    if missing:
        raise ConfigurationError(
            f"secret {secret_id!r} lacks a non-empty string for: {', '.join(missing)} "
            "(expected keys client_id and client_secret)"
        )
    return ClientCredentials(
        client_id=document["client_id"], client_secret=SecretStr(document["client_secret"])
    )


def load_credentials_from_secrets_manager(
    secret_id: str,
    *,
    provider: SecretValueProvider | None = None,
    max_age_seconds: int = SECRET_CACHE_SECONDS,
) -> ClientCredentials:
    """Read and validate the Genesys OAuth client from Secrets Manager (cached `max_age_seconds`)."""
    if not secret_id:
        raise ConfigurationError("GENESYS_SECRET_ID is not set; it must name the Secrets Manager secret")
    if provider is None:
        # Imported here: only the Lambda edge needs it, and it pulls boto3 in.
        from aws_lambda_powertools.utilities import parameters

        provider = parameters.SecretsProvider()
    try:
        raw = provider.get(secret_id, max_age=max_age_seconds)
    except Exception as exc:
        # The provider's exception text names the secret and the AWS error, never the value.
        raise ConfigurationError(
            f"could not read secret {secret_id!r} from Secrets Manager: {type(exc).__name__}: {exc}"
        ) from exc
    return credentials_from_secret_document(raw, secret_id=secret_id)
