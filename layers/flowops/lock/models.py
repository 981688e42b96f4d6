"""Lockfile models.

A lock is a value: every model is frozen, and every list is put in canonical order when the
model is built (flows by id, consumed dependencies and objects by ``(type, id)``), so two locks
describing the same org state are equal no matter in which order a scan found things.

Duplicates are resolved the same way everywhere: an exact repeat is dropped (paged API answers
can overlap), while two different records for the same key are a contradiction and rejected
with a message naming the key, because silently keeping either would make the hash depend on
which record came first.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from flowops.flowtypes import flow_object_type

LOCK_SCHEMA_VERSION = 1
"""Schema version written by this code; :func:`flowops.lock.parse_lock` refuses newer ones."""

_Record = TypeVar("_Record", bound=BaseModel)


class _LockModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _canonical_unique(
    records: Sequence[_Record], key: Callable[[_Record], Hashable], what: str
) -> list[_Record]:
    """Sort by ``key``, drop exact repeats and reject conflicting records for one key."""
    by_key: dict[Hashable, _Record] = {}
    for record in records:
        record_key = key(record)
        seen = by_key.get(record_key)
        if seen is None:
            by_key[record_key] = record
        elif seen != record:
            raise ValueError(f"conflicting {what} records for {record_key!r}: {seen!r} and {record!r}")
    return [by_key[record_key] for record_key in sorted(by_key, key=_sortable)]


def _sortable(key: Hashable) -> tuple[str, ...]:
    # Keys are str or tuples of str | None; None sorts first via the empty string, and the
    # leading marker keeps (None) distinct from ("") so the order is total and stable.
    parts = key if isinstance(key, tuple) else (key,)
    return tuple("" if part is None else f"~{part}" for part in parts)


class LockedDependency(_LockModel):
    """One resource a flow's published version consumes (a dependency-tracking record)."""

    id: str = Field(min_length=1)
    type: str = Field(min_length=1, description="dependency-tracking object type, e.g. DATAACTION")
    name: str = ""
    version: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.id)


class UnreadReason(StrEnum):
    """Why a flow's consumed resources are not in the lock (stable codes, safe to match on)."""

    NOT_INDEXED = "NOT_INDEXED"
    """consumedresources answered 404: the version is not in the dependency index (deleted or
    re-published after it was listed, or never indexed)."""
    INDEX_FAILED = "INDEX_FAILED"
    """the build status lists the flow among its ``failedObjects``."""
    FORBIDDEN = "FORBIDDEN"
    """403: the OAuth client may not read this flow's dependencies (another division)."""
    REFUSED = "REFUSED"
    """another 4xx for this flow alone (e.g. an object type the platform does not accept)."""
    NO_DEPENDENCY_TYPE = "NO_DEPENDENCY_TYPE"
    """the flow type has no dependency-tracking object type (SPEECH, or a type newer than
    flowops): there is nothing to ask."""


class UnreadDependencies(_LockModel):
    """A flow whose consumed resources could not be read: the scan records why instead of failing.

    Its ``consumes`` list is empty and means "unknown", not "nothing"; the next scan reads it
    again (an unread flow is never reused by an incremental scan).
    """

    reason: UnreadReason
    detail: str = Field(default="", description="what the platform said, e.g. its error message")


# A user's display name with its id: generous, but a hostile org cannot bloat every lock.
MAX_USER_LABEL = 300


class LockedFlow(_LockModel):
    """A flow of the org with what its published version consumes.

    ``object_type`` is empty for a flow type dependency tracking has no object type for.
    ``unread`` is set when the consumed resources could not be read (``consumes`` is then empty).
    ``published_by`` / ``date_published`` say who published ``published_version`` and when (the
    version's ``createdBy`` and ``datePublished``), so drift can name who changed a flow; both
    are written only when known, so locks from before they existed keep their hashes.
    """

    id: str = Field(min_length=1)
    name: str
    type: str = Field(min_length=1, description="flow type, e.g. INBOUNDCALL")
    object_type: str = Field(default="", description="dependency-tracking type, e.g. INBOUNDCALLFLOW")
    published_version: str | None = None
    published_by: str | None = Field(default=None, max_length=MAX_USER_LABEL)
    date_published: datetime | None = None
    consumes: list[LockedDependency] = Field(default_factory=list)
    unread: UnreadDependencies | None = None

    @field_validator("object_type")
    @classmethod
    def _upper_case_object_type(cls, value: str) -> str:
        return value.upper()

    def model_post_init(self, context: object, /) -> None:
        # An omitted object type is derived from the flow type; frozen models need the
        # object.__setattr__ escape hatch for this one-time normalisation.
        if not self.object_type:
            object.__setattr__(self, "object_type", flow_object_type(self.type) or "")
        if self.unread is not None and self.consumes:
            raise ValueError(f"flow {self.id} is recorded as unread but lists consumed resources")

    @field_validator("consumes")
    @classmethod
    def _canonical_consumes(cls, value: list[LockedDependency]) -> list[LockedDependency]:
        return _canonical_unique(value, lambda dependency: dependency.key, "consumed dependency")


