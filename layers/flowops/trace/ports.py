"""The narrow interfaces the trace steps need from Genesys, storage and the delivery side.

Steps depend on these protocols, not on `GenesysClient`, boto3 or requests: unit tests pass
in-memory fakes, handlers pass the adapters (`flowops.trace.genesys_source`, `flowops.store`,
`flowops.trace.delivery`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from flowops.trace.request import PlannedFlow


class JobEntity(BaseModel):
    """One instance of an execution-data job: a download URI, or why there is none."""

    model_config = ConfigDict(frozen=True)

    instance_id: str
    download_uri: str | None = None
    failed: bool = False
    status_code: str | None = None

    def __repr__(self) -> str:
        # The URI is presigned: it never goes into a repr or a log line.
        return f"JobEntity(instance_id={self.instance_id!r}, failed={self.failed!r})"

    __str__ = __repr__


class JobStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    job_id: str
    state: str  # Registered | Running | Success | Failed
    entities: list[JobEntity] = []

    @property
    def finished(self) -> bool:
        return self.state in ("Success", "Failed")


class DownloadFailedError(Exception):
    """A document could not be fetched (HTTP error, expired URI, unreachable)."""

    def __init__(self, message: str, *, status_code: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class TraceSource(Protocol):
    """What a trace reads from Genesys Cloud (only real endpoints behind it)."""

    @property
    def total_api_calls(self) -> int: ...

    def execution_data_enabled(self) -> bool:
        """GET /api/v2/flows/instances/settings/executiondata."""
        ...

    def find_flows(self, reference: str) -> list[PlannedFlow]:
        """Flows whose id (GET /flows/{id}) or exact name (GET /flows?name=) is `reference`."""
        ...

    def query_instances(self, query: Mapping[str, Any], page_size: int) -> list[dict[str, Any]]:
        """POST /api/v2/flows/instances/query?pageSize= with body `query`; the rows as sent."""
        ...

    def start_job(self, instance_ids: Sequence[str]) -> str:
        """POST /api/v2/flows/instances/jobs; the job id."""
        ...

    def job(self, job_id: str) -> JobStatus:
        """GET /api/v2/flows/instances/jobs/{jobId}."""
        ...

    def download(self, download_uri: str) -> bytes | str | dict[str, Any]:
        """The document behind a downloadUri, raw when it is not valid JSON (DownloadFailedError)."""
        ...


class TraceArtifacts(Protocol):
    """The subset of `flowops.store.ArtifactStore` the trace uses."""

    def put_json(self, key: str, obj: Any, *, immutable: bool = False) -> Any: ...

    def put_bytes(self, key: str, body: bytes, content_type: str = ...) -> Any: ...

    def get_json(self, key: str, expected_sha256: str | None = None) -> Any: ...


class AuditSink(Protocol):
    def append(
        self, org: str, kind: str, *, actor: str, subject: str, details: dict[str, Any] | None = None
    ) -> Any: ...
