"""What a release reads from the live org, behind one small interface (`LiveOrg`).

`GenesysLiveOrg` lists the org's flows once per plan (a few pages of 500, not one call per
flow), exports published versions through the real export jobs API, and asks dependency
tracking who consumes a common module. Published YAML is cached in the artifacts store under
`flows/<org>/<flowId>/<version>.yaml` (the publish pipeline's rollback source, immutable): a flow
flowops released before is compared against what it deployed without another export job.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol, TypeVar

from flowops.genesys.errors import NotFoundError
from flowops.genesys.exports import ExportGenesys
from flowops.genesys.models import (
    ArchitectJob,
    ArchitectJobRegistration,
    Dependency,
    Flow,
)
from flowops.genesys.objects import NamedObject
from flowops.genesys.validation import ValidateJobClient
from flowops.publish.lockadvance import ConsumedResourcesReader
from flowops.release.content import flow_key
from flowops.release.errors import ReleaseError
from flowops.store import ArtifactNotFoundError, ArtifactStore, flow_yaml_key

T = TypeVar("T")
YAML_CONTENT_TYPE = "application/x-yaml"
EXPORT_TIMEOUT_SECONDS = 300.0
EXPORT_ATTEMPTS = 3
"""Export jobs fail under load (Terraform retries them 5 times; Archy reports a rate-limited
export as "could not find the flow"): a failed export job is started again, up to this often."""


class ReleaseGenesys(ExportGenesys, ValidateJobClient, ConsumedResourcesReader, Protocol):
    """The Genesys calls a release makes (`GenesysClient` satisfies it)."""

    def iter_flows(self, *, page_size: int = 500, **filters: Any) -> Iterator[Flow]: ...

    def get_flow(self, flow_id: str) -> Flow: ...

    def find_objects_named(self, object_type: str, names: Sequence[str]) -> list[NamedObject]: ...

    def delete_flow(self, flow_id: str) -> None: ...

    def register_architect_job(self, *, create_stubs: bool | None = None) -> ArchitectJobRegistration: ...

    def upload_architect_job_file(
        self, registration: ArchitectJobRegistration, flow_yaml: str | bytes
    ) -> None: ...

    def get_architect_job(self, job_id: str) -> ArchitectJob: ...

    def iter_consuming_resources(
        self,
        object_id: str,
        *,
        object_type: str,
        version: str | None = None,
        resource_types: Sequence[str] | None = None,
        flow_filter: str | None = None,
    ) -> Iterator[Dependency]: ...


class ExportFailedError(ReleaseError):
    asl_error_name = "Release.ExportFailed"


def published_version(flow: Flow) -> str | None:
    return flow.published_version.id if flow.published_version else None


def export_version_yaml(
    genesys: ReleaseGenesys, flow_id: str, version: str, *, poll_seconds: float = 1.0
) -> str:
    """The YAML of one flow version through an export job (started again if the job fails)."""
    problems: list[str] = []
    for _attempt in range(EXPORT_ATTEMPTS):
        started = genesys.start_export_job(flow_id, version)
        job = genesys.wait_until(
            lambda started=started: genesys.get_export_job(started.id),  # type: ignore[misc]
            lambda job: bool(job.download_url) or job.status in ("Success", "Failure"),
            what=f"export of flow {flow_id} version {version}",
            poll_interval_seconds=poll_seconds,
            timeout_seconds=EXPORT_TIMEOUT_SECONDS,
        )
        if job.download_url:
            return genesys.download_export(job.download_url)
        problems.append("; ".join(m.text or "" for m in job.messages) or f"status {job.status}")
    raise ExportFailedError(
        f"exporting flow {flow_id} version {version} failed {EXPORT_ATTEMPTS} times: {problems[-1]}"
    )


class LiveOrg(Protocol):
    def find_flow(self, flow_type: str, name: str) -> Flow | None: ...

    def find_by_name(self, name: str) -> list[Flow]: ...

    def flow_by_id(self, flow_id: str) -> Flow | None: ...

    def published_yaml(self, flow: Flow) -> str: ...

    def module_consumers(self, module: Flow) -> list[Flow]: ...


class GenesysLiveOrg:
    """`LiveOrg` over the Genesys client, with the artifacts store as the export cache."""

    def __init__(
        self,
        genesys: ReleaseGenesys,
        *,
        org: str,
        artifacts: ArtifactStore | None = None,
        poll_seconds: float = 1.0,
    ) -> None:
        self.genesys = genesys
        self.org = org
        self.artifacts = artifacts
        self.poll_seconds = poll_seconds
        self._flows: dict[str, Flow] | None = None
        self.exports = 0
        """Export jobs run (cache misses), for plans and benchmarks."""

    def _all(self) -> dict[str, Flow]:
        if self._flows is None:
            self._flows = {
                flow.id: flow for flow in self.genesys.iter_flows(page_size=500) if not flow.deleted
            }
        return self._flows

    def all_flows(self) -> list[Flow]:
        """Every flow of the org that is not deleted (one listing per `GenesysLiveOrg`)."""
        return list(self._all().values())

    def refresh(self) -> None:
        self._flows = None

    def find_flow(self, flow_type: str, name: str) -> Flow | None:
        wanted = flow_key(flow_type, name)
        for flow in self._all().values():
            if flow_key(flow.type or "", flow.name or "") == wanted:
                return flow
        return None

    def find_by_name(self, name: str) -> list[Flow]:
        return [flow for flow in self._all().values() if flow.name == name]

    def flow_by_id(self, flow_id: str) -> Flow | None:
        return self._all().get(flow_id)

    def published_yaml(self, flow: Flow) -> str:
        version = published_version(flow)
        if version is None:
            raise ExportFailedError(f"flow {flow.name!r} has no published version to export")
        key = flow_yaml_key(self.org, flow.id, version)
        if self.artifacts is not None:
            try:
                return self.artifacts.get_bytes(key).decode("utf-8")
            except ArtifactNotFoundError:
                pass
        text = export_version_yaml(self.genesys, flow.id, version, poll_seconds=self.poll_seconds)
        self.exports += 1
        if self.artifacts is not None:
            self.artifacts.put_immutable(key, text.encode("utf-8"), YAML_CONTENT_TYPE)
        return text

    def module_consumers(self, module: Flow) -> list[Flow]:
        """Flows whose PUBLISHED version calls the module (they hold a snapshot of it)."""
        try:
            rows = list(
                self.genesys.iter_consuming_resources(
                    module.id, object_type="COMMONMODULEFLOW", flow_filter="published"
                )
            )
        except NotFoundError:
            return []  # the module is not in the dependency index yet: nobody consumes it
        consumers = [self._all().get(row.id) for row in rows]
        return sorted(
            (flow for flow in consumers if flow is not None), key=lambda f: (f.type or "", f.name or "")
        )
