"""`flowops.store`: the only code in flowops that talks to S3 and DynamoDB."""

from flowops.store.artifacts import (
    ArtifactStore,
    PutResult,
    canonical_json_bytes,
    content_address_of,
    flow_yaml_key,
    lock_key,
    scan_artifact_key,
    sha256_hex,
)
from flowops.store.audit import AuditEvent, AuditLog
from flowops.store.errors import (
    ArtifactExistsError,
    ArtifactNotFoundError,
    ArtifactTooLargeError,
    ChecksumMismatchError,
    ConditionFailedError,
    LockRaceError,
    RunTransitionError,
    StoreAccessDeniedError,
    StoreError,
    StoreMissingResourceError,
    StoreThrottledError,
    StoreUnavailableError,
)
from flowops.store.pointer import LockPointer, LockPointerStore
from flowops.store.rate_schedule import SharedRateSchedule
from flowops.store.runs import RunItem, RunStatus, RunStore

__all__ = [
    "ArtifactExistsError",
    "ArtifactNotFoundError",
    "ArtifactStore",
    "ArtifactTooLargeError",
    "AuditEvent",
    "AuditLog",
    "ChecksumMismatchError",
    "ConditionFailedError",
    "LockPointer",
    "LockPointerStore",
    "LockRaceError",
    "PutResult",
    "RunItem",
    "RunStatus",
    "RunStore",
    "RunTransitionError",
    "SharedRateSchedule",
    "StoreAccessDeniedError",
    "StoreError",
    "StoreMissingResourceError",
    "StoreThrottledError",
    "StoreUnavailableError",
    "canonical_json_bytes",
    "content_address_of",
    "flow_yaml_key",
    "lock_key",
    "scan_artifact_key",
    "sha256_hex",
]
