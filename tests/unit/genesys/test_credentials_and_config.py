from __future__ import annotations

import json
from typing import Any

import pytest

from flowops.clock import ScaledClock, SystemClock
from flowops.config import GenesysSettings, StorageSettings, build_client_from_settings
from flowops.genesys import ClientCredentials, ConfigurationError, load_credentials_from_secrets_manager

SECRET = "very-secret-value-42"


class FakeSecretsProvider:
    """Stands in for powertools' SecretsProvider; records the cache age asked for."""

    def __init__(self, value: Any = None, error: Exception | None = None) -> None:
        self.value = value
        self.error = error
        self.calls: list[tuple[str, int | None]] = []

    def get(self, name: str, max_age: int | None = None, transform: Any = None, **_: Any) -> Any:
        self.calls.append((name, max_age))
        if self.error:
            raise self.error
        return self.value


def test_credentials_repr_never_shows_the_secret() -> None:
    credentials = ClientCredentials(client_id="abc", client_secret=SECRET)  # type: ignore[arg-type]
    assert SECRET not in repr(credentials)
    assert SECRET not in str(credentials)
    assert SECRET not in credentials.model_dump_json()
    assert credentials.client_secret.get_secret_value() == SECRET


def test_secret_is_read_through_the_provider_with_a_cache_ttl() -> None:
    # Given a Secrets Manager secret with the expected keys
    provider = FakeSecretsProvider(json.dumps({"client_id": "abc", "client_secret": SECRET}))
    # When loading credentials
    credentials = load_credentials_from_secrets_manager("genesys/oauth", provider=provider)
    # Then the provider was asked with a TTL and the credentials carry both values
    assert provider.calls == [("genesys/oauth", 300)]
    assert credentials.client_id == "abc"
    assert credentials.client_secret.get_secret_value() == SECRET


@pytest.mark.parametrize(
    ("document", "missing"),
    [
        ({"client_id": "abc"}, "client_secret"),
        ({"client_secret": SECRET}, "client_id"),
        ({"client_id": "", "client_secret": SECRET}, "client_id"),
    ],
)
def test_malformed_secret_names_the_missing_key_never_the_value(
    document: dict[str, str], missing: str
) -> None:
    provider = FakeSecretsProvider(json.dumps(document))
    with pytest.raises(ConfigurationError) as caught:
        load_credentials_from_secrets_manager("genesys/oauth", provider=provider)
    assert missing in str(caught.value)
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)


def test_non_json_secret_is_rejected_without_echoing_it() -> None:
    provider = FakeSecretsProvider(f"client_secret={SECRET}")
    with pytest.raises(ConfigurationError) as caught:
        load_credentials_from_secrets_manager("genesys/oauth", provider=provider)
    assert "not JSON" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_unreadable_secret_is_a_configuration_error() -> None:
    provider = FakeSecretsProvider(error=RuntimeError("ResourceNotFoundException"))
    with pytest.raises(ConfigurationError, match="could not read secret 'genesys/oauth'"):
        load_credentials_from_secrets_manager("genesys/oauth", provider=provider)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENESYS_REGION", "eu_west_1")
    monkeypatch.setenv("GENESYS_SECRET_ID", "genesys/oauth")
    monkeypatch.setenv("FLOWOPS_TIME_SCALE", "60")
    monkeypatch.setenv("ARTIFACTS_BUCKET", "bucket")
    monkeypatch.setenv("STATE_TABLE", "state")
    monkeypatch.setenv("AUDIT_TABLE", "audit")
    settings = GenesysSettings()
    storage = StorageSettings()
    assert (settings.genesys_region, settings.genesys_secret_id, settings.flowops_time_scale) == (
        "eu_west_1",
        "genesys/oauth",
        60.0,
    )
    assert (storage.flowops_org, storage.artifacts_bucket, storage.state_table, storage.audit_table) == (
        "dev",
        "bucket",
        "state",
        "audit",
    )


def test_build_client_from_settings_uses_base_url_and_scaled_clock() -> None:
    # Given settings pointing at the local simulator with accelerated time
    settings = GenesysSettings(
        genesys_base_url="http://127.0.0.1:8123", genesys_secret_id="sim", flowops_time_scale=60
    )
    provider = FakeSecretsProvider({"client_id": "abc", "client_secret": SECRET})
    # When building the client
    client = build_client_from_settings(settings, secrets_provider=provider)
    # Then it talks to the simulator on simulated time
    assert client.endpoints.api_base_url == "http://127.0.0.1:8123"
    assert client.endpoints.token_url == "http://127.0.0.1:8123/oauth/token"
    assert isinstance(client.clock, ScaledClock)
    assert SECRET not in repr(client)


def test_build_client_rejects_bad_location_before_reading_the_secret() -> None:
    provider = FakeSecretsProvider({"client_id": "abc", "client_secret": SECRET})
    with pytest.raises(ConfigurationError, match="unknown Genesys Cloud region"):
        build_client_from_settings(GenesysSettings(genesys_region="nowhere", genesys_secret_id="x"), provider)
    assert provider.calls == []


def test_real_time_by_default() -> None:
    provider = FakeSecretsProvider({"client_id": "abc", "client_secret": SECRET})
    client = build_client_from_settings(
        GenesysSettings(genesys_region="us_east_1", genesys_secret_id="x"), provider
    )
    assert isinstance(client.clock, SystemClock)
