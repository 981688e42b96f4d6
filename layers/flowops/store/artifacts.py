"""The artifacts bucket: immutable, checksummed objects and large Step Functions payloads.

Integrity is checked on both sides of S3:
- writes send the SHA-256 of the body (`ChecksumSHA256`), so S3 rejects a body corrupted in
  transit, and keep the hex digest in object metadata;
- reads recompute the digest and compare it with every expectation available: the caller's
  `expected_sha256`, the digest in a content-addressed key (`.../<sha256>.json`), the metadata,
  and the checksum S3 itself reports. Any disagreement is a `ChecksumMismatchError`.

Immutable writes use `If-None-Match: *` so two writers can never replace each other's object;
writing identical bytes again is an idempotent no-op, which keeps Lambda retries safe.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError, FlexibleChecksumError
from pydantic import BaseModel, ConfigDict

from flowops.bounded import JSON_LIMITS, load_bounded_json
from flowops.store.errors import (
    ArtifactExistsError,
    ArtifactNotFoundError,
    ArtifactTooLargeError,
    ChecksumMismatchError,
    StoreError,
    error_code,
    mapped_errors,
    translate_client_error,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

JSON_CONTENT_TYPE = "application/json"
_SHA256_METADATA = "sha256"
_CONTENT_ADDRESS = re.compile(r"(?:^|/)(?P<sha>[0-9a-f]{64})\.[A-Za-z0-9]+$")
_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9._=-][A-Za-z0-9._=@+-]*$")
# No read holds more than this in memory unless the caller asks for a different bound: an
# object is refused from its Content-Length before its body is read (a 20,000-flow lock is
# about 20 MB; Lambda memory is 512 MB).
DEFAULT_MAX_READ_BYTES = 64 * 1024 * 1024


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def canonical_json_bytes(obj: Any) -> bytes:
    """Deterministic JSON (sorted keys, no whitespace) so equal objects get equal digests."""
    if isinstance(obj, BaseModel):
        obj = obj.model_dump(mode="json")
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _segment(value: str, what: str) -> str:
    # Keys are built from ids that come from Genesys or a request; refuse anything that could
    # escape its prefix ("../", "/") or produce an ambiguous key.
    if not value or not _SAFE_SEGMENT.match(value) or value in {".", ".."}:
        raise ValueError(f"{what} {value!r} is not a safe S3 key segment")
    return value


def lock_key(org: str, sha256: str) -> str:
    """`locks/<org>/<sha256>.json`: content-addressed, so the key itself proves the content."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError(f"lock sha {sha256!r} is not a lowercase hex sha256")
    return f"locks/{_segment(org, 'org')}/{sha256}.json"


def flow_yaml_key(org: str, flow_id: str, version: str) -> str:
    """`flows/<org>/<flowId>/<version>.yaml`: the exported YAML of a published version (rollback source)."""
    return f"flows/{_segment(org, 'org')}/{_segment(flow_id, 'flow id')}/{_segment(version, 'version')}.yaml"


def scan_artifact_key(org: str, scan_id: str, name: str) -> str:
    """`scans/<org>/<scanId>/<name>`: per-scan artifacts (page results, graph exports, reports);
    `name` may be a path of safe segments (`pages/00001.json`)."""
    path = "/".join(_segment(part, "artifact name") for part in name.split("/"))
    return f"scans/{_segment(org, 'org')}/{_segment(scan_id, 'scan id')}/{path}"


def content_address_of(key: str) -> str | None:
    """The sha256 a content-addressed key promises (`.../<sha256>.<ext>`), else None."""
    match = _CONTENT_ADDRESS.search(key)
    return match.group("sha") if match else None


class PutResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    sha256: str
    version_id: str | None = None
    created: bool
    """False when an identical object was already there (idempotent re-put)."""


