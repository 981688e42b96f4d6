"""Replay protection: timestamp tolerance, delivery ids, execution names, the delivery ledger.

Three layers stop a delivery from starting two publishes:

1. the bound signature covers the timestamp and the delivery id, and the timestamp must be
   within a tolerance of now: a captured request is useless after the tolerance window and
   cannot be re-labelled with a fresh delivery id;
2. the delivery ledger claims each delivery id once (DynamoDB conditional put
   `attribute_not_exists`), with a TTL longer than the tolerance window;
3. the Step Functions execution name is derived from the delivery id, and names are unique per
   state machine for 90 days, so even two racing starts cannot create two executions.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from flowops.webhook.errors import InvalidRequestError, StaleRequestError

# Printable ASCII without spaces; GitHub sends GUIDs, the flowops CLI sends uuid4 strings.
_DELIVERY_ID_PATTERN = re.compile(r"[!-~]{1,128}")
# Unix seconds: 1 to 12 ASCII digits (an explicit class, so no other script's digits match).
_TIMESTAMP_PATTERN = re.compile(r"[0-9]{1,12}")
# Step Functions execution names: 1..80 chars, no whitespace, brackets, wildcards, or
# `" # % \ ^ | ~ ` $ & , ; : /` and no control characters. We keep a conservative subset.
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_EXECUTION_NAME_PREFIX = "publish-"
_NAME_SLUG_LENGTH = 40
_NAME_HASH_LENGTH = 16


def validate_delivery_id(delivery_id: str | None) -> str:
    """Return the delivery id or raise `InvalidRequestError` (400) when missing or malformed."""
    if delivery_id is None or not delivery_id.strip():
        raise InvalidRequestError("missing delivery id header (X-Flowops-Delivery or X-GitHub-Delivery)")
    candidate = delivery_id.strip()
    if _DELIVERY_ID_PATTERN.fullmatch(candidate) is None:
        raise InvalidRequestError(
            "malformed delivery id: 1-128 printable ASCII characters without spaces", ("delivery_id",)
        )
    return candidate


def parse_timestamp(header_value: str | None) -> int:
    """The request's unix timestamp, or `StaleRequestError` (401) when missing or malformed.

    Only ASCII digits count: `str.isdigit()` is also true for `²` or Arabic-Indic digits, which `int()` then
    refuses or reads as another number, and a lone surrogate cannot even be encoded to sign.
    """
    if header_value is None or not header_value.strip():
        raise StaleRequestError("missing X-Flowops-Timestamp header")
    text = header_value.strip()
    if _TIMESTAMP_PATTERN.fullmatch(text) is None:
        raise StaleRequestError("malformed X-Flowops-Timestamp header: expected unix seconds")
    return int(text)


def check_timestamp(header_value: str | None, *, now: float, tolerance_seconds: int) -> int:
    """Return the request's unix timestamp, or raise `StaleRequestError` (401).

    Future timestamps are refused with the same tolerance: a sender whose clock runs ahead
    would otherwise mint requests that stay replayable for longer than the window.
    """
    timestamp = parse_timestamp(header_value)
    skew = now - timestamp
    if abs(skew) > tolerance_seconds:
        direction = "old" if skew > 0 else "in the future"
        raise StaleRequestError(
            f"X-Flowops-Timestamp is {abs(int(skew))} s {direction}; the tolerance is {tolerance_seconds} s"
        )
    return timestamp


def execution_name_for(delivery_id: str, generation: int = 1) -> str:
    """A Step Functions execution name derived from the delivery id, stable and collision-safe.

    The readable slug helps operators find the run in the console; the hash of the full id
    keeps two ids that differ only in dropped characters (or beyond the slug) apart.
    `generation` counts uses of the id after earlier claims expired (see `DeliveryRecord`):
    the first use keeps the plain name, later ones get `-g<n>` and a hash that includes `n`.
    """
    slug = _NAME_UNSAFE.sub("_", delivery_id)[:_NAME_SLUG_LENGTH]
    if generation <= 1:
        digest = hashlib.sha256(delivery_id.encode("utf-8")).hexdigest()[:_NAME_HASH_LENGTH]
        return f"{_EXECUTION_NAME_PREFIX}{slug}-{digest}"
    digest = hashlib.sha256(f"{delivery_id}\x00{generation}".encode()).hexdigest()[:_NAME_HASH_LENGTH]
    return f"{_EXECUTION_NAME_PREFIX}{slug}-g{generation}-{digest}"


def body_digest(body: bytes) -> str:
    """sha256 hex of the raw body: a replay must carry the same body as the original."""
    return hashlib.sha256(body).hexdigest()


class DeliveryStatus(StrEnum):
    CLAIMED = "CLAIMED"  # a handler owns the delivery and is starting its execution
    STARTED = "STARTED"  # the execution exists


class DeliveryRecord(BaseModel):
    """What the ledger keeps per delivery id."""

    model_config = ConfigDict(frozen=True)

    delivery_id: str
    body_sha256: str
    execution_name: str
    execution_arn: str
    status: DeliveryStatus
    claimed_at: float
    expires_at: int  # epoch seconds; DynamoDB TTL removes the record afterwards
    claim_token: str = ""
    """Random per request: tells a request its own claim (written, though an ambiguous conditional
    write answered otherwise) from another request's. Empty for items written before it existed."""
    generation: int = 1
    """Which use of the delivery id this is. A claim ends at `expires_at`; a later delivery with
    the same id (GitHub's redeliver, a CI job with a fixed id) is a new request and gets a new
    generation, hence a new execution name (names stay taken for 90 days)."""


class DeliveryLedger(Protocol):
    """Claims delivery ids once. Implementations must be atomic across concurrent callers."""

    def claim(self, record: DeliveryRecord) -> DeliveryRecord | None:
        """Store `record` if its delivery id is new and return None; else return the existing record."""
        ...

    def take_over(self, stale: DeliveryRecord, *, now: float) -> bool:
        """Re-claim a CLAIMED record nobody finished (its owner crashed). True if this caller won."""
        ...

    def replace(self, current: DeliveryRecord, successor: DeliveryRecord) -> bool:
        """Store `successor` if the stored record is still `current` (same name and claim time).

        Used to renew an expired claim that DynamoDB has not deleted yet, and to move a claim to
        the next generation; True if this caller won.
        """
        ...

    def mark_started(self, delivery_id: str, execution_arn: str) -> None:
        """Record that the execution exists."""
        ...

    def release(self, delivery_id: str, *, claimed_at: float) -> None:
        """Drop our claim after a failed start so the sender's retry can proceed."""
        ...
