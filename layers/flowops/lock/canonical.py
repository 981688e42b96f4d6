"""Canonical JSON of a lock, its sha256, and the stored document.

Canonical body
    ``Lockfile`` without ``meta``, dumped to JSON with keys sorted at every level, lists in
    the canonical order the models enforce (flows by id; consumes and objects by
    ``(type, id)``; failed objects by ``(id, version)``), ``null`` written out for absent
    optional values, separators ``","`` and ``":"`` with no whitespace, non-ASCII characters
    kept as UTF-8 (not ``\\u`` escapes), encoded as UTF-8. ``lock_sha256`` is the lowercase hex
    SHA-256 of these bytes, so the same org state hashes the same on every run and machine.

Stored document (what goes to ``locks/<org>/<sha256>.json``)
    ``{"format": "flowops.lock", "sha256": <hex>, "body": <canonical body>, "meta": <LockMeta or null>}``
    written with the same canonical JSON rules. ``meta`` (scan id, time, API calls, index
    status) sits beside the body so it never changes the hash. :func:`parse_lock` accepts this
    envelope — verifying ``sha256`` against the re-canonicalised body when present and raising
    :class:`LockIntegrityError` on a mismatch — or a bare canonical body.

What S3 holds (lead decision, docs/decisions.md)
    The artifact ``locks/<org>/<sha256>.json`` is the bare canonical body, so its key, the
    SHA-256 of its bytes and S3's checksum are one number; meta lives in a sidecar. A bare body
    carries no hash of its own, so readers pass the hash they expect (from the key or the lock
    pointer) as ``parse_lock(data, expected_sha256=...)``. The envelope is for moving a lock
    together with its meta in one document (local files, reports).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final

from pydantic import ValidationError

from flowops.bounded import LOCK_JSON_LIMITS, HostileInputError, load_bounded_json
from flowops.lock.models import LOCK_SCHEMA_VERSION, Lockfile, LockMeta

LOCK_DOCUMENT_FORMAT: Final = "flowops.lock"


class LockFormatError(ValueError):
    """The bytes are not a lock document this code can read."""


class LockIntegrityError(LockFormatError):
    """The document's recorded sha256 does not match its body: it was altered or corrupted."""

    def __init__(self, recorded_sha256: str, computed_sha256: str) -> None:
        super().__init__(
            f"lock body hashes to {computed_sha256} but the document records {recorded_sha256}: "
            "the lock was modified or corrupted after it was written"
        )
        self.recorded_sha256 = recorded_sha256
        self.computed_sha256 = computed_sha256


def _canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


OPTIONAL_FLOW_FIELDS = ("unread", "published_by", "date_published")
OPTIONAL_OBJECT_FIELDS = ("not_visible",)


def canonical_body(lock: Lockfile) -> dict[str, Any]:
    """The JSON-ready body the checksum covers (everything but ``meta``).

    A flow's ``unread``, ``published_by`` and ``date_published`` are written only when set: locks
    written before those fields existed keep their bytes and hashes, so a stored lock still
    verifies against its key. So is an object's ``not_visible``.
    """
    body = lock.model_dump(mode="json", exclude={"meta"})
    for flow in body["flows"]:
        for optional in OPTIONAL_FLOW_FIELDS:
            if flow.get(optional) is None:
                flow.pop(optional, None)
    for item in body["objects"]:
        for optional in OPTIONAL_OBJECT_FIELDS:
            if item.get(optional) is None:
                item.pop(optional, None)
    return body


def canonical_bytes(lock: Lockfile) -> bytes:
    """Canonical JSON bytes of the lock body (see the module docstring for the rules)."""
    return _canonical_json(canonical_body(lock))


def lock_sha256(lock: Lockfile) -> str:
    """Lowercase hex SHA-256 of :func:`canonical_bytes`; independent of ``meta``."""
    return hashlib.sha256(canonical_bytes(lock)).hexdigest()


def lock_document_bytes(lock: Lockfile) -> bytes:
    """The stored document: body, its sha256 and the meta, as canonical JSON."""
    body = canonical_body(lock)
    document = {
        "format": LOCK_DOCUMENT_FORMAT,
        "sha256": hashlib.sha256(_canonical_json(body)).hexdigest(),
        "body": body,
        "meta": None if lock.meta is None else lock.meta.model_dump(mode="json"),
    }
    return _canonical_json(document)


def parse_lock(data: bytes | str, *, expected_sha256: str | None = None) -> Lockfile:
    """Read a stored lock document (or a bare body), verifying its sha256.

    The hash is checked against the envelope's ``sha256`` when present, and against
    ``expected_sha256`` when given (e.g. the sha in the artifact key). Raises
    :class:`LockIntegrityError` when the body does not hash to either, and
    :class:`LockFormatError` for anything else that is not a readable lock.
    """
    try:
        document = load_bounded_json(data, LOCK_JSON_LIMITS, "the lock document")
    except HostileInputError as error:
        raise LockFormatError(f"lock document refused: {error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise LockFormatError(f"lock document is not valid UTF-8 JSON: {error}") from error
    if not isinstance(document, dict):
        raise LockFormatError(f"lock document must be a JSON object, got {type(document).__name__}")

    if "body" in document:
        unexpected = sorted(set(document) - {"format", "sha256", "body", "meta"})
        if unexpected:
            raise LockFormatError(f"lock document has unexpected keys {unexpected}")
        document_format = document.get("format", LOCK_DOCUMENT_FORMAT)
        if document_format != LOCK_DOCUMENT_FORMAT:
            raise LockFormatError(f"not a flowops lock document (format {document_format!r})")
        body, raw_meta, recorded_sha256 = document["body"], document.get("meta"), document.get("sha256")
    else:
        body, raw_meta, recorded_sha256 = document, None, None

    if not isinstance(body, dict):
        raise LockFormatError("lock body must be a JSON object")
    schema_version = body.get("schema_version", LOCK_SCHEMA_VERSION)
    if isinstance(schema_version, int) and schema_version > LOCK_SCHEMA_VERSION:
        raise LockFormatError(
            f"lock schema version {schema_version} is newer than this flowops reads ({LOCK_SCHEMA_VERSION}); "
            "upgrade flowops"
        )
    if "meta" in body:
        raise LockFormatError("lock body must not contain 'meta' (it lives beside the body in the document)")

    try:
        lock = Lockfile.model_validate(body)
        meta = None if raw_meta is None else LockMeta.model_validate(raw_meta)
    except ValidationError as error:
        raise LockFormatError(f"lock document does not match the lock schema: {error}") from error

    for claimed_sha256 in (recorded_sha256, expected_sha256):
        if claimed_sha256 is not None:
            computed_sha256 = lock_sha256(lock)
            if claimed_sha256 != computed_sha256:
                raise LockIntegrityError(str(claimed_sha256), computed_sha256)
    return lock.model_copy(update={"meta": meta}) if meta is not None else lock
