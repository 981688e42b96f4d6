"""The local cloud reads cdk.json's `genesysRateLimit` with the stack's own model: what a deploy
refuses, `local up` refuses too, with the fix named."""

from __future__ import annotations

from typing import Any

import pytest

from flowops.config import GenesysRateLimit
from flowops.local.rate_model import RateModelError, configured_rate_limit
from flowops.stacknames import CONTEXT_ENVIRONMENTS, CONTEXT_GENESYS_RATE_LIMIT


def context_with(entry: Any) -> dict[str, Any]:
    return {CONTEXT_ENVIRONMENTS: {"test": {CONTEXT_GENESYS_RATE_LIMIT: entry}}}


def test_an_environment_without_an_entry_gets_the_documented_per_token_budget() -> None:
    assert configured_rate_limit({}, "dev") == GenesysRateLimit(scope="token", requests_per_minute=300)


def test_an_entry_is_read_as_the_stack_reads_it() -> None:
    limit = configured_rate_limit(context_with({"scope": "org", "requestsPerMinute": 180}), "test")
    assert (limit.scope, limit.requests_per_minute, limit.shared) == ("org", 180, True)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"scope": "tenant"}, "scope 'tenant' is not one of token, client, org"),
        ({"requestsPerMinute": 0}, "requestsPerMinute 0:"),
        ({"requestsPerMinute": 100_001}, "requestsPerMinute 100001:"),  # over the stack's bound too
        ({"scope": "client", "burst": 5}, "unknown key 'burst' (known: scope, requestsPerMinute)"),
        ("client", "must be an object like"),
    ],
)
def test_an_entry_the_stack_would_refuse_is_refused_with_its_fix(entry: Any, problem: str) -> None:
    with pytest.raises(RateModelError) as refused:
        configured_rate_limit(context_with(entry), "test")
    assert str(refused.value).startswith("cdk.json genesysRateLimit of environment 'test': ")
    assert problem in str(refused.value)
