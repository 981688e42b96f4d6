"""HMAC-SHA256 request signatures in GitHub's `X-Hub-Signature-256: sha256=<hex>` format.

Two signatures exist:

* the body signature (`X-Hub-Signature-256`) covers the raw body only, exactly as GitHub
  computes it, so any GitHub-style sender or verifier interoperates;
* the bound signature (`X-Flowops-Signature-256`) covers `<timestamp>.<delivery id>.<body>`.
  GitHub signs neither its delivery id nor a timestamp, so with the body signature alone an
  attacker who captured one request could replay it under a fresh delivery id and timestamp.
  Binding both to the secret closes that hole for the flowops `/publish` route.

`sign` is also used to sign outbound webhooks (observability deliveries).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from pydantic import SecretStr

from flowops.webhook.errors import SignatureError

SIGNATURE_HEADER = "X-Hub-Signature-256"
BOUND_SIGNATURE_HEADER = "X-Flowops-Signature-256"
TIMESTAMP_HEADER = "X-Flowops-Timestamp"
FLOWOPS_DELIVERY_HEADER = "X-Flowops-Delivery"
GITHUB_DELIVERY_HEADER = "X-GitHub-Delivery"

_SCHEME = "sha256="
# 64 lower- or upper-case hex digits; anything else is malformed before any HMAC is computed.
_SIGNATURE_PATTERN = re.compile(r"sha256=[0-9a-fA-F]{64}")


def _secret_bytes(secret: SecretStr | str | bytes) -> bytes:
    if isinstance(secret, SecretStr):
        return secret.get_secret_value().encode("utf-8")
    if isinstance(secret, str):
        return secret.encode("utf-8")
    return secret


def sign(body: bytes, secret: SecretStr | str | bytes) -> str:
    """The `X-Hub-Signature-256` header value for `body`: `sha256=<hex>`."""
    digest = hmac.new(_secret_bytes(secret), body, hashlib.sha256).hexdigest()
    return f"{_SCHEME}{digest}"


def bound_message(body: bytes, *, timestamp: str, delivery_id: str) -> bytes:
    """What the bound signature covers: `<timestamp>.<delivery id>.<raw body>`."""
    return f"{timestamp}.{delivery_id}.".encode() + body


def sign_bound(body: bytes, secret: SecretStr | str | bytes, *, timestamp: str, delivery_id: str) -> str:
    """The `X-Flowops-Signature-256` header value: body signature bound to timestamp and delivery."""
    return sign(bound_message(body, timestamp=timestamp, delivery_id=delivery_id), secret)


def verify(body: bytes, header_value: str | None, secret: SecretStr | str | bytes, *, header: str) -> None:
    """Raise `SignatureError` unless `header_value` is a valid signature of `body`.

    The comparison is constant-time (`hmac.compare_digest`) so response timing does not leak
    how many leading characters of a forged signature were right.
    """
    if header_value is None or not header_value.strip():
        raise SignatureError(f"missing {header} header")
    candidate = header_value.strip()
    if _SIGNATURE_PATTERN.fullmatch(candidate) is None:
        raise SignatureError(f"malformed {header} header: expected 'sha256=' followed by 64 hex digits")
    expected = sign(body, secret)
    if not hmac.compare_digest(expected.encode("ascii"), candidate.lower().encode("ascii")):
        raise SignatureError(f"{header} does not match the request body")


def signed_headers(
    body: bytes, secret: SecretStr | str | bytes, *, delivery_id: str, timestamp: int
) -> dict[str, str]:
    """Every header a flowops sender adds to a `/publish` request (used by the CLI and tests)."""
    stamp = str(timestamp)
    return {
        SIGNATURE_HEADER: sign(body, secret),
        BOUND_SIGNATURE_HEADER: sign_bound(body, secret, timestamp=stamp, delivery_id=delivery_id),
        TIMESTAMP_HEADER: stamp,
        FLOWOPS_DELIVERY_HEADER: delivery_id,
        "Content-Type": "application/json",
    }
