"""The local org's Genesys rate model: the one cdk.json configures for the environment it serves.

A local cloud serves one environment of cdk.json (`local up --env E`, `dev` by default) from ONE
pre-synthesized template (dev's: `make templates`). So that the local org is as strict as the real
one, the environment's `genesysRateLimit` (docs/genesys-limits.md) is applied to both sides:

- the simulator counts every request in that scope's budget (token, OAuth client or org) at that
  rate per simulated minute, and answers the normalized 429 over it;
- every function of the template that calls Genesys (the ones told `GENESYS_RATE_SCOPE`, set by
  `infra/constructs/functions.py`) is told the same scope and rate, so with a shared scope they
  reserve their send slots from the org's one schedule item, as deployed functions do.

Only a function already told the model is retold: one without Genesys access stays without it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, get_args

from pydantic import ValidationError

from flowops.config import GenesysRateLimit, RateLimitScope
from flowops.stacknames import (
    CONTEXT_ENVIRONMENTS,
    CONTEXT_GENESYS_RATE_LIMIT,
    ENV_GENESYS_RATE_PER_MINUTE,
    ENV_GENESYS_RATE_SCOPE,
)


class RateModelError(ValueError):
    """cdk.json's `genesysRateLimit` of the environment cannot be enforced; the text says the fix."""


def configured_rate_limit(context: Mapping[str, Any], environment: str) -> GenesysRateLimit:
    """`genesysRateLimit` of `environment` in cdk.json's `context`, validated as the stack validates
    it; Genesys's documented per-token default when the environment (or its entry) has none."""
    environments = context.get(CONTEXT_ENVIRONMENTS) or {}
    entry = (environments.get(environment) or {}).get(CONTEXT_GENESYS_RATE_LIMIT) or {}
    try:
        return GenesysRateLimit.model_validate(entry)
    except ValidationError as error:
        where = f"cdk.json {CONTEXT_GENESYS_RATE_LIMIT} of environment {environment!r}"
        raise RateModelError(f"{where}: {_problem(error)}") from None


def _problem(error: ValidationError) -> str:
    """The first problem of the entry, in the words of cdk.json."""
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    if not field:
        return 'must be an object like {"scope": "client", "requestsPerMinute": 300}'
    if first["type"] == "extra_forbidden":
        return f"unknown key {field!r} (known: scope, requestsPerMinute)"
    if field == "scope":
        return f"scope {first['input']!r} is not one of {', '.join(get_args(RateLimitScope))}"
    return f"{field} {first['input']!r}: {first['msg']}"


def with_rate_limit(template: Mapping[str, Any], limit: GenesysRateLimit) -> dict[str, Any]:
    """A copy of `template` whose Genesys-calling functions are told `limit`."""
    told = copy.deepcopy(dict(template))
    for resource in told.get("Resources", {}).values():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        variables = resource.get("Properties", {}).get("Environment", {}).get("Variables", {})
        if ENV_GENESYS_RATE_SCOPE in variables:
            variables[ENV_GENESYS_RATE_SCOPE] = limit.scope
            variables[ENV_GENESYS_RATE_PER_MINUTE] = str(limit.requests_per_minute)
    return told
