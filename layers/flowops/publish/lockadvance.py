"""Advance the org's current lock by a change, without losing a concurrent writer's advance.

The pointer (`LockPointerStore`) moves with a compare-and-set on the previous sha: when a scan,
a publish or a release moved it in between, the change is applied again on top of the winner's
lock. A retried step finds its own earlier advance (the change applied to the current lock is
the current lock) and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from flowops.flowtypes import SCANNED_RESOURCE_TYPES, dependency_object_type
from flowops.genesys.models import Dependency
from flowops.lock.canonical import canonical_bytes, lock_sha256, parse_lock
from flowops.lock.models import Lockfile
from flowops.publish.lockupdate import ConsumedResource
from flowops.publish.ports import DeployPorts
from flowops.store import LockRaceError, lock_key

POINTER_ATTEMPTS = 3


class ConsumedResourcesReader(Protocol):
    def iter_consumed_resources(
        self, object_id: str, *, version: str, object_type: str, resource_types: Sequence[str] | None = None
    ) -> Iterator[Dependency]: ...


def consumed_resources(
    genesys: ConsumedResourcesReader, flow_id: str, flow_type: str, version: str
) -> list[ConsumedResource] | None:
    """What `version` of the flow consumes, as dependency tracking reports it (None: the flow type
    has no dependency-tracking type; the scan records such a flow as unread)."""
    object_type = dependency_object_type(flow_type)
    if object_type is None:
        return None
    return [
        ConsumedResource(
            id=dependency.id,
            type=dependency.type or "UNKNOWN",
            name=dependency.name or "",
            version=dependency.version,
            deleted=bool(dependency.deleted),
        )
        for dependency in genesys.iter_consumed_resources(
            # The same resource types the scan asks for: the lock holds no platform vocabulary.
            flow_id,
            version=version,
            object_type=object_type,
            resource_types=SCANNED_RESOURCE_TYPES,
        )
    ]


def advance_current_lock(
    ports: DeployPorts, change: Callable[[Lockfile], Lockfile], *, writer: str
) -> str | None:
    """Write `change(current lock)` and make it current; its sha (None: the org has no lock yet,
    the first scan records everything). `writer` names the advance in the pointer (`scan_id`)."""
    for _attempt in range(POINTER_ATTEMPTS):
        pointer = ports.pointers.get_current(ports.org)
        if pointer is None:
            return None
        lock = parse_lock(ports.artifacts.get_bytes(pointer.key), expected_sha256=pointer.sha)
        updated = change(lock)
        sha = lock_sha256(updated)
        if sha == pointer.sha:
            return sha
        key = lock_key(ports.org, sha)
        ports.artifacts.put_immutable(key, canonical_bytes(updated))
        try:
            ports.pointers.advance(ports.org, sha, pointer.sha, key=key, scan_id=writer)
        except LockRaceError:
            continue  # a scan or another release moved the pointer: apply the change on top of it
        return sha
    raise LockRaceError(ports.org, None, None)
