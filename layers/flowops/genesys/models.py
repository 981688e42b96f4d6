"""Typed views of the Genesys Cloud API documents flowops uses.

Conventions for every model:
- camelCase aliases as the API sends them; Python code uses snake_case (`populate_by_name`).
- `extra="allow"`: fields we do not model are kept (and dumped again), never fatal.
- Enum-like fields are plain `str` with the known values listed in a comment: the platform
  adds values over time, and a new one must not break a scan.
- Dump with `model_dump(by_alias=True, exclude_none=True)` to get API-shaped JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from flowops.genesys.errors import ErrorBody

__all__ = [
    "Action",
    "ActionDraftValidation",
    "ArchitectJob",
    "ArchitectJobMessage",
    "ArchitectJobRegistration",
    "Dependency",
    "DependencyObject",
    "DependencyStatus",
    "DomainEntityRef",
    "ErrorBody",
    "ExecutionDataEntity",
    "ExecutionDataJob",
    "ExecutionDataSettings",
    "ExportJob",
    "ExportJobRegistration",
    "FailedObject",
    "Flow",
    "FlowInstance",
    "FlowInstanceCriteria",
    "FlowInstanceCriteriaGroup",
    "FlowInstanceQuery",
    "FlowVersion",
    "GenesysModel",
    "Operation",
    "Page",
    "UserRef",
    "ValidateJob",
    "genesys_timestamp",
]


def genesys_timestamp(moment: datetime) -> str:
    """`yyyy-MM-ddTHH:mm:ss.SSSZ` (UTC, milliseconds, Z): the date format Genesys documents for
    queries (not `isoformat()`, whose `+00:00` and microseconds it does not promise to accept)."""
    if moment.tzinfo is None:
        raise ValueError("a Genesys timestamp needs a timezone-aware datetime")
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


class GenesysModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, alias_generator=to_camel)

    def to_api(self) -> dict[str, Any]:
        """API-shaped JSON (camelCase, no nulls)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class DomainEntityRef(GenesysModel):
    """`{id, name, selfUri}`: a division, a flow, an OAuth client, ..."""

    id: str | None = None
    name: str | None = None
    self_uri: str | None = None


class UserRef(DomainEntityRef):
    """A user as flows embed it (lockedUser, publishedBy, createdBy...)."""

    username: str | None = None
    email: str | None = None

    def describe(self) -> str:
        label = self.name or self.username or self.email
        if label and self.id:
            return f"{label} ({self.id})"
        return label or self.id or "unknown user"


T = TypeVar("T")


class Page(GenesysModel, Generic[T]):
    """The paging envelope of every Genesys listing (pageNumber is 1-based)."""

    entities: list[T] = Field(default_factory=list)
    page_size: int | None = None
    page_number: int | None = None
    total: int | None = None
    page_count: int | None = None
    first_uri: str | None = None
    next_uri: str | None = None
    previous_uri: str | None = None
    last_uri: str | None = None
    self_uri: str | None = None

    def has_next_page(self) -> bool:
        """Whether another page exists after this one.

        pageCount is authoritative when present; otherwise a nextUri, or a full page, says so.
        """
        if self.page_count is not None and self.page_number is not None:
            return self.page_number < self.page_count
        if self.next_uri:
            return True
        return bool(self.page_size) and len(self.entities) >= (self.page_size or 0) > 0


class FlowVersion(GenesysModel):
    id: str  # "3.0"
    name: str | None = None
    commit_version: str | None = None
    configuration_version: str | None = None
    type: str | None = None  # PUBLISH | CHECKIN | SAVE
    secure: bool | None = None
    debug: bool | None = None
    created_by: UserRef | None = None
    created_by_client: DomainEntityRef | None = None
    # As the API sends them: epoch milliseconds, except datePublished (an ISO date-time).
    date_created: int | None = None
    date_checked_in: int | None = None
    date_saved: int | None = None
    date_published: datetime | None = None
    generation_id: str | None = None
    configuration_uri: str | None = None
    publish_result_uri: str | None = None
    self_uri: str | None = None