class LockedObject(_LockModel):
    """An object of the org the lock knows about (consumed by a flow, or listed by the scan).

    ``version`` is the currently published version where the org has one (flows, data
    actions); ``missing`` means a flow references it but the org does not have it.
    ``not_visible`` (a flow only; written only when set, so older locks keep their hashes) means
    the org has it but in a division this OAuth client cannot see (GET /api/v2/flows/{id}: 403).
    """

    id: str = Field(min_length=1)
    name: str = ""
    type: str = Field(min_length=1)
    version: str | None = None
    deleted: bool = False
    missing: bool = False
    not_visible: bool | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.id)


class FailedObject(_LockModel):
    """An object the dependency index could not process (``failedObjects`` of the build status)."""

    id: str = Field(min_length=1)
    version: str | None = None
    name: str | None = None
    error_code: str | None = None


class LockMeta(_LockModel):
    """How and when a lock was produced. Not part of the checksum: two scans of the same
    org state differ here and nowhere else."""

    generated_at: datetime | None = None
    scan_id: str | None = None
    api_calls: int = Field(default=0, ge=0)
    index_status: str | None = Field(default=None, description="dependency index status, e.g. OPERATIONAL")
    reused_flows: int = Field(
        default=0, ge=0, description="flows whose dependencies came from the previous lock"
    )
    previous_sha256: str | None = None
    read_flows: int = Field(default=0, ge=0, description="flows whose consumed resources were read")
    unread_flows: int = Field(
        default=0, ge=0, description="flows whose consumed resources could not be read (see each flow)"
    )
    resource_types: list[str] | None = Field(
        default=None, description="consumed-resource types the scan asked for (None: every type)"
    )
    listing_stable: bool = Field(
        default=True,
        description="False: flows kept changing while listed; the lock took the union of the passes",
    )


class Lockfile(_LockModel):
    """The checksummed description of an org's flows and what they consume."""

    schema_version: int = LOCK_SCHEMA_VERSION
    org: str
    flows: list[LockedFlow] = Field(default_factory=list)
    objects: list[LockedObject] = Field(default_factory=list)
    failed_objects: list[FailedObject] = Field(default_factory=list)
    meta: LockMeta | None = Field(default=None, description="excluded from the canonical body and its hash")

    _flows_by_id: dict[str, LockedFlow] | None = PrivateAttr(default=None)
    _objects_by_id: dict[str, LockedObject] | None = PrivateAttr(default=None)

    @field_validator("flows")
    @classmethod
    def _canonical_flows(cls, value: list[LockedFlow]) -> list[LockedFlow]:
        return _canonical_unique(value, lambda flow: flow.id, "flow")

    @field_validator("objects")
    @classmethod
    def _canonical_objects(cls, value: list[LockedObject]) -> list[LockedObject]:
        return _canonical_unique(value, lambda locked: locked.key, "object")

    @field_validator("failed_objects")
    @classmethod
    def _canonical_failed_objects(cls, value: list[FailedObject]) -> list[FailedObject]:
        return _canonical_unique(value, lambda failed: (failed.id, failed.version), "failed object")

    def __eq__(self, other: object) -> bool:
        # Field values only: the lookup caches above must not make two equal locks unequal.
        if not isinstance(other, Lockfile):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # holds lists: not hashable

    def flow(self, flow_id: str) -> LockedFlow | None:
        """The flow with this id, or None. O(1) after the first call (the lock is immutable)."""
        if self._flows_by_id is None:
            self._flows_by_id = {flow.id: flow for flow in self.flows}
        return self._flows_by_id.get(flow_id)

    def object(self, object_id: str) -> LockedObject | None:
        """The object with this id, or None; when one id is recorded under several types the
        first in canonical order is returned."""
        if self._objects_by_id is None:
            index: dict[str, LockedObject] = {}
            for locked in self.objects:
                index.setdefault(locked.id, locked)
            self._objects_by_id = index
        return self._objects_by_id.get(object_id)

    @property
    def unread_flows(self) -> list[LockedFlow]:
        """Flows whose consumed resources are unknown (the lock is incomplete for them)."""
        return [flow for flow in self.flows if flow.unread is not None]

    @property
    def complete(self) -> bool:
        """True when every flow's consumed resources were read."""
        return not any(flow.unread is not None for flow in self.flows)

    def without_meta(self) -> Lockfile:
        """The same lock body with no meta (what the checksum covers)."""
        return self.model_copy(update={"meta": None})
