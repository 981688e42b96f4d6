"""Where the Genesys Cloud API and its OAuth endpoint live.

A region key (e.g. `eu_west_1`) selects the public API host; the login host is the API host
with `api.` replaced by `login.`. An explicit base URL (the local simulator, e.g.
`http://127.0.0.1:8123`) overrides the region, and its token endpoint is then
`<base>/oauth/token` on the same server.
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
}


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


def endpoints_for_base_url(base_url: str) -> Endpoints:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https"):
        raise ConfigurationError(
            f"Genesys base URL {base_url!r} must start with http:// or https:// "
            "(e.g. http://127.0.0.1:8123 for the local simulator)"
        )
    if not parts.hostname:
        raise ConfigurationError(f"Genesys base URL {base_url!r} has no host")
    if parts.query or parts.fragment:
        raise ConfigurationError(f"Genesys base URL {base_url!r} must not carry a query or fragment")
    root = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    return Endpoints(api_base_url=root, token_url=f"{root}/oauth/token")


def resolve_endpoints(*, region: str | None, base_url: str | None) -> Endpoints:
    """An explicit base URL wins over the region; one of the two is required."""
    if base_url:
        return endpoints_for_base_url(base_url)
    if region:
        return endpoints_for_region(region)
    raise ConfigurationError(
        "no Genesys Cloud location configured: set GENESYS_REGION (e.g. eu_west_1) or GENESYS_BASE_URL"
    )