class Operation(GenesysModel):
    """An asynchronous flow action (publish, check-in ...)."""

    id: str | None = None
    complete: bool | None = None
    user: UserRef | None = None
    client: DomainEntityRef | None = None
    error_message: str | None = None
    error_code: str | None = None
    error_details: list[dict[str, Any]] | None = None
    error_message_params: dict[str, Any] | None = None
    # CREATE, CHECKIN, CHECKOUT, DEBUG, DELETE, HISTORY, PUBLISH, REVERT, SAVE, STATE_CHANGE,
    # UPDATE, VALIDATE
    action_name: str | None = None
    # LOCKED, UNLOCKED, STARTED, PENDING_GENERATION, PENDING_BACKEND_NOTIFICATION, SUCCESS, FAILURE
    action_status: str | None = None

    @property
    def succeeded(self) -> bool:
        return bool(self.complete) and self.action_status == "SUCCESS"

    @property
    def failed(self) -> bool:
        return self.action_status == "FAILURE"


class Flow(GenesysModel):
    id: str
    name: str | None = None
    division: DomainEntityRef | None = None
    description: str | None = None
    # INBOUNDCALL, INQUEUECALL, OUTBOUNDCALL, INBOUNDCHAT, INBOUNDEMAIL, INBOUNDSHORTMESSAGE,
    # COMMONMODULE, WORKFLOW, WORKITEM, BOT, DIGITALBOT, SECURECALL, SURVEYINVITE, SPEECH, VOICE,
    # VOICEMAIL, INQUEUEEMAIL, INQUEUESHORTMESSAGE, VOICESURVEY, EMAILSEND (see flowtypes.py)
    type: str | None = None
    locked_user: UserRef | None = None
    locked_client: DomainEntityRef | None = None
    active: bool | None = None
    system: bool | None = None
    deleted: bool | None = None
    published_version: FlowVersion | None = None
    saved_version: FlowVersion | None = None
    checked_in_version: FlowVersion | None = None
    debug_version: FlowVersion | None = None
    published_by: UserRef | None = None
    current_operation: Operation | None = None
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    supported_languages: list[dict[str, Any]] | None = None
    self_uri: str | None = None

    @property
    def lock_holder(self) -> str | None:
        """Who holds the lock, in words, or None when the flow is not locked."""
        client = self.locked_client.name or self.locked_client.id if self.locked_client else None
        if self.locked_user is not None:
            user = self.locked_user.describe()
            return f"{user} using client {client}" if client else user
        return f"client {client}" if client else None


class ArchitectJobRegistration(GenesysModel):
    """`POST /api/v2/flows/jobs` answer: PUT the YAML to `presigned_url` with `headers`."""

    id: str
    presigned_url: str
    headers: dict[str, str] = Field(default_factory=dict)
    self_uri: str | None = None

    def __repr__(self) -> str:
        # The presigned URL is a bearer credential for the upload: keep its signature out of logs.
        return f"ArchitectJobRegistration(id={self.id!r})"

    __str__ = __repr__


class ArchitectJobMessage(GenesysModel):
    date_time: datetime | None = None
    type: str | None = None  # Error | Warning
    text: str | None = None
    details: Any = None


class ArchitectJob(GenesysModel):
    """`GET /api/v2/flows/jobs/{id}?expand=messages`."""

    id: str
    flow: DomainEntityRef | None = None
    status: str | None = None  # Registered | Started | Success | Failure
    command: str | None = None  # Publish | Create | Update | Export | Validate
    messages: list[ArchitectJobMessage] = Field(default_factory=list)
    self_uri: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("Success", "Failure")

    @property
    def errors(self) -> list[ArchitectJobMessage]:
        return [message for message in self.messages if (message.type or "").lower() == "error"]


class ExportJobRegistration(GenesysModel):
    """`POST /api/v2/flows/export/jobs` answer."""

    id: str
    self_uri: str | None = None


class ExportJob(GenesysModel):
    """`GET /api/v2/flows/export/jobs/{id}?expand=messages`; `download_url` once Success."""

    id: str
    status: str | None = None  # Registered | Started | Success | Failure
    command: str | None = None
    download_url: str | None = None
    messages: list[ArchitectJobMessage] = Field(default_factory=list)
    self_uri: str | None = None

    def __repr__(self) -> str:
        return f"ExportJob(id={self.id!r}, status={self.status!r})"

    __str__ = __repr__


class ValidateJob(GenesysModel):
    """`POST|GET /api/v2/flows/validate/jobs[/{id}]` (preview API)."""

    id: str
    status: str | None = None  # Registered | Started | Success | Failure
    total_flows: int | None = None
    messages: list[ArchitectJobMessage] = Field(default_factory=list)
    self_uri: str | None = None


class FailedObject(GenesysModel):
    id: str | None = None
    version: str | None = None
    name: str | None = None
    error_code: str | None = None


