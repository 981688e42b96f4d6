"""The `/release` body: a release request signed like a publish request.

Either a reference to a bundle already stored content-addressed (`bundle_sha256`, the key
`releases/<org>/bundles/<sha256>.json`: what `flowops release` uploads) or the release inline
(`flows`: path under flows/ → YAML text, `environments`: name → Archy options file text), which
the webhook stores as a bundle first. Strict like `/publish`: unknown fields and wrong types are
a 400 naming the field.
"""

from __future__ import annotations

from typing import Annotated, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flowops.release.bundle import bundle_from_files, bundle_key
from flowops.release.errors import BundleError
from flowops.release.models import ReleaseRequest
from flowops.webhook.errors import InvalidRequestError
from flowops.webhook.models import invalid_request

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class ReleaseWebhookRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    environment: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")
    requester: str = Field(min_length=1, max_length=200)
    reason: str = Field(default="", max_length=1000)
    bundle_sha256: Sha256 | None = None
    flows: dict[str, str] | None = Field(default=None, min_length=1)
    """Inline: path under flows/ (e.g. `inboundCall/main.yaml`) → the flow's YAML."""
    environments: dict[str, str] | None = None
    """Inline: environment name → its Archy options file text (`substitutions:`)."""
    source_revision: str | None = Field(default=None, min_length=1, max_length=200)
    """What the inline release was built from (e.g. `git:<commit>`); recorded with the release."""

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.bundle_sha256 is None) == (self.flows is None):
            raise ValueError("send exactly one of bundle_sha256 (a stored bundle) and flows (inline)")
        if self.bundle_sha256 is not None and (self.environments or self.source_revision):
            raise ValueError("environments and source_revision belong to an inline release (flows)")
        return self


def parse_release_request(body: bytes) -> ReleaseWebhookRequest:
    """Parse a `/release` body; `InvalidRequestError` naming the fields (never echoing values)."""
    try:
        return ReleaseWebhookRequest.model_validate_json(body, strict=True)
    except ValidationError as error:
        raise invalid_request(error, "release") from None


class BundleStore(Protocol):
    def exists(self, key: str) -> bool: ...

    def get_bytes(self, key: str, expected_sha256: str | None = None) -> bytes: ...

    def put_immutable(self, key: str, body: bytes, content_type: str = ...) -> object: ...


def release_execution_input(org: str, request: ReleaseWebhookRequest, bundles: BundleStore) -> ReleaseRequest:
    """The Release state machine's input; an inline release is stored as its bundle first."""
    if request.flows is not None:
        files = {f"flows/{path}": text.encode("utf-8") for path, text in request.flows.items()}
        files.update(
            {
                f"environments/{name}.yaml": text.encode("utf-8")
                for name, text in (request.environments or {}).items()
            }
        )
        try:
            bundle = bundle_from_files(files, source_revision=request.source_revision)
            bundle.substitutions(request.environment)
        except BundleError as error:
            raise InvalidRequestError(f"invalid release request: {error.message}", ("flows",)) from None
        sha = bundle.sha256
        bundles.put_immutable(bundle_key(org, sha), bundle.canonical_bytes(), "application/json")
    else:
        sha = str(request.bundle_sha256)
        if not bundles.exists(bundle_key(org, sha)):
            raise InvalidRequestError(
                f"invalid release request: no stored bundle {sha[:12]}…; upload it (flowops release does) "
                "or send the release inline",
                ("bundle_sha256",),
            )
    return ReleaseRequest(
        bundle_key=bundle_key(org, sha),
        bundle_sha256=sha,
        environment=request.environment,
        requester=request.requester,
        reason=request.reason,
    )
