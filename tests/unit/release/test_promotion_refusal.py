"""The stack's own promotion check (PrepareRelease): a promotion must come from the environment
before the stack's in the chain; a stack serving any environment checks nothing."""

from __future__ import annotations

from flowops.release.models import ReleaseRequest
from flowops.release.steps import ReleasePorts, promotion_refusal


def request(promoted_from: str | None) -> ReleaseRequest:
    return ReleaseRequest(
        bundle_key="releases/dev/bundles/x.json",
        bundle_sha256="0" * 64,
        environment="prod",
        requester="ci",
        promoted_from=promoted_from,
    )


def ports(environment: str, promotes_from: str) -> ReleasePorts:
    return ReleasePorts(
        org="dev",
        environment=environment,
        promotes_from=promotes_from,
        genesys=None,  # type: ignore[arg-type]
        artifacts=None,  # type: ignore[arg-type]
        runs=None,  # type: ignore[arg-type]
        audit=None,  # type: ignore[arg-type]
        pointers=None,  # type: ignore[arg-type]
        leases=None,  # type: ignore[arg-type]
    )


def test_a_promotion_from_the_previous_environment_passes() -> None:
    assert promotion_refusal(request("test:rel-1"), ports("prod", "test")) is None


def test_a_promotion_skipping_an_environment_is_refused() -> None:
    refused = promotion_refusal(request("dev:rel-1"), ports("prod", "test"))
    assert refused is not None and "takes promotions from 'test' only, not from 'dev'" in refused


def test_the_first_environment_takes_no_promotion() -> None:
    refused = promotion_refusal(request("x:rel-1"), ports("dev", ""))
    assert refused is not None and "first in the promotion chain" in refused


def test_plain_releases_and_any_environment_stacks_are_not_promotion_checked() -> None:
    assert promotion_refusal(request(None), ports("prod", "test")) is None
    assert promotion_refusal(request("dev:rel-1"), ports("", "")) is None
