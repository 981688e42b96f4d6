"""The Genesys Cloud API client: the only code in flowops that speaks HTTP to Genesys.

from flowops.genesys import GenesysClient, ClientCredentials
client = GenesysClient(credentials, region="eu_west_1")        # or base_url="http://127.0.0.1:8123"
for flow in client.iter_flows(flow_types=["INBOUNDCALL"]):
    ...

`GenesysClient` is imported on first use (PEP 562): it imports requests, and a step that only
needs this package's errors (most handlers: they name ASL errors) should not pay for requests
at cold start.
"""

from typing import TYPE_CHECKING, Any

from flowops.genesys.credentials import ClientCredentials, load_credentials_from_secrets_manager
from flowops.genesys.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    FlowLockedError,
    ForbiddenError,
    GenesysError,
    GenesysUnavailableError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TokenExpiredError,
    WriteOutcomeUnknownError,
    as_step_functions_error,
)
from flowops.genesys.paging import iter_all, iter_pages
from flowops.genesys.ratelimit import RateLimiter
from flowops.genesys.retry import RetryPolicy

if TYPE_CHECKING:
    from flowops.genesys.client import GenesysClient


def __getattr__(name: str) -> Any:
    if name == "GenesysClient":
        from flowops.genesys.client import GenesysClient

        return GenesysClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ClientCredentials",
    "ConfigurationError",
    "ConflictError",
    "FlowLockedError",
    "ForbiddenError",
    "GenesysClient",
    "GenesysError",
    "GenesysUnavailableError",
    "NotFoundError",
    "RateLimitedError",
    "RateLimiter",
    "RetryPolicy",
    "ServerError",
    "TokenExpiredError",
    "WriteOutcomeUnknownError",
    "as_step_functions_error",
    "iter_all",
    "iter_pages",
    "load_credentials_from_secrets_manager",
]
