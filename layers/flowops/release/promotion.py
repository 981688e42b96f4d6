"""Promotion: the SAME bundle released to the next environment of the chain.

The chain and the environments that need an approval come from cdk.json
(`flowops:promotion: {chain: [dev, test, prod], approval: [prod]}`), the file the stacks are
built from. A release may be promoted to environment N only if it SUCCEEDED (released, or had
nothing to release) in environment N-1; the bundle is copied byte for byte (its sha256 is its
key), so what reaches prod is exactly what was tested, with prod's own substitutions.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flowops.release.errors import BundleError, PromotionRefusedError

PROMOTION_CONTEXT_KEY = "flowops:promotion"
PROMOTABLE_OUTCOMES = frozenset({"RELEASED", "NOTHING_TO_RELEASE"})


class PromotionChain(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    chain: list[str] = Field(default_factory=lambda: ["dev", "test", "prod"], min_length=1)
    approval: list[str] = Field(default_factory=list)
    """Environments whose releases wait for `flowops approve` before the first wave."""

    def previous(self, environment: str) -> str | None:
        if environment not in self.chain:
            raise PromotionRefusedError(
                f"environment {environment!r} is not in the promotion chain {' → '.join(self.chain)} "
                f"(cdk.json {PROMOTION_CONTEXT_KEY})"
            )
        index = self.chain.index(environment)
        return self.chain[index - 1] if index > 0 else None

    def needs_approval(self, environment: str) -> bool:
        return environment in self.approval


def chain_from_context(context: dict[str, Any]) -> PromotionChain:
    raw = context.get(PROMOTION_CONTEXT_KEY, {})
    try:
        return PromotionChain.model_validate(raw)
    except ValidationError as error:
        raise BundleError(
            f"cdk.json {PROMOTION_CONTEXT_KEY} is not valid: {error.errors()[0]['msg']}"
        ) from None


def check_promotion(release: str, record: dict[str, Any], to_environment: str, chain: PromotionChain) -> str:
    """The environment the release comes from; `PromotionRefusedError` unless it may be promoted."""
    previous = chain.previous(to_environment)
    if previous is None:
        raise PromotionRefusedError(
            f"{to_environment!r} is the first environment of the chain: release to it, do not promote"
        )
    if not record or record.get("kind") != "release":
        raise PromotionRefusedError(f"no release {release!r} in {previous!r}")
    details = record.get("details", {})
    source = details.get("environment")
    if source != previous:
        raise PromotionRefusedError(
            f"release {release} went to {source!r}; only a release that succeeded in {previous!r} "
            f"(the environment before {to_environment!r}) may be promoted to it"
        )
    if record.get("status") != "SUCCEEDED" or details.get("outcome") not in PROMOTABLE_OUTCOMES:
        raise PromotionRefusedError(
            f"release {release} did not succeed in {previous!r} (it is {record.get('status')}"
            f"{' / ' + str(details.get('outcome')) if details.get('outcome') else ''}): "
            "fix it and release again"
        )
    return str(previous)