class DependencyStatus(GenesysModel):
    """`GET /api/v2/architect/dependencytracking/build`."""

    id: str | None = None
    name: str | None = None
    user: UserRef | None = None
    client: DomainEntityRef | None = None
    build_id: str | None = None
    date_started: datetime | None = None
    date_completed: datetime | None = None
    # BUILDINCOMPLETE, BUILDINITIALIZING, BUILDINPROGRESS, BUILDQUEUED, NOTBUILT, OPERATIONAL,
    # OPERATIONALNEEDSREBUILD
    status: str | None = None
    failed_objects: list[FailedObject] = Field(default_factory=list)
    self_uri: str | None = None

    @property
    def operational(self) -> bool:
        """Results are complete only while the index is OPERATIONAL."""
        return self.status == "OPERATIONAL"


class Dependency(GenesysModel):
    id: str
    name: str | None = None
    version: str | None = None
    type: str | None = None  # INBOUNDCALLFLOW, COMMONMODULEFLOW, DATAACTION, QUEUE, ... (86 types)
    deleted: bool | None = None
    updated: bool | None = None
    state_unknown: bool | None = None
    self_uri: str | None = None


class DependencyObject(Dependency):
    consumed_resources: list[Dependency] = Field(default_factory=list)
    consuming_resources: list[Dependency] = Field(default_factory=list)


class ExecutionDataSettings(GenesysModel):
    enabled: bool = False


class FlowInstanceCriteria(GenesysModel):
    """One condition: key FlowId, FlowStartDateTime, FlowEndDateTime, ConversationId, FlowType,
    FlowErrorReason, FlowActionId, ...; operator eq, gt, gte, lt, lte, not, begins, not_null."""

    key: str
    operator: str
    value: str | None = None


class FlowInstanceCriteriaGroup(GenesysModel):
    """A group of conditions. JSON keys are `and`, `or`, `not` (lists) and `criteria` (single)."""

    and_: list[FlowInstanceCriteria] | None = Field(default=None, alias="and")
    or_: list[FlowInstanceCriteria] | None = Field(default=None, alias="or")
    not_: list[FlowInstanceCriteria] | None = Field(default=None, alias="not")
    criteria: FlowInstanceCriteria | None = None


class FlowInstanceQuery(GenesysModel):
    """Body of `POST /api/v2/flows/instances/query` (the SDK's CriteriaQuery)."""

    query: list[FlowInstanceCriteriaGroup]

    @classmethod
    def all_of(cls, *conditions: FlowInstanceCriteria) -> FlowInstanceQuery:
        return cls(query=[FlowInstanceCriteriaGroup(and_=list(conditions))])


class FlowInstance(GenesysModel):
    """A row of the instances query (the SDK's FlowExecutionDataQueryResult).

    Note: `flowType` here is lower case (`inboundcall`), unlike the flows API.
    """

    id: str
    name: str | None = None
    start_date_time: datetime | None = None
    end_date_time: datetime | None = None
    flow_id: str | None = None
    flow_version: str | None = None
    conversation_id: str | None = None
    workitem_id: str | None = None
    flow_type: str | None = None
    flow_error_reason: str | None = None
    flow_warning_reason: str | None = None
    flow_name: str | None = None
    self_uri: str | None = None


class ExecutionDataEntity(GenesysModel):
    id: str
    download_uri: str | None = None
    failed: bool | None = None
    # The SDK types this as a string ("404"); servers have been seen sending a number. Accept both.
    status_code: int | str | None = None

    def __repr__(self) -> str:
        return f"ExecutionDataEntity(id={self.id!r}, failed={self.failed!r})"

    __str__ = __repr__


class ExecutionDataJob(GenesysModel):
    """`POST /api/v2/flows/instances/jobs` and `GET .../jobs/{id}` (GetFlowExecutionDataJobResult)."""

    id: str
    name: str | None = None
    job_state: str | None = None  # Registered | Running | Success | Failed
    entities: list[ExecutionDataEntity] = Field(default_factory=list)
    self_uri: str | None = None

    @property
    def finished(self) -> bool:
        return self.job_state in ("Success", "Failed")


class Action(GenesysModel):
    """A data action (`GET /api/v2/integrations/actions[/{id}]`); `version` is its concurrency token."""

    id: str
    name: str | None = None
    integration_id: str | None = None
    category: str | None = None
    contract: dict[str, Any] | None = None
    version: int | None = None
    secure: bool | None = None
    config: dict[str, Any] | None = None
    self_uri: str | None = None


class ActionDraftValidation(GenesysModel):
    """`GET /api/v2/integrations/actions/{id}/draft/validation`."""

    valid: bool
    errors: list[ErrorBody] = Field(default_factory=list)
