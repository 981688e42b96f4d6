"""The lockfile: a checksummed, canonical description of an org's flows and what they consume.

- models: :class:`Lockfile`, :class:`LockedFlow`, :class:`LockedDependency`,
  :class:`LockedObject`, :class:`FailedObject`, :class:`LockMeta` (meta is outside the hash)
- canonical JSON and the stored document: :func:`canonical_bytes`, :func:`lock_sha256`,
  :func:`lock_document_bytes`, :func:`parse_lock` (format described in ``canonical.py``)
- drift: :func:`diff_locks`, :func:`apply_diff`; across orgs: :func:`diff_environments`
- incremental scans: :func:`reusable_dependencies` (never for a flow recorded as unread)

Pure logic: no I/O, no networkx (the graph lives in ``flowops.graph``).

The names below are imported on first use (`flowops.lazy_exports`): importing one submodule
builds no pydantic model of the others (a handler's cold start, issue 13).
"""

from typing import TYPE_CHECKING

from flowops.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from flowops.lock.canonical import (
        LOCK_DOCUMENT_FORMAT,
        LockFormatError,
        LockIntegrityError,
        canonical_body,
        canonical_bytes,
        lock_document_bytes,
        lock_sha256,
        parse_lock,
    )
    from flowops.lock.diff import (
        DiffBaseMismatchError,
        EdgeChange,
        FlowRename,
        FlowTypeChange,
        FlowVersionChange,
        LockDiff,
        ObjectChange,
        apply_diff,
        diff_locks,
    )
    from flowops.lock.environments import (
        AmbiguousName,
        EdgeVersionDifference,
        EnvironmentDiff,
        FlowVersionDifference,
        NamedEdge,
        NamedRef,
        ObjectDifference,
        diff_environments,
    )
    from flowops.lock.incremental import reusable_dependencies
    from flowops.lock.models import (
        LOCK_SCHEMA_VERSION,
        FailedObject,
        LockedDependency,
        LockedFlow,
        LockedObject,
        Lockfile,
        LockMeta,
        UnreadDependencies,
        UnreadReason,
    )
    from flowops.lock.versions import (
        compare_versions,
        is_older,
        version_key,
    )

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "flowops.lock.canonical": (
            "LOCK_DOCUMENT_FORMAT",
            "LockFormatError",
            "LockIntegrityError",
            "canonical_body",
            "canonical_bytes",
            "lock_document_bytes",
            "lock_sha256",
            "parse_lock",
        ),
        "flowops.lock.diff": (
            "DiffBaseMismatchError",
            "EdgeChange",
            "FlowRename",
            "FlowTypeChange",
            "FlowVersionChange",
            "LockDiff",
            "ObjectChange",
            "apply_diff",
            "diff_locks",
        ),
        "flowops.lock.environments": (
            "AmbiguousName",
            "EdgeVersionDifference",
            "EnvironmentDiff",
            "FlowVersionDifference",
            "NamedEdge",
            "NamedRef",
            "ObjectDifference",
            "diff_environments",
        ),
        "flowops.lock.incremental": ("reusable_dependencies",),
        "flowops.lock.models": (
            "LOCK_SCHEMA_VERSION",
            "FailedObject",
            "LockedDependency",
            "LockedFlow",
            "LockedObject",
            "Lockfile",
            "LockMeta",
            "UnreadDependencies",
            "UnreadReason",
        ),
        "flowops.lock.versions": ("compare_versions", "is_older", "version_key"),
    },
)

__all__ = [
    "LOCK_DOCUMENT_FORMAT",
    "LOCK_SCHEMA_VERSION",
    "AmbiguousName",
    "DiffBaseMismatchError",
    "EdgeChange",
    "EdgeVersionDifference",
    "EnvironmentDiff",
    "FailedObject",
    "FlowRename",
    "FlowTypeChange",
    "FlowVersionChange",
    "FlowVersionDifference",
    "LockDiff",
    "LockFormatError",
    "LockIntegrityError",
    "LockMeta",
    "LockedDependency",
    "LockedFlow",
    "LockedObject",
    "Lockfile",
    "NamedEdge",
    "NamedRef",
    "ObjectChange",
    "ObjectDifference",
    "UnreadDependencies",
    "UnreadReason",
    "apply_diff",
    "canonical_body",
    "canonical_bytes",
    "compare_versions",
    "diff_environments",
    "diff_locks",
    "is_older",
    "lock_document_bytes",
    "lock_sha256",
    "parse_lock",
    "reusable_dependencies",
    "version_key",
]
