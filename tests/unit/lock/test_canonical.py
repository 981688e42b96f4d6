"""Canonical JSON, sha256 and the stored document."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowops.lock import (
    LockedDependency,
    LockedFlow,
    LockedObject,
    Lockfile,
    LockFormatError,
    LockIntegrityError,
    LockMeta,
    canonical_bytes,
    lock_document_bytes,
    lock_sha256,
    parse_lock,
)
from tests.unit.lock.strategies import lockfiles


def _sample_lock(meta: LockMeta | None = None) -> Lockfile:
    return Lockfile(
        org="dev",
        flows=[
            LockedFlow(
                id="f1",
                name="Accueil \u2013 Café",
                type="INBOUNDCALL",
                published_version="3.0",
                consumes=[LockedDependency(id="m1", type="COMMONMODULEFLOW", name="Auth", version="2.0")],
            )
        ],
        objects=[LockedObject(id="m1", type="COMMONMODULEFLOW", name="Auth", version="2.0")],
        meta=meta,
    )


def test_canonical_bytes_are_compact_key_sorted_utf8() -> None:
    # Given a lock with a non-ASCII name
    data = canonical_bytes(_sample_lock())

    # Then the JSON has sorted keys, no whitespace between tokens, and UTF-8 text (no \u escapes)
    assert data.startswith(b'{"failed_objects":[],"flows":[{"consumes":[{"id":"m1"')
    assert b": " not in data and b", " not in data
    assert "Accueil \u2013 Café".encode() in data
    assert json.loads(data)["schema_version"] == 1
    assert lock_sha256(_sample_lock()) == hashlib.sha256(data).hexdigest()


def test_meta_is_not_part_of_the_hash() -> None:
    # Given the same org state scanned twice with different meta
    first = _sample_lock(
        LockMeta(scan_id="scan-1", api_calls=10, generated_at=datetime(2025, 1, 1, tzinfo=UTC))
    )
    second = _sample_lock(LockMeta(scan_id="scan-2", api_calls=99, index_status="OPERATIONAL"))

    # Then both hash the same, and meta is not in the canonical bytes
    assert lock_sha256(first) == lock_sha256(second) == lock_sha256(_sample_lock())
    assert b"scan-1" not in canonical_bytes(first)


def test_any_change_of_state_changes_the_hash() -> None:
    base = _sample_lock()
    republished = base.model_copy(
        update={"flows": [base.flows[0].model_copy(update={"published_version": "4.0"})]}
    )
    assert lock_sha256(republished) != lock_sha256(base)


@settings(max_examples=100, deadline=None)
@given(lock=lockfiles(), data=st.data())
def test_hash_is_independent_of_input_order(lock: Lockfile, data: st.DataObject) -> None:
    # Given the same lock content with every list shuffled
    body = lock.model_dump()
    body["flows"] = data.draw(st.permutations(body["flows"]))
    for flow in body["flows"]:
        flow["consumes"] = data.draw(st.permutations(flow["consumes"]))
    body["objects"] = data.draw(st.permutations(body["objects"]))
    body["failed_objects"] = data.draw(st.permutations(body["failed_objects"]))

    # When it is rebuilt
    shuffled = Lockfile.model_validate(body)

    # Then canonical bytes and hash are identical
    assert canonical_bytes(shuffled) == canonical_bytes(lock)
    assert lock_sha256(shuffled) == lock_sha256(lock)


@settings(max_examples=60, deadline=None)
@given(lock=lockfiles())
def test_stored_document_round_trips(lock: Lockfile) -> None:
    # Given a lock with meta / When it is written and read back / Then it is the same lock
    with_meta = lock.model_copy(update={"meta": LockMeta(scan_id="s", api_calls=3)})
    parsed = parse_lock(lock_document_bytes(with_meta))
    assert parsed == with_meta
    assert lock_sha256(parsed) == lock_sha256(lock)


def test_document_envelope_carries_hash_body_and_meta() -> None:
    lock = _sample_lock(LockMeta(scan_id="scan-7"))
    document = json.loads(lock_document_bytes(lock))
    assert set(document) == {"format", "sha256", "body", "meta"}
    assert document["format"] == "flowops.lock"
    assert document["sha256"] == lock_sha256(lock)
    assert document["meta"]["scan_id"] == "scan-7"
    assert "meta" not in document["body"]


def test_tampered_body_is_detected() -> None:
    # Given a stored document whose body was edited after writing
    document = json.loads(lock_document_bytes(_sample_lock()))
    document["body"]["flows"][0]["published_version"] = "9.9"

    # When it is parsed / Then the integrity error names both hashes
    with pytest.raises(LockIntegrityError) as raised:
        parse_lock(json.dumps(document).encode())
    assert raised.value.recorded_sha256 == lock_sha256(_sample_lock())
    assert raised.value.computed_sha256 != raised.value.recorded_sha256


def test_meta_can_change_without_breaking_integrity() -> None:
    document = json.loads(lock_document_bytes(_sample_lock(LockMeta(api_calls=1))))
    document["meta"]["api_calls"] = 2
    assert parse_lock(json.dumps(document)).meta == LockMeta(api_calls=2)


def test_bare_canonical_body_is_verified_against_the_expected_hash() -> None:
    # Given the bare body as stored in S3 under its sha256
    body = canonical_bytes(_sample_lock())
    sha = lock_sha256(_sample_lock())

    # Then it reads back with or without an expected hash, and a wrong hash is refused
    assert parse_lock(body) == _sample_lock()
    assert parse_lock(body, expected_sha256=sha) == _sample_lock()
    tampered = body.replace(b'"published_version":"3.0"', b'"published_version":"3.1"')
    with pytest.raises(LockIntegrityError):
        parse_lock(tampered, expected_sha256=sha)


def test_envelope_without_sha_is_accepted() -> None:
    document = {"body": json.loads(canonical_bytes(_sample_lock())), "meta": None}
    assert parse_lock(json.dumps(document)) == _sample_lock()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe", "not valid UTF-8 JSON"),
        (b"{not json", "not valid UTF-8 JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"body": [], "sha256": null}', "body must be a JSON object"),
        (b'{"body": {}, "format": "other"}', "not a flowops lock document"),
        (b'{"body": {"org": "dev"}, "extra": 1}', "unexpected keys"),
        (b'{"org": "dev", "schema_version": 99}', "newer than this flowops reads"),
        (b'{"org": "dev", "flows": [{"id": "a"}]}', "does not match the lock schema"),
        (b'{"org": "dev", "meta": {}}', "must not contain 'meta'"),
    ],
)
def test_unreadable_documents_raise_a_clear_format_error(data: bytes, message: str) -> None:
    with pytest.raises(LockFormatError, match=message):
        parse_lock(data)


def test_who_and_when_are_written_only_when_known() -> None:
    # Given a lock without who/when and the same lock with them
    plain = _sample_lock()
    flow = plain.flows[0].model_copy(
        update={"published_by": "Ana (u-1)", "date_published": datetime(2026, 11, 30, 9, 15, tzinfo=UTC)}
    )
    stamped = plain.model_copy(update={"flows": [flow]})
    # Then the plain lock's body has no such keys (its hash is the one it had before they existed)
    assert b"published_by" not in canonical_bytes(plain) and b"date_published" not in canonical_bytes(plain)
    # And the stamped lock records them, changes its hash, and round-trips
    assert lock_sha256(stamped) != lock_sha256(plain)
    parsed = parse_lock(lock_document_bytes(stamped))
    assert parsed.flows[0].published_by == "Ana (u-1)"
    assert parsed.flows[0].date_published == datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
    assert lock_sha256(parsed) == lock_sha256(stamped)
