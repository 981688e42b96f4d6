"""The parts of the outside world the publish steps use, as small interfaces.

`GenesysClient` satisfies `PublishGenesys`; unit tests pass in-memory fakes. The stores come
from `flowops.store` (ArtifactStore, LockPointerStore, RunStore, AuditLog) and the lease from
`flowops.publish.lease`; `DeployPorts` holds them with the org for publish and release alike
(each adds its own Genesys port).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from flowops.genesys.exports import ExportGenesys
from flowops.genesys.models import (
    Action,
    ActionDraftValidation,
    ArchitectJob,
    ArchitectJobRegistration,
    Dependency,
    Flow,
    FlowInstance,
    FlowInstanceQuery,
    FlowVersion,
    Operation,
    Page,
)
from flowops.genesys.objects import NamedObject
from flowops.genesys.validation import ValidateJobClient
from flowops.publish.lease import PublishLeaseStore
from flowops.store import ArtifactStore, AuditLog, LockPointerStore, RunStore

T = TypeVar("T")


class PublishGenesys(ExportGenesys, ValidateJobClient, Protocol):
    def get_flow(self, flow_id: str) -> Flow: ...

    def list_flows_page(
        self,
        *,
        page_number: int = 1,
        page_size: int = 500,
        flow_types: Sequence[str] | None = None,
        name: str | None = None,
        **others: Any,
    ) -> Page[Flow]: ...

    def get_flow_version(self, flow_id: str, version_id: str) -> FlowVersion: ...

    def unlock_flow(self, flow_id: str) -> Flow: ...

    def publish_flow(self, flow_id: str, *, version: str | None = None) -> Operation: ...

    def deploy_flow_yaml(
        self, flow_yaml: str | bytes, *, create_stubs: bool | None = None
    ) -> ArchitectJobRegistration: ...

    def register_architect_job(self, *, create_stubs: bool | None = None) -> ArchitectJobRegistration: ...

    def upload_architect_job_file(
        self, registration: ArchitectJobRegistration, flow_yaml: str | bytes
    ) -> None: ...

    def get_architect_job(self, job_id: str) -> ArchitectJob: ...

    def list_flow_versions_page(
        self, flow_id: str, *, page_number: int = 1, page_size: int = 100
    ) -> Page[FlowVersion]: ...

    def delete_flow(self, flow_id: str) -> None: ...

    def get_action(self, action_id: str) -> Action: ...

    def get_action_draft_validation(self, action_id: str) -> ActionDraftValidation: ...

    def find_objects_named(self, object_type: str, names: Sequence[str]) -> list[NamedObject]: ...

    def iter_consumed_resources(
        self, object_id: str, *, version: str, object_type: str, resource_types: Sequence[str] | None = None
    ) -> Iterator[Dependency]: ...

    def query_flow_instances(
        self, query: FlowInstanceQuery, *, page_size: int = 200
    ) -> Page[FlowInstance]: ...


@dataclass
class DeployPorts:
    """The org and the stores every publish and release step works with."""

    org: str
    artifacts: ArtifactStore
    runs: RunStore
    audit: AuditLog
    pointers: LockPointerStore
    leases: PublishLeaseStore
    time_scale: float = 1.0
    """Local runs use accelerated time: elapsed real seconds count `time_scale` times."""
