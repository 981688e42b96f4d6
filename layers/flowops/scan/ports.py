"""The narrow interfaces the scan steps need from Genesys and from storage.

The steps depend on these protocols, not on `GenesysClient` or boto3: unit tests pass
in-memory fakes, handlers pass adapters over the real client and `flowops.store`. Genesys
answers arrive as plain JSON mappings (as the API sends them) so that a malformed record
is reported by the scan with its page and position instead of failing deep in a model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class FlowsPage(Protocol):
    @property
    def entities(self) -> list[Mapping[str, Any]]: ...

    @property
    def page_count(self) -> int: ...

    @property
    def total(self) -> int: ...


class ScanSource(Protocol):
    """What a scan reads from Genesys Cloud (only real endpoints behind it)."""

    @property
    def total_api_calls(self) -> int:
        """Requests sent so far by this source (the scan reports the difference)."""
        ...

    def dependency_build_status(self) -> Mapping[str, Any]:
        """GET /api/v2/architect/dependencytracking/build."""
        ...

    def start_dependency_rebuild(self) -> None:
        """POST /api/v2/architect/dependencytracking/build."""
        ...

    def flows_page(self, page_number: int, page_size: int) -> FlowsPage:
        """GET /api/v2/flows?pageNumber=&pageSize= (sorted by id so pages are stable)."""
        ...

    def consumed_resources(
        self,
        flow_id: str,
        version: str,
        object_type: str,
        resource_types: Sequence[str] | None = None,
    ) -> list[Mapping[str, Any]]:
        """Every page of GET .../dependencytracking/consumedresources for one flow version
        (`resourceType=` repeated when `resource_types` is given).

        Raises `flowops.scan.errors.FlowDependenciesUnreadable` when the platform cannot answer
        for this flow alone (404, a division's 403, another 4xx); anything else propagates.
        """
        ...

    def flow_visibility(self, flow_id: str) -> str:
        """GET /api/v2/flows/{id}: "visible" (200), "not_visible" (a division's 403) or
        "missing" (404); 401, 429 and 5xx propagate."""
        ...

    def data_actions(self) -> list[Mapping[str, Any]]:
        """Every page of GET /api/v2/integrations/actions (each with its integer `version`)."""
        ...


class ArtifactWriter(Protocol):
    """The parts of `flowops.store.ArtifactStore` the scan uses."""

    def put_immutable(self, key: str, body: bytes, content_type: str) -> Any: ...

    def put_json(self, key: str, document: Any) -> Any: ...

    def put_bytes(
        self, key: str, body: bytes, content_type: str, *, content_encoding: str | None = None
    ) -> Any: ...

    def get_bytes(self, key: str, expected_sha256: str | None = None) -> bytes: ...


class CurrentLockPointer(Protocol):
    @property
    def sha(self) -> str: ...

    @property
    def key(self) -> str: ...


class LockPointers(Protocol):
    """The parts of `flowops.store.LockPointerStore` the scan uses."""

    def get_current(self, org: str) -> CurrentLockPointer | None: ...

    def advance(
        self,
        org: str,
        new_sha: str,
        expected_previous_sha: str | None,
        *,
        key: str,
        scan_id: str,
    ) -> Any: ...


class AuditSink(Protocol):
    """The part of `flowops.store.AuditLog` the scan uses."""

    def append(
        self, org: str, kind: str, *, actor: str, subject: str, details: Mapping[str, Any] | None = None
    ) -> Any: ...
