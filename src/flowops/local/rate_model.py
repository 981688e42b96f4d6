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
from dataclasses import dataclass
from typing import Any

from flowops.local.simulator.state import RATE_LIMIT_SCOPES
from flowops.stacknames import (
    CONTEXT_ENVIRONMENTS,
    CONTEXT_GENESYS_RATE_LIMIT,
    DEFAULT_GENESYS_RATE_PER_MINUTE,
    DEFAULT_GENESYS_RATE_SCOPE,
    ENV_GENESYS_RATE_PER_MINUTE,
    ENV_GENESYS_RATE_SCOPE,
)


class RateModelError(ValueError):
    """cdk.json's `genesysRateLimit` of the environment cannot be enforced; the text says the fix."""


@dataclass(frozen=True)
class RateLimit:
    scope: str = DEFAULT_GENESYS_RATE_SCOPE
    requests_per_minute: int = DEFAULT_GENESYS_RATE_PER_MINUTE


def configured_rate_limit(context: Mapping[str, Any], environment: str) -> RateLimit:
    """`genesysRateLimit` of `environment` in cdk.json's `context`; Genesys's documented per-token
    default when the environment (or its entry) has none."""
    environments = context.get(CONTEXT_ENVIRONMENTS) or {}
    entry = (environments.get(environment) or {}).get(CONTEXT_GENESYS_RATE_LIMIT) or {}
    where = f"cdk.json {CONTEXT_GENESYS_RATE_LIMIT} of environment {environment!r}"
    if not isinstance(entry, Mapping):
        raise RateModelError(
            f'{where} must be an object like {{"scope": "client", "requestsPerMinute": 300}}'
        )
    scope = entry.get("scope", DEFAULT_GENESYS_RATE_SCOPE)
    per_minute = entry.get("requestsPerMinute", DEFAULT_GENESYS_RATE_PER_MINUTE)
    if scope not in RATE_LIMIT_SCOPES:
        raise RateModelError(f"{where}: scope {scope!r} is not one of {', '.join(RATE_LIMIT_SCOPES)}")
    if isinstance(per_minute, bool) or not isinstance(per_minute, int) or per_minute < 1:
        raise RateModelError(
            f"{where}: requestsPerMinute {per_minute!r} must be a whole number of at least 1"
        )
    return RateLimit(scope, per_minute)


def with_rate_limit(template: Mapping[str, Any], limit: RateLimit) -> dict[str, Any]:
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
