from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from botocore.stub import Stubber

from flowops.store import (
    ArtifactExistsError,
    ArtifactNotFoundError,
    ArtifactStore,
    ArtifactTooLargeError,
    ChecksumMismatchError,
    StoreAccessDeniedError,
    StoreThrottledError,
    flow_yaml_key,
    lock_key,
    scan_artifact_key,
)
from tests.integration.store.conftest import BUCKET

LOCK_BODY = b'{"flows":[],"org":"dev","schema":1}'
LOCK_SHA = hashlib.sha256(LOCK_BODY).hexdigest()


def test_key_helpers_follow_the_documented_layout() -> None:
    assert lock_key("dev", LOCK_SHA) == f"locks/dev/{LOCK_SHA}.json"
    assert flow_yaml_key("dev", "f-1", "3.0") == "flows/dev/f-1/3.0.yaml"
    assert scan_artifact_key("dev", "scan-7", "graph.dot") == "scans/dev/scan-7/graph.dot"


@pytest.mark.parametrize("bad", ["", "..", "a/b", "../x"])
def test_key_helpers_refuse_segments_that_escape_their_prefix(bad: str) -> None:
    with pytest.raises(ValueError, match="safe S3 key segment"):
        flow_yaml_key("dev", bad, "1.0")


def test_immutable_put_stores_checksum_and_refuses_overwrite(s3_client: Any) -> None:
    # Given a lockfile written under its content address
    store = ArtifactStore(BUCKET, s3_client)
    key = lock_key("dev", LOCK_SHA)
    first = store.put_immutable(key, LOCK_BODY)
    assert first.created and first.sha256 == LOCK_SHA
    # When the same bytes are written again (a retried step) Then it is an idempotent no-op
    again = store.put_immutable(key, LOCK_BODY)
    assert not again.created
    # When different bytes are written to an immutable key Then the write is refused
    other_key = scan_artifact_key("dev", "scan-1", "report.json")
    store.put_immutable(other_key, b'{"a":1}')
    with pytest.raises(ArtifactExistsError, match="never overwritten"):
        store.put_immutable(other_key, b'{"a":2}')
    # Then the original content is intact and S3 holds exactly one version of it
    assert store.get_bytes(other_key) == b'{"a":1}'
    versions = s3_client.list_object_versions(Bucket=BUCKET, Prefix=other_key)["Versions"]
    assert len(versions) == 1


def test_content_addressed_key_must_match_the_body(s3_client: Any) -> None:
    store = ArtifactStore(BUCKET, s3_client)
    with pytest.raises(ChecksumMismatchError):
        store.put_immutable(lock_key("dev", "0" * 64), LOCK_BODY)
    assert not store.exists(lock_key("dev", "0" * 64))


def test_tampered_object_is_detected_on_read(s3_client: Any) -> None:
    # Given a lock written by flowops
    store = ArtifactStore(BUCKET, s3_client)
    key = lock_key("dev", LOCK_SHA)
    store.put_immutable(key, LOCK_BODY)
    # When someone overwrites it outside flowops
    s3_client.put_object(Bucket=BUCKET, Key=key, Body=b'{"flows":["evil"]}')
    # Then reading it fails the integrity check (the key promises the original sha)
    with pytest.raises(ChecksumMismatchError, match=LOCK_SHA):
        store.get_bytes(key)


def test_tampering_of_a_non_addressed_object_is_caught_by_expected_sha(s3_client: Any) -> None:
    store = ArtifactStore(BUCKET, s3_client)
    result = store.put_json("reports/dev/latest.json", {"flows": 3})
    s3_client.put_object(Bucket=BUCKET, Key="reports/dev/latest.json", Body=b'{"flows":4}')
    with pytest.raises(ChecksumMismatchError):
        store.get_bytes("reports/dev/latest.json", expected_sha256=result.sha256)


def test_checksum_is_verified_by_s3_and_metadata(s3_client: Any) -> None:
    store = ArtifactStore(BUCKET, s3_client)
    store.put_immutable(lock_key("dev", LOCK_SHA), LOCK_BODY)
    stored = s3_client.get_object(Bucket=BUCKET, Key=lock_key("dev", LOCK_SHA), ChecksumMode="ENABLED")
    assert stored["Metadata"]["sha256"] == LOCK_SHA
    assert base64.b64decode(stored["ChecksumSHA256"]).hex() == LOCK_SHA


def test_large_payload_round_trips_through_a_content_addressed_key(s3_client: Any) -> None:
    # Given a payload far over the 256 KB Step Functions state limit
    store = ArtifactStore(BUCKET, s3_client)
    payload = {"flows": [{"id": f"flow-{i}", "name": "x" * 40} for i in range(8000)]}
    assert len(json.dumps(payload)) > 256 * 1024
    # When it is stored Then only a short key travels, and it reads back equal
    key = store.put_large_payload("payloads/scan-1/", payload)
    assert key.startswith("payloads/scan-1/") and len(key) < 120
    assert store.get_large_payload(key) == payload
    assert store.put_large_payload("payloads/scan-1", payload) == key


def test_missing_object_and_exists(s3_client: Any) -> None:
    store = ArtifactStore(BUCKET, s3_client)
    assert not store.exists("nope.json")
    with pytest.raises(ArtifactNotFoundError, match="nope.json"):
        store.get_bytes("nope.json")


def test_throttling_and_access_denied_are_typed(s3_client: Any) -> None:
    # Given S3 answering SlowDown, then AccessDenied
    store = ArtifactStore(BUCKET, s3_client)
    with Stubber(s3_client) as stubber:
        stubber.add_client_error("put_object", service_error_code="SlowDown", http_status_code=503)
        stubber.add_client_error("get_object", service_error_code="AccessDenied", http_status_code=403)
        # Then each maps to an actionable, typed StoreError with an ASL error name
        with pytest.raises(StoreThrottledError, match="retry with backoff") as throttled:
            store.put_json("reports/x.json", {})
        assert throttled.value.asl_error_name == "Store.Throttled"
        with pytest.raises(StoreAccessDeniedError, match="IAM"):
            store.get_bytes("reports/x.json")


def test_an_object_over_the_read_limit_is_refused_from_its_length(s3_client: Any) -> None:
    # Given an uploaded 4 KiB object and a store that reads at most 1 KiB per object
    s3_client.put_object(Bucket=BUCKET, Key="uploads/big.yaml", Body=b"x" * 4096)
    store = ArtifactStore(BUCKET, s3_client, max_read_bytes=1024)
    # When it is read with the store's limit, or a caller's tighter one
    # Then the read is refused naming the size and the limit; a larger bound reads it
    with pytest.raises(ArtifactTooLargeError, match="is 4096 bytes; the limit for this read is 1024"):
        store.get_bytes("uploads/big.yaml")
    with pytest.raises(ArtifactTooLargeError, match="the limit for this read is 100"):
        ArtifactStore(BUCKET, s3_client).get_bytes("uploads/big.yaml", max_bytes=100)
    assert len(store.get_bytes("uploads/big.yaml", max_bytes=4096)) == 4096
    assert ArtifactTooLargeError.asl_error_name == "Store.ArtifactTooLarge"