class ArtifactStore:
    """Objects in the artifacts bucket. The only code in flowops that talks to S3."""

    def __init__(
        self, bucket: str, s3_client: S3Client | None = None, *, max_read_bytes: int = DEFAULT_MAX_READ_BYTES
    ) -> None:
        if not bucket:
            raise ValueError("artifacts bucket name is empty (is ARTIFACTS_BUCKET set?)")
        self.bucket = bucket
        self.max_read_bytes = max_read_bytes
        self._s3: S3Client = s3_client if s3_client is not None else boto3.client("s3")

    def __repr__(self) -> str:
        return f"ArtifactStore(bucket={self.bucket!r})"

    # -- writes ------------------------------------------------------------------------------

    def put_immutable(self, key: str, body: bytes, content_type: str = JSON_CONTENT_TYPE) -> PutResult:
        """Write `body` under `key` once. Same bytes again → no-op; different bytes → ArtifactExistsError."""
        digest = sha256_hex(body)
        promised = content_address_of(key)
        if promised is not None and promised != digest:
            raise ChecksumMismatchError(self.bucket, key, expected=promised, actual=digest)
        with mapped_errors(f"writing s3://{self.bucket}/{key}"):
            try:
                response = self._s3.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=body,
                    ContentType=content_type,
                    ChecksumAlgorithm="SHA256",
                    ChecksumSHA256=_hex_to_b64(digest),
                    Metadata={_SHA256_METADATA: digest},
                    IfNoneMatch="*",
                )
            except ClientError as error:
                # 412: the key exists. 409: a concurrent conditional write is in flight. In both cases
                # the outcome is decided by what is stored now.
                if error_code(error) in {"PreconditionFailed", "ConditionalRequestConflict"}:
                    return self._existing_identical(key, digest)
                raise translate_client_error(error, f"writing s3://{self.bucket}/{key}") from error
            except FlexibleChecksumError as error:
                raise StoreError(f"writing s3://{self.bucket}/{key}: checksum rejected ({error})") from error
        return PutResult(key=key, sha256=digest, version_id=response.get("VersionId"), created=True)

    def put_bytes(
        self,
        key: str,
        body: bytes,
        content_type: str = JSON_CONTENT_TYPE,
        *,
        content_encoding: str | None = None,
    ) -> PutResult:
        """Write (or replace, as a new S3 version) a mutable object, e.g. a "latest" report.

        `content_encoding` (e.g. "gzip") is served back as Content-Encoding, so a browser
        inflates the body itself; the checksums cover the stored bytes."""
        digest = sha256_hex(body)
        encoding: dict[str, Any] = {"ContentEncoding": content_encoding} if content_encoding else {}
        with mapped_errors(f"writing s3://{self.bucket}/{key}"):
            response = self._s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=_hex_to_b64(digest),
                Metadata={_SHA256_METADATA: digest},
                **encoding,
            )
        return PutResult(key=key, sha256=digest, version_id=response.get("VersionId"), created=True)

    def put_json(self, key: str, obj: Any, *, immutable: bool = False) -> PutResult:
        body = canonical_json_bytes(obj)
        if immutable:
            return self.put_immutable(key, body, JSON_CONTENT_TYPE)
        return self.put_bytes(key, body, JSON_CONTENT_TYPE)

    def put_large_payload(self, prefix: str, obj: Any) -> str:
        """Store a Step Functions payload that may exceed the 256 KB state limit; returns its key.

        The key is content-addressed (`<prefix>/<sha256>.json`), so a retried step re-puts the
        same key and the reader verifies the content against the key.
        """
        body = canonical_json_bytes(obj)
        key = f"{prefix.strip('/')}/{sha256_hex(body)}.json"
        self.put_immutable(key, body, JSON_CONTENT_TYPE)
        return key

    # -- reads -------------------------------------------------------------------------------

    def get_bytes(
        self, key: str, expected_sha256: str | None = None, *, max_bytes: int | None = None
    ) -> bytes:
        """Read an object and verify its SHA-256 against every expectation available.

        An object over `max_bytes` (default: the store's `max_read_bytes`) raises
        `ArtifactTooLargeError` without its body being read into memory.
        """
        with mapped_errors(f"reading s3://{self.bucket}/{key}"):
            try:
                response = self._s3.get_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
                body = self._read_capped(
                    response, key, self.max_read_bytes if max_bytes is None else max_bytes
                )
            except ClientError as error:
                if error_code(error) in {"NoSuchKey", "404", "NotFound"}:
                    raise ArtifactNotFoundError(self.bucket, key) from error
                raise translate_client_error(error, f"reading s3://{self.bucket}/{key}") from error
            except FlexibleChecksumError as error:
                # botocore validated the S3-reported checksum against the bytes and they disagree.
                raise ChecksumMismatchError(
                    self.bucket, key, expected="<S3 checksum>", actual="<body>"
                ) from error
        actual = sha256_hex(body)
        expectations = {
            "caller": expected_sha256,
            "key": content_address_of(key),
            "metadata": response.get("Metadata", {}).get(_SHA256_METADATA),
            "s3": _b64_to_hex(response.get("ChecksumSHA256")),
        }
        for expected in expectations.values():
            if expected is not None and expected != actual:
                raise ChecksumMismatchError(self.bucket, key, expected=expected, actual=actual)
        return body

    def get_json(self, key: str, expected_sha256: str | None = None, *, max_bytes: int | None = None) -> Any:
        body = self.get_bytes(key, expected_sha256, max_bytes=max_bytes)
        try:
            return load_bounded_json(body, JSON_LIMITS, f"artifact s3://{self.bucket}/{key}")
        except ValueError as error:  # not JSON, or HostileInputError (too deep)
            raise StoreError(f"artifact s3://{self.bucket}/{key} is not readable JSON: {error}") from error

    def get_large_payload(self, key: str) -> Any:
        return self.get_json(key)

    def exists(self, key: str) -> bool:
        with mapped_errors(f"checking s3://{self.bucket}/{key}"):
            try:
                self._s3.head_object(Bucket=self.bucket, Key=key)
            except ClientError as error:
                if error_code(error) in {"NoSuchKey", "404", "NotFound"}:
                    return False
                raise translate_client_error(error, f"checking s3://{self.bucket}/{key}") from error
        return True

    def list_keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        with mapped_errors(f"listing s3://{self.bucket}/{prefix}"):
            paginator = self._s3.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                keys.extend(item["Key"] for item in page.get("Contents", []) if "Key" in item)
        return keys

    # -- internals ---------------------------------------------------------------------------

    def _read_capped(self, response: Any, key: str, limit: int) -> bytes:
        stream = response["Body"]
        declared = response.get("ContentLength")
        if isinstance(declared, int) and declared > limit:
            stream.close()
            raise ArtifactTooLargeError(self.bucket, key, declared, limit)
        body: bytes = stream.read(limit + 1)
        # The second read reaches the end of the stream, where botocore checks the length and
        # the S3 checksum; a body longer than its declared length is refused all the same.
        if len(body) > limit or stream.read(1):
            stream.close()
            raise ArtifactTooLargeError(self.bucket, key, None, limit)
        return body

    def _existing_identical(self, key: str, digest: str) -> PutResult:
        with mapped_errors(f"checking s3://{self.bucket}/{key}"):
            try:
                head = self._s3.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
            except ClientError as error:
                raise translate_client_error(error, f"checking s3://{self.bucket}/{key}") from error
        stored = head.get("Metadata", {}).get(_SHA256_METADATA) or _b64_to_hex(head.get("ChecksumSHA256"))
        if stored is None:
            # No recorded digest (written outside flowops): compare the bytes themselves.
            stored = sha256_hex(self.get_bytes(key))
        if stored != digest:
            raise ArtifactExistsError(self.bucket, key)
        return PutResult(key=key, sha256=digest, version_id=head.get("VersionId"), created=False)


def _hex_to_b64(digest: str) -> str:
    return base64.b64encode(bytes.fromhex(digest)).decode("ascii")


def _b64_to_hex(value: str | None) -> str | None:
    # Multipart uploads report a composite checksum ("<b64>-<parts>") that is not the object's digest.
    if not value or "-" in value:
        return None
    try:
        return base64.b64decode(value, validate=True).hex()
    except (binascii.Error, ValueError):
        return None
