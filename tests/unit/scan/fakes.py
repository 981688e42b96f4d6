"""In-memory fakes of the scan's ports: a tiny org behind the ScanSource interface, an
artifacts bucket, the lock pointer and the audit log. They enforce the same rules as the real
ones where the scan relies on them (immutable keys, conditional pointer advance)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flowops.scan.errors import FlowDependenciesUnreadable
from flowops.scan.genesys_source import DATA_ACTIONS_PAGE_SIZE
from flowops.store.errors import ArtifactExistsError, ArtifactNotFoundError, LockRaceError


@dataclass
class FakePage:
    entities: list[Mapping[str, Any]]
    page_count: int
    total: int


@dataclass
class FakeOrg:
    """Flows as the flows API lists them and consumed resources per (flow id, version)."""

    flows: list[dict[str, Any]] = field(default_factory=list)
    consumed: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    # Data actions as GET /api/v2/integrations/actions lists them (id, name, integer version).
    data_actions: list[dict[str, Any]] = field(default_factory=list)
    # Flows whose consumed resources the platform cannot give: flow id -> (reason, detail).
    unreadable: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Flows of a division the OAuth client cannot see: not listed, GET /api/v2/flows/{id} is 403.
    hidden_flows: set[str] = field(default_factory=set)

    def add_data_action(self, action_id: str, *, version: int | None, name: str | None = None) -> None:
        record: dict[str, Any] = {"id": action_id, "name": name or f"Action {action_id}"}
        if version is not None:
            record["version"] = version
        self.data_actions.append(record)

    def add_flow(
        self,
        flow_id: str,
        *,
        name: str | None = None,
        type: str = "INBOUNDCALL",
        version: str | None = "1.0",
        consumes: list[dict[str, Any]] | None = None,
    ) -> None:
        record: dict[str, Any] = {"id": flow_id, "name": name or f"Flow {flow_id}", "type": type}
        if version is not None:
            record["publishedVersion"] = {"id": version}
        self.flows.append(record)
        if version is not None:
            self.consumed[(flow_id, version)] = list(consumes or [])

    def republish(self, flow_id: str, version: str, consumes: list[dict[str, Any]] | None = None) -> None:
        for record in self.flows:
            if record["id"] == flow_id:
                old = record["publishedVersion"]["id"]
                record["publishedVersion"] = {"id": version}
                self.consumed[(flow_id, version)] = list(
                    consumes if consumes is not None else self.consumed[(flow_id, old)]
                )
                return
        raise KeyError(flow_id)


class FakeSource:
    def __init__(self, org: FakeOrg, index_statuses: list[dict[str, Any]] | None = None) -> None:
        self.org = org
        self.index_statuses = list(index_statuses or [{"status": "OPERATIONAL"}])
        self.calls: list[str] = []
        self.requested_resource_types: list[tuple[str, ...] | None] = []
        self.rebuilds = 0

    @property
    def total_api_calls(self) -> int:
        return len(self.calls)

    def dependency_build_status(self) -> Mapping[str, Any]:
        self.calls.append("GET build")
        # The last status repeats forever once the scripted sequence is used up.
        return self.index_statuses.pop(0) if len(self.index_statuses) > 1 else self.index_statuses[0]

    def start_dependency_rebuild(self) -> None:
        self.calls.append("POST build")
        self.rebuilds += 1

    def flows_page(self, page_number: int, page_size: int) -> FakePage:
        self.calls.append(f"GET flows {page_number}")
        ordered = sorted(self.org.flows, key=lambda record: str(record.get("id", "")))
        start = (page_number - 1) * page_size
        return FakePage(
            entities=ordered[start : start + page_size],
            page_count=math.ceil(len(ordered) / page_size),
            total=len(ordered),
        )

    def consumed_resources(
        self,
        flow_id: str,
        version: str,
        object_type: str,
        resource_types: Sequence[str] | None = None,
    ) -> list[Mapping[str, Any]]:
        self.calls.append(f"GET consumed {flow_id}")
        self.requested_resource_types.append(None if resource_types is None else tuple(resource_types))
        failure = self.org.unreadable.get(flow_id)
        if failure is not None:
            raise FlowDependenciesUnreadable(*failure)
        rows = self.org.consumed.get((flow_id, version), [])
        if resource_types is None:
            return rows
        # Rows without a type are passed on: the scan's own checks must see malformed records.
        return [row for row in rows if not isinstance(row.get("type"), str) or row["type"] in resource_types]

    def flow_visibility(self, flow_id: str) -> str:
        self.calls.append(f"GET /api/v2/flows/{flow_id}")
        if flow_id in self.org.hidden_flows:
            return "not_visible"
        return "visible" if any(record["id"] == flow_id for record in self.org.flows) else "missing"

    def data_actions(self) -> list[Mapping[str, Any]]:
        # One request per page of the listing, as the paged client iterates it.
        pages = max(1, math.ceil(len(self.org.data_actions) / DATA_ACTIONS_PAGE_SIZE))
        self.calls.extend(f"GET actions {number}" for number in range(1, pages + 1))
        return list(self.org.data_actions)


class FakeArtifacts:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.fail_writes_matching: str | None = None
        self.reads: list[str] = []

    def _check_write(self, key: str) -> None:
        if self.fail_writes_matching and self.fail_writes_matching in key:
            raise RuntimeError(f"injected write failure for {key}")

    def put_immutable(self, key: str, body: bytes, content_type: str = "application/json") -> None:
        self._check_write(key)
        existing = self.objects.get(key)
        if existing is not None and existing != body:
            raise ArtifactExistsError("fake-bucket", key)
        self.objects[key] = body

    def put_json(self, key: str, document: Any, *, immutable: bool = False) -> None:
        self._check_write(key)
        self.objects[key] = json.dumps(document, sort_keys=True).encode()

    def put_bytes(
        self,
        key: str,
        body: bytes,
        content_type: str = "application/octet-stream",
        *,
        content_encoding: str | None = None,
    ) -> None:
        self._check_write(key)
        self.objects[key] = body

    def get_bytes(self, key: str, expected_sha256: str | None = None) -> bytes:
        self.reads.append(key)
        if key not in self.objects:
            raise ArtifactNotFoundError("fake-bucket", key)
        return self.objects[key]

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_bytes(key))


@dataclass
class FakePointer:
    sha: str
    key: str


class FakePointers:
    def __init__(self) -> None:
        self.current: dict[str, FakePointer] = {}
        self.advances: list[tuple[str, str, str | None]] = []

    def get_current(self, org: str) -> FakePointer | None:
        return self.current.get(org)

    def advance(
        self, org: str, new_sha: str, expected_previous_sha: str | None, *, key: str, scan_id: str
    ) -> None:
        current = self.current.get(org)
        current_sha = current.sha if current else None
        if current_sha != expected_previous_sha:
            raise LockRaceError(org, expected_previous_sha, current_sha)
        self.current[org] = FakePointer(new_sha, key)
        self.advances.append((org, new_sha, expected_previous_sha))


class FakeAudit:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def append(
        self, org: str, kind: str, *, actor: str, subject: str, details: Mapping[str, Any] | None = None
    ) -> None:
        self.events.append({"org": org, "kind": kind, "actor": actor, "subject": subject, "details": details})


def dependency(
    object_id: str, object_type: str, *, name: str = "", version: str | None = None, deleted: bool = False
) -> dict[str, Any]:
    return {
        "id": object_id,
        "type": object_type,
        "name": name or object_id,
        "version": version,
        "deleted": deleted,
    }
