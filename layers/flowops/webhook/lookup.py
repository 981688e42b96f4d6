"""Lookups the webhook makes before starting anything: which flow, which environment.

Both are interfaces with small implementations: in-memory ones for tests and the local
runtime, and ones backed by `flowops.store` (the current lock, per-environment substitutions
kept as JSON artifacts) for the deployed function.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from flowops.bounded import SUBSTITUTIONS_LIMITS
from flowops.lock.canonical import parse_lock
from flowops.lock.models import LockedFlow
from flowops.store import ArtifactNotFoundError, ArtifactStore, LockPointerStore
from flowops.webhook.errors import AmbiguousFlowError, InvalidRequestError, UnknownFlowError
from flowops.webhook.models import FlowRef, PublishTarget


class FlowDirectory(Protocol):
    def resolve(self, ref: FlowRef) -> PublishTarget:
        """The flow `ref` names; `UnknownFlowError` (404) / `AmbiguousFlowError` (409) otherwise."""
        ...


class SubstitutionsSource(Protocol):
    def substitutions_for(self, environment: str) -> Mapping[str, str] | None:
        """The `{{key}}` → value map kept for `environment`, or None if the environment is unknown."""
        ...


def resolve_in(flows: Iterable[PublishTarget], ref: FlowRef, *, where: str) -> PublishTarget:
    """Find `ref` among `flows` (by id, else by type + name) and check any extra fields agree."""
    candidates = list(flows)
    if ref.id is not None:
        matches = [flow for flow in candidates if flow.id == ref.id]
    else:
        matches = [flow for flow in candidates if flow.type == ref.type and flow.name == ref.name]
    if not matches:
        raise UnknownFlowError(f"flow {ref.describe()} is not in {where}; publish only flows a scan has seen")
    if len(matches) > 1:
        ids = ", ".join(sorted(str(flow.id) for flow in matches))
        raise AmbiguousFlowError(f"flow {ref.describe()} matches {len(matches)} flows ({ids}); send flow.id")
    found = matches[0]
    mismatched = [
        f"flow.{field}"
        for field, given, known in (("name", ref.name, found.name), ("type", ref.type, found.type))
        if given is not None and given != known
    ]
    if mismatched:
        raise InvalidRequestError(
            f"flow id {ref.id} is {found.type} {found.name!r} in {where}; {', '.join(mismatched)} disagree",
            tuple(mismatched),
        )
    return found


class StaticFlowDirectory:
    """`FlowDirectory` over a fixed list (tests, the local runtime)."""

    def __init__(self, flows: Iterable[PublishTarget]) -> None:
        self._flows = tuple(flows)

    def resolve(self, ref: FlowRef) -> PublishTarget:
        return resolve_in(self._flows, ref, where="the flow directory")


class CurrentLockFlowDirectory:
    """`FlowDirectory` over the org's current lock (pointer in DynamoDB, lockfile in S3)."""

    def __init__(self, org: str, *, pointers: LockPointerStore, artifacts: ArtifactStore) -> None:
        self.org = org
        self._pointers = pointers
        self._artifacts = artifacts

    def resolve(self, ref: FlowRef) -> PublishTarget:
        pointer = self._pointers.get_current(self.org)
        if pointer is None:
            raise UnknownFlowError(f"org {self.org!r} has no lock yet: run a scan before publishing")
        lock = parse_lock(self._artifacts.get_bytes(pointer.key))
        return resolve_in(
            (_target(flow) for flow in lock.flows), ref, where=f"the current lock of {self.org!r}"
        )


def _target(flow: LockedFlow) -> PublishTarget:
    return PublishTarget(id=flow.id, name=flow.name, type=flow.type)


class StaticSubstitutions:
    """`SubstitutionsSource` over a fixed mapping environment → substitutions."""

    def __init__(self, by_environment: Mapping[str, Mapping[str, str]]) -> None:
        self._by_environment = {name: dict(values) for name, values in by_environment.items()}

    def substitutions_for(self, environment: str) -> Mapping[str, str] | None:
        return self._by_environment.get(environment)


def substitutions_key(org: str, environment: str) -> str:
    """Where an environment's substitutions live in the artifacts bucket."""
    return f"config/{org}/substitutions/{environment}.json"


class ArtifactSubstitutions:
    """`SubstitutionsSource` on JSON objects `{"key": "value"}` at `substitutions_key(org, env)`."""

    def __init__(self, org: str, *, artifacts: ArtifactStore) -> None:
        self.org = org
        self._artifacts = artifacts

    def substitutions_for(self, environment: str) -> Mapping[str, str] | None:
        try:
            document = self._artifacts.get_json(
                substitutions_key(self.org, environment), max_bytes=SUBSTITUTIONS_LIMITS.max_bytes
            )
        except ArtifactNotFoundError:
            return None
        if not isinstance(document, dict) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in document.items()
        ):
            raise ValueError(f"substitutions for {environment!r} must be a JSON object of strings")
        return document
