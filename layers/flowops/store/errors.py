"""Typed store errors and the ONE place where botocore errors become them.

Every error carries `asl_error_name`: when a Lambda handler lets one escape, the local runtime
and real Lambda report that name as the error type, so a state machine can `Retry` on
`Store.Throttled` and `Catch` `Store.LockRace` without parsing messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

_THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "SlowDown",
        "TooManyRequestsException",
        "RequestThrottled",
    }
)
# Server-side failures whose code AWS documents as "retry": S3 InternalError/ServiceUnavailable
# (500/503) and RequestTimeout (400: the connection idled mid-upload), DynamoDB InternalServerError.
_TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "InternalServerError",
        "ServiceUnavailable",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
_ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "KMS.AccessDeniedException"}
)
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_MISSING_CONTAINER_CODES = frozenset({"NoSuchBucket", "ResourceNotFoundException"})


class StoreError(Exception):
    """Base of every error raised by `flowops.store`."""

    asl_error_name = "Store.Error"
    retryable = False


class StoreThrottledError(StoreError):
    """AWS throttled the request; retrying later with backoff is the fix."""

    asl_error_name = "Store.Throttled"
    retryable = True


class StoreUnavailableError(StoreError):
    """The service could not be reached (network, timeout, 5xx); retrying may succeed."""

    asl_error_name = "Store.Unavailable"
    retryable = True


class StoreAccessDeniedError(StoreError):
    """The caller's IAM role (or a KMS key policy) does not allow the operation."""

    asl_error_name = "Store.AccessDenied"


class StoreMissingResourceError(StoreError):
    """The bucket or table itself does not exist: a configuration problem, not a data one."""

    asl_error_name = "Store.MissingResource"


class ArtifactNotFoundError(StoreError):
    """The requested object key does not exist in the artifacts bucket."""

    asl_error_name = "Store.ArtifactNotFound"

    def __init__(self, bucket: str, key: str) -> None:
        super().__init__(f"artifact s3://{bucket}/{key} does not exist")
        self.bucket = bucket
        self.key = key


class ArtifactExistsError(StoreError):
    """An immutable key already holds DIFFERENT content; it is never overwritten."""

    asl_error_name = "Store.ArtifactExists"

    def __init__(self, bucket: str, key: str) -> None:
        super().__init__(
            f"artifact s3://{bucket}/{key} already exists with different content; "
            "immutable artifacts are never overwritten (write under a new key)"
        )
        self.bucket = bucket
        self.key = key


class ChecksumMismatchError(StoreError):
    """The bytes read do not hash to the expected SHA-256: the object was altered or corrupted."""

    asl_error_name = "Store.ChecksumMismatch"

    def __init__(self, bucket: str, key: str, expected: str, actual: str) -> None:
        super().__init__(
            f"artifact s3://{bucket}/{key} failed its integrity check: expected sha256 {expected}, "
            f"got {actual}; the object was modified outside flowops or corrupted"
        )
        self.bucket = bucket
        self.key = key
        self.expected = expected
        self.actual = actual


class ArtifactTooLargeError(StoreError):
    """The object is larger than the reader's limit; it was not read into memory."""

    asl_error_name = "Store.ArtifactTooLarge"

    def __init__(self, bucket: str, key: str, size: int | None, limit: int) -> None:
        measured = f"is {size} bytes" if size is not None else "is larger than the limit"
        super().__init__(f"artifact s3://{bucket}/{key} {measured}; the limit for this read is {limit} bytes")
        self.bucket = bucket
        self.key = key
        self.size = size
        self.limit = limit


class LockRaceError(StoreError):
    """Another writer advanced the lock pointer first; carries the sha that won."""

    asl_error_name = "Store.LockRace"

    def __init__(self, org: str, expected_previous_sha: str | None, winner_sha: str | None) -> None:
        expected = expected_previous_sha or "<no lock yet>"
        winner = winner_sha or "<unknown>"
        super().__init__(
            f"lock pointer for org {org!r} moved concurrently: expected previous sha {expected}, "
            f"but {winner} is current; re-diff against the winning lock"
        )
        self.org = org
        self.expected_previous_sha = expected_previous_sha
        self.winner_sha = winner_sha


class RunTransitionError(StoreError):
    """A run status change was refused (illegal transition or the run is not in the expected state)."""

    asl_error_name = "Store.RunTransition"


class ConditionFailedError(StoreError):
    """A conditional write's condition did not hold (raised by helpers; callers refine it)."""

    asl_error_name = "Store.ConditionFailed"


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def translate_client_error(error: ClientError, action: str) -> StoreError:
    """Map a botocore ClientError raised while doing `action` to a typed, actionable StoreError."""
    code = error_code(error)
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code in _THROTTLING_CODES:
        return StoreThrottledError(f"{action}: throttled by AWS ({code}); retry with backoff")
    if code in _ACCESS_DENIED_CODES:
        return StoreAccessDeniedError(
            f"{action}: access denied ({code}); check the function's IAM grants and the KMS key policy"
        )
    if code in _MISSING_CONTAINER_CODES:
        return StoreMissingResourceError(
            f"{action}: {code}; check that ARTIFACTS_BUCKET / STATE_TABLE / AUDIT_TABLE name "
            "deployed resources"
        )
    if code == "ConditionalCheckFailedException":
        return ConditionFailedError(f"{action}: condition not met")
    if code in _TRANSIENT_CODES or (isinstance(status, int) and status >= 500):
        return StoreUnavailableError(f"{action}: AWS returned {status} ({code}); retry later")
    return StoreError(f"{action}: {code or 'unknown error'} (HTTP {status})")


@contextmanager
def mapped_errors(action: str) -> Iterator[None]:
    """Re-raise boto errors inside the block as StoreError subclasses (StoreErrors pass through)."""
    try:
        yield
    except ClientError as error:
        raise translate_client_error(error, action) from error
    except (ConnectionError, HTTPClientError) as error:
        # ConnectionError: the endpoint could not be reached (refused, DNS, connect timeout);
        # HTTPClientError: the connection broke after the request went out (reset, read timeout,
        # a streamed body cut short). Both are transient: Step Functions retries Store.Unavailable.
        raise StoreUnavailableError(
            f"{action}: could not reach AWS ({type(error).__name__}); retry later"
        ) from error
    except BotoCoreError as error:
        raise StoreError(f"{action}: {type(error).__name__}") from error
