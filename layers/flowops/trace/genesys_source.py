"""`TraceSource` over the flowops Genesys client (real endpoints only, see genesys-api.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from flowops.genesys.errors import GenesysError, NotFoundError
from flowops.genesys.models import Flow, FlowInstance, FlowInstanceQuery
from flowops.trace.ports import DownloadFailedError, JobEntity, JobStatus
from flowops.trace.request import PlannedFlow

if TYPE_CHECKING:
    from flowops.genesys.client import GenesysClient

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _planned(flow: Flow) -> PlannedFlow:
    return PlannedFlow(id=flow.id, name=flow.name, type=flow.type)


class GenesysTraceSource:
    def __init__(self, client: GenesysClient) -> None:
        self.client = client

    def __repr__(self) -> str:
        return f"GenesysTraceSource({self.client!r})"

    @property
    def total_api_calls(self) -> int:
        return self.client.total_api_calls

    def execution_data_enabled(self) -> bool:
        return bool(self.client.get_execution_data_settings().enabled)

    def find_flows(self, reference: str) -> list[PlannedFlow]:
        if _UUID.match(reference):
            try:
                flow = self.client.get_flow(reference)
            except NotFoundError:
                flow = None
            if flow is not None and not flow.deleted:
                return [_planned(flow)]
        # Names are matched exactly (case-insensitive); `*` would be a wildcard to the API.
        if "*" in reference:
            return []
        wanted = reference.strip().lower()
        return [
            _planned(flow)
            for flow in self.client.iter_flows(name=reference.strip())
            if not flow.deleted and (flow.name or "").strip().lower() == wanted
        ]

    def query_instances(self, query: Mapping[str, Any], page_size: int) -> list[dict[str, Any]]:
        page = self.client.query_flow_instances(FlowInstanceQuery.model_validate(query), page_size=page_size)
        return [_row(instance) for instance in page.entities]

    def start_job(self, instance_ids: Sequence[str]) -> str:
        return self.client.start_execution_data_job(list(instance_ids)).id

    def job(self, job_id: str) -> JobStatus:
        job = self.client.get_execution_data_job(job_id)
        return JobStatus(
            job_id=job.id,
            state=job.job_state or "Registered",
            entities=[
                JobEntity(
                    instance_id=entity.id,
                    download_uri=entity.download_uri,
                    failed=bool(entity.failed),
                    status_code=None if entity.status_code is None else str(entity.status_code),
                )
                for entity in job.entities
            ],
        )

    def download(self, download_uri: str) -> bytes | str | dict[str, Any]:
        try:
            return self.client.download_execution_data(download_uri)
        except GenesysError as error:
            if error.status is not None and 200 <= error.status < 300:
                # The download arrived but is not a JSON object (truncated, garbled): hand the
                # parser something that says so, so the report shows a gap, not a lost run.
                return f"<undecodable execution data document: {error}>"
            raise DownloadFailedError(
                f"download failed: {error}", status_code=None if error.status is None else str(error.status)
            ) from None


def _row(instance: FlowInstance) -> dict[str, Any]:
    return instance.model_dump(mode="json", by_alias=True, exclude_none=True)
