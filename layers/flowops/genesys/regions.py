"""Where the Genesys Cloud API and its OAuth endpoint live.

A region key (e.g. `eu_west_1`) selects the public API host; the login host is the API host
with `api.` replaced by `login.`. An explicit base URL overrides the region:
- a real host (`https://api.<domain>`): the token endpoint is on its login host, exactly as for
  a region (the API host never serves `/oauth/token`);
- a loopback host (the local simulator, e.g. `http://127.0.0.1:8123`): the token endpoint is
  `<base>/oauth/token` on the same server;
- any other host (a proxy, a test double): the token URL must be given explicitly
  (`GENESYS_TOKEN_URL`), since nothing says where its login host is.
An explicit token URL always wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from flowops.genesys.errors import ConfigurationError

API_HOST_BY_REGION: Mapping[str, str] = {
    "us_east_1": "api.mypurecloud.com",
    "eu_west_1": "api.mypurecloud.ie",
    "ap_southeast_2": "api.mypurecloud.com.au",
    "ap_northeast_1": "api.mypurecloud.jp",
    "eu_central_1": "api.mypurecloud.de",
    "us_west_2": "api.usw2.pure.cloud",
    "ca_central_1": "api.cac1.pure.cloud",
    "ap_northeast_2": "api.apne2.pure.cloud",
    "eu_west_2": "api.euw2.pure.cloud",
    "ap_south_1": "api.aps1.pure.cloud",
    "us_east_2": "api.use2.us-gov-pure.cloud",
    "sa_east_1": "api.sae1.pure.cloud",
    "me_central_1": "api.mec1.pure.cloud",
    "ap_northeast_3": "api.apne3.pure.cloud",
    "eu_central_2": "api.euc2.pure.cloud",
    "mx_central_1": "api.mxc1.pure.cloud",
    "ap_southeast_1": "api.apse1.pure.cloud",
    # EU sovereign cloud (SDK 269 PureCloudRegionHosts).
    "eusc_de_east_1": "api.edee1.eusc-pure.cloud",
}
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Endpoints:
    """The two URLs the client needs: API base (no trailing slash) and OAuth token URL."""

    api_base_url: str
    token_url: str

    @property
    def api_host(self) -> str:
        return urlsplit(self.api_base_url).netloc


def login_host_for(api_host: str) -> str:
    if not api_host.startswith("api."):
        raise ConfigurationError(
            f"API host {api_host!r} does not start with 'api.'; cannot derive login host"
        )
    return "login." + api_host[len("api.") :]


def endpoints_for_region(region: str) -> Endpoints:
    key = region.strip().lower().replace("-", "_")
    api_host = API_HOST_BY_REGION.get(key)
    if api_host is None:
        valid = ", ".join(sorted(API_HOST_BY_REGION))
        raise ConfigurationError(f"unknown Genesys Cloud region {region!r}; valid regions: {valid}")
    return Endpoints(
        api_base_url=f"https://{api_host}",
        token_url=f"https://{login_host_for(api_host)}/oauth/token",
    )


def _checked_url(url: str, what: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise ConfigurationError(
            f"{what} {url!r} must start with http:// or https:// "
            "(e.g. http://127.0.0.1:8123 for the local simulator)"
        )
    if not parts.hostname:
        raise ConfigurationError(f"{what} {url!r} has no host")
    if parts.query or parts.fragment:
        raise ConfigurationError(f"{what} {url!r} must not carry a query or fragment")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
        raise ConfigurationError(
            f"{what} {url!r} uses plain http to a non-local host; the token would travel unencrypted "
            "(use https://)"
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def endpoints_for_base_url(base_url: str, *, token_url: str | None = None) -> Endpoints:
    root = _checked_url(base_url, "Genesys base URL")
    if token_url:
        return Endpoints(api_base_url=root, token_url=_checked_url(token_url, "Genesys token URL"))
    parts = urlsplit(root)
    host = parts.hostname or ""
    if host in _LOOPBACK_HOSTS:
        return Endpoints(api_base_url=root, token_url=f"{root}/oauth/token")
    if host.startswith("api."):
        login = login_host_for(host)
        port = f":{parts.port}" if parts.port else ""
        return Endpoints(api_base_url=root, token_url=f"{parts.scheme}://{login}{port}/oauth/token")
    raise ConfigurationError(
        f"Genesys base URL {base_url!r}: cannot derive the OAuth token endpoint (the host does not start "
        "with 'api.'); set GENESYS_TOKEN_URL to the login host's /oauth/token, or use GENESYS_REGION"
    )


def resolve_endpoints(*, region: str | None, base_url: str | None, token_url: str | None = None) -> Endpoints:
    """An explicit base URL wins over the region; one of the two is required. An explicit
    token URL wins over the derived one."""
    if base_url:
        return endpoints_for_base_url(base_url, token_url=token_url)
    if region:
        endpoints = endpoints_for_region(region)
        if token_url:
            return Endpoints(endpoints.api_base_url, _checked_url(token_url, "Genesys token URL"))
        return endpoints
    raise ConfigurationError(
        "no Genesys Cloud location configured: set GENESYS_REGION (e.g. eu_west_1) or GENESYS_BASE_URL"
    )
