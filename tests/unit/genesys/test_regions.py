from __future__ import annotations

import pytest

from flowops.genesys import ConfigurationError
from flowops.genesys.regions import API_HOST_BY_REGION, resolve_endpoints


def test_region_resolves_api_and_login_hosts() -> None:
    # Given a known region key
    # When resolving its endpoints
    endpoints = resolve_endpoints(region="eu_west_1", base_url=None)
    # Then the API host comes from the table and the login host swaps api. for login.
    assert endpoints.api_base_url == "https://api.mypurecloud.ie"
    assert endpoints.token_url == "https://login.mypurecloud.ie/oauth/token"


def test_every_region_has_a_login_host() -> None:
    for region, host in API_HOST_BY_REGION.items():
        endpoints = resolve_endpoints(region=region, base_url=None)
        assert endpoints.token_url == f"https://login.{host[len('api.') :]}/oauth/token"


def test_unknown_region_lists_the_valid_keys() -> None:
    # Given a region that does not exist
    # When resolving it
    with pytest.raises(ConfigurationError) as caught:
        resolve_endpoints(region="mars_north_1", base_url=None)
    # Then the error names it and lists valid keys
    assert "mars_north_1" in str(caught.value)
    assert "eu_west_1" in str(caught.value) and "us_east_1" in str(caught.value)


def test_base_url_overrides_region_and_serves_the_token_endpoint() -> None:
    endpoints = resolve_endpoints(region="eu_west_1", base_url="http://127.0.0.1:8123/")
    assert endpoints.api_base_url == "http://127.0.0.1:8123"
    assert endpoints.token_url == "http://127.0.0.1:8123/oauth/token"


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("127.0.0.1:8123", "http://"),
        ("ftp://example.com", "http://"),
        ("http://", "no host"),
        ("https://host/?a=1", "query"),
    ],
)
def test_malformed_base_url_is_a_clear_configuration_error(base_url: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_endpoints(region=None, base_url=base_url)
    assert expected in str(caught.value)


def test_no_location_at_all_names_both_settings() -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_endpoints(region=None, base_url=None)
    assert "GENESYS_REGION" in str(caught.value) and "GENESYS_BASE_URL" in str(caught.value)


def test_the_eu_sovereign_region_is_known() -> None:
    endpoints = resolve_endpoints(region="eusc_de_east_1", base_url=None)
    assert endpoints.api_base_url == "https://api.edee1.eusc-pure.cloud"
    assert endpoints.token_url == "https://login.edee1.eusc-pure.cloud/oauth/token"


def test_a_real_base_url_keeps_the_token_endpoint_on_the_login_host() -> None:
    # Given GENESYS_BASE_URL pointing at a real API host
    endpoints = resolve_endpoints(region=None, base_url="https://api.mypurecloud.de")
    # Then the token is requested from its login host, never from the API host
    assert endpoints.api_base_url == "https://api.mypurecloud.de"
    assert endpoints.token_url == "https://login.mypurecloud.de/oauth/token"


def test_a_base_url_with_no_derivable_login_host_needs_an_explicit_token_url() -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_endpoints(region=None, base_url="https://genesys-proxy.example.com")
    assert "GENESYS_TOKEN_URL" in str(caught.value)
    endpoints = resolve_endpoints(
        region=None,
        base_url="https://genesys-proxy.example.com",
        token_url="https://login-proxy.example.com/oauth/token",
    )
    assert endpoints.token_url == "https://login-proxy.example.com/oauth/token"


def test_plain_http_is_only_for_loopback() -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_endpoints(region=None, base_url="http://api.mypurecloud.com")
    assert "https" in str(caught.value)
    assert resolve_endpoints(region=None, base_url="http://localhost:9000").token_url == (
        "http://localhost:9000/oauth/token"
    )
