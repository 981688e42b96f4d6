"""`ScanSource` over the real `GenesysClient` (only the endpoints genesys-api.md lists).

Records are handed to the scan as the API shapes them (camelCase JSON) so the scan's own
checks name a malformed record by page and position.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowops.genesys.errors import (
    BadRequestError,
    ForbiddenError,
    GenesysError,
    NotFoundError,
    find_missing_permission,
)
from flowops.lock.models import UnreadReason
from flowops.scan.errors import FlowDependenciesUnreadable

if TYPE_CHECKING:
    from flowops.genesys.client import GenesysClient

DATA_ACTIONS_PAGE_SIZE = 100


@dataclass(frozen=True)
class ApiFlowsPage:
    entities: list[Mapping[str, Any]]
    page_count: int
    total: int


class GenesysScanSource:
    def __init__(self, client: GenesysClient) -> None:
        self.client = client

    @property
    def total_api_calls(self) -> int:
        return self.client.total_api_calls

    def dependency_build_status(self) -> Mapping[str, Any]:
        return self.client.get_dependency_tracking_status().to_api()

    def start_dependency_rebuild(self) -> None:
        self.client.rebuild_dependency_tracking()

    def flows_page(self, page_number: int, page_size: int) -> ApiFlowsPage:
        # Sorted by id so a flow keeps its page while the scan's Map reads pages in parallel.
        page = self.client.list_flows_page(
            page_number=page_number, page_size=page_size, sort_by="id", sort_order="asc"
        )
        return ApiFlowsPage(
            entities=[flow.to_api() for flow in page.entities],
            page_count=page.page_count or 0,
            total=page.total or 0,
        )

    def consumed_resources(
        self,
        flow_id: str,
        version: str,
        object_type: str,
        resource_types: Sequence[str] | None = None,
    ) -> list[Mapping[str, Any]]:
        try:
            return [
                dependency.to_api()
                for dependency in self.client.iter_consumed_resources(
                    flow_id, version=version, object_type=object_type, resource_types=resource_types
                )
            ]
        except GenesysError as error:
            unreadable = per_flow_failure(error)
            if unreadable is None:
                raise
            raise unreadable from error

    def flow_visibility(self, flow_id: str) -> str:
        try:
            self.client.get_flow(flow_id)
        except NotFoundError:
            return "missing"
        except ForbiddenError:
            # Any 403, even one naming architect:flow:view (as the division case answers): the
            # listing this scan already took needs that very permission, so the role has it and
            # what is refused is this flow's division.
            return "not_visible"
        return "visible"

    def data_actions(self) -> list[Mapping[str, Any]]:
        # 100 per page: the page size the integrations listing is documented and tested with.
        return [action.to_api() for action in self.client.iter_actions(page_size=DATA_ACTIONS_PAGE_SIZE)]


def per_flow_failure(error: GenesysError) -> FlowDependenciesUnreadable | None:
    """The error as one flow's unread reason, or None when it concerns the whole org.

    404 is the platform's answer for a version the index does not know ("Could not find the
    dependency object with specified ID and version": deleted or re-published after listing, or
    never indexed). A 403 that names a permission is the OAuth client's role (every flow would
    answer it: the scan must fail); one that names none is this flow's division. Any other 4xx
    concerns the flow's own parameters. 401, 429 and 5xx (after the client's retries) are never
    per flow.
    """
    detail = error.message
    if isinstance(error, NotFoundError):
        return FlowDependenciesUnreadable(UnreadReason.NOT_INDEXED, detail)
    if isinstance(error, ForbiddenError):
        if find_missing_permission(error.body, None) is not None:
            return None
        return FlowDependenciesUnreadable(UnreadReason.FORBIDDEN, detail)
    if isinstance(error, BadRequestError):
        return FlowDependenciesUnreadable(UnreadReason.REFUSED, detail)
    return None
