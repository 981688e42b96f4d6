"""An in-memory Genesys for the publish core: flows, versions, actions, jobs (no network)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from flowops.genesys.errors import ForbiddenError, NotFoundError
from flowops.genesys.models import (
    Action,
    ActionDraftValidation,
    ArchitectJob,
    ArchitectJobRegistration,
    Dependency,
    ExportJob,
    ExportJobRegistration,
    Flow,
    FlowVersion,
    Operation,
    Page,
    ValidateJob,
)
from flowops.genesys.objects import NamedObject
from flowops.lock.models import LockedDependency, LockedFlow, LockedObject, Lockfile
from flowops.publish.models import PublishRunRequest

T = TypeVar("T")


def flow(
    flow_id: str, name: str, flow_type: str = "INBOUNDCALL", version: str | None = "2.0", **extra: Any
) -> Flow:
    published = FlowVersion(id=version) if version else None
    return Flow(id=flow_id, name=name, type=flow_type, published_version=published, **extra)


class FakeGenesys:
    def __init__(
        self,
        flows: Sequence[Flow] = (),
        actions: Sequence[str] = (),
        objects: Sequence[tuple[str, NamedObject]] = (),
    ) -> None:
        self.flows = {f.id: f for f in flows}
        self.actions = set(actions)
        # (object type, object) pairs the name lookups answer from
        self.objects: list[tuple[str, NamedObject]] = list(objects)
        self.forbidden_types: set[str] = set()
        self.invalid_drafts: dict[str, str] = {}
        self.forbidden_drafts = False  # the client lacks integrations:action:edit
        self.jobs: dict[str, ArchitectJob] = {}
        self.unlocked: list[str] = []
        self.validate_messages: list[dict[str, str]] = []
        self.calls: list[str] = []
        self.exports: dict[tuple[str, str], str] = {}
        """What an export of (flow id, version) downloads."""

    def get_flow(self, flow_id: str) -> Flow:
        self.calls.append(f"get_flow {flow_id}")
        if flow_id not in self.flows:
            raise NotFoundError(f"no flow {flow_id}", status=404)
        return self.flows[flow_id]

    def list_flows_page(
        self, *, name: str | None = None, flow_types: Sequence[str] | None = None, **_: Any
    ) -> Page[Flow]:
        found = [
            f
            for f in self.flows.values()
            if (name is None or (f.name or "").lower() == name.lower())
            and (not flow_types or f.type in flow_types)
        ]
        return Page[Flow](entities=found, page_count=1, page_number=1)

    def get_flow_version(self, flow_id: str, version_id: str) -> FlowVersion:
        return FlowVersion(id=version_id)

    def unlock_flow(self, flow_id: str) -> Flow:
        self.unlocked.append(flow_id)
        return self.flows[flow_id]

    def publish_flow(self, flow_id: str, *, version: str | None = None) -> Operation:
        return Operation(id="op-1", complete=False, action_status="STARTED")

    def deploy_flow_yaml(
        self, flow_yaml: str | bytes, *, create_stubs: bool | None = None
    ) -> ArchitectJobRegistration:
        job_id = f"job-{len(self.jobs) + 1}"
        self.jobs[job_id] = ArchitectJob(id=job_id, status="Registered")
        return ArchitectJobRegistration(id=job_id, presigned_url="http://127.0.0.1/upload", headers={})

    def register_architect_job(self, *, create_stubs: bool | None = None) -> ArchitectJobRegistration:
        job_id = f"job-{len(self.jobs) + 1}"
        self.jobs[job_id] = ArchitectJob(id=job_id, status="Registered")
        return ArchitectJobRegistration(id=job_id, presigned_url="http://127.0.0.1/upload", headers={})

    def upload_architect_job_file(
        self, registration: ArchitectJobRegistration, flow_yaml: str | bytes
    ) -> None:
        self.jobs[registration.id] = ArchitectJob(id=registration.id, status="Started")

    def get_architect_job(self, job_id: str) -> ArchitectJob:
        if job_id not in self.jobs:
            raise NotFoundError(f"no job {job_id}", status=404)
        return self.jobs[job_id]

    def list_flow_versions_page(
        self, flow_id: str, *, page_number: int = 1, page_size: int = 100
    ) -> Page[FlowVersion]:
        return Page[FlowVersion](entities=[], total=0)

    def delete_flow(self, flow_id: str) -> None:
        self.flows.pop(flow_id, None)

    def start_export_job(self, flow_id: str, version: str, **_: Any) -> ExportJobRegistration:
        self.calls.append(f"start_export_job {flow_id} {version}")
        return ExportJobRegistration(id=f"export|{flow_id}|{version}")

    def get_export_job(self, job_id: str) -> ExportJob:
        self.calls.append(f"get_export_job {job_id}")
        _, flow_id, version = job_id.split("|")
        return ExportJob(id=job_id, status="Success", download_url=f"fake://{flow_id}/{version}")

    def download_export(self, download_url: str) -> str:
        flow_id, version = download_url.removeprefix("fake://").split("/")
        return self.exports[(flow_id, version)]

    def start_validate_job(self, flows: Sequence[tuple[str, str | None]]) -> ValidateJob:
        self.calls.append(f"start_validate_job {list(flows)}")
        return ValidateJob(id="validate-1", status="Registered")

    def get_validate_job(self, job_id: str) -> ValidateJob:
        self.calls.append(f"get_validate_job {job_id}")
        return ValidateJob.model_validate(
            {"id": job_id, "status": "Success", "messages": self.validate_messages}
        )

    def get_action(self, action_id: str) -> Action:
        if action_id not in self.actions:
            raise NotFoundError(f"no action {action_id}", status=404)
        return Action(id=action_id)

    def get_action_draft_validation(self, action_id: str) -> ActionDraftValidation:
        if self.forbidden_drafts:
            raise ForbiddenError("refused", missing_permissions=("integrations:action:edit",), status=403)
        if action_id not in self.invalid_drafts:
            raise NotFoundError("no draft", status=404)
        return ActionDraftValidation.model_validate(
            {"valid": False, "errors": [{"message": self.invalid_drafts[action_id]}]}
        )

    def find_objects_named(self, object_type: str, names: Sequence[str]) -> list[NamedObject]:
        """Like the real listings: name filters ignore case (data actions: by integration)."""
        from flowops.genesys.errors import ForbiddenError

        self.calls.append(f"find {object_type} {list(names)}")
        if object_type in self.forbidden_types:
            raise ForbiddenError("missing permission", status=403)
        wanted = {name.lower() for name in names}
        if object_type == "DATAACTION":
            return [o for t, o in self.objects if t == object_type and (o.category or "").lower() in wanted]
        return [o for t, o in self.objects if t == object_type and (o.name or "").lower() in wanted]

    def iter_consumed_resources(self, object_id: str, **_: Any) -> Iterator[Dependency]:
        return iter(())

    def wait_until(self, fetch: Callable[[], T], done: Callable[[T], bool], **_: Any) -> T:
        result = fetch()
        assert done(result)
        return result


def org_lock(*, main_version: str = "2.0", caller_transfers_to_main: bool = False) -> Lockfile:
    """Main IVR (f-main) uses queue Support, module Shared Menu, data action Lookup; f-caller
    optionally transfers to Main IVR; a deleted queue Old Queue is known from f-caller."""
    caller_consumes = [LockedDependency(id="q-old", type="QUEUE", name="Old Queue")]
    if caller_transfers_to_main:
        caller_consumes.append(LockedDependency(id="f-main", type="INBOUNDCALLFLOW", name="Main IVR"))
    return Lockfile(
        org="dev",
        flows=[
            LockedFlow(id="m-menu", name="Shared Menu", type="COMMONMODULE", published_version="1.0"),
            LockedFlow(
                id="f-main",
                name="Main IVR",
                type="INBOUNDCALL",
                published_version=main_version,
                consumes=[
                    LockedDependency(id="q-support", type="QUEUE", name="Support"),
                    LockedDependency(id="m-menu", type="COMMONMODULEFLOW", name="Shared Menu"),
                    LockedDependency(id="da-lookup", type="DATAACTION", name="Lookup Customer"),
                ],
            ),
            LockedFlow(
                id="f-caller",
                name="Caller",
                type="INBOUNDCALL",
                published_version="1.0",
                consumes=caller_consumes,
            ),
        ],
        objects=[
            LockedObject(id="q-support", name="Support", type="QUEUE"),
            LockedObject(id="q-old", name="Old Queue", type="QUEUE", deleted=True),
            LockedObject(id="m-menu", name="Shared Menu", type="COMMONMODULEFLOW", version="1.0"),
            LockedObject(id="da-lookup", name="Lookup Customer", type="DATAACTION", version="3"),
            LockedObject(id="f-main", name="Main IVR", type="INBOUNDCALLFLOW", version=main_version),
        ],
    )


def org_genesys(**main_extra: Any) -> FakeGenesys:
    return FakeGenesys(
        flows=[
            flow("f-main", "Main IVR", **main_extra),
            flow("m-menu", "Shared Menu", "COMMONMODULE", "1.0"),
            flow("f-caller", "Caller", version="1.0"),
        ],
        actions=["da-lookup"],
        objects=[
            ("QUEUE", NamedObject(id="q-support", name="Support")),
            (
                "DATAACTION",
                NamedObject(id="da-lookup", name="Lookup Customer", category="Genesys Cloud Data Actions"),
            ),
        ],
    )


def request(yaml: str | None, **overrides: Any) -> PublishRunRequest:
    body: dict[str, Any] = {
        "delivery_id": "d-1",
        "execution_name": "run-1",
        "org": "dev",
        "environment": "test",
        "flow": {"id": "f-main", "name": "Main IVR", "type": "INBOUNDCALL"},
        "source": {"kind": "inline", "yaml": yaml}
        if yaml is not None
        else {"kind": "version", "version": "2.0"},
        "requester": "ci",
        "reason": "unit test",
        "force_unlock": False,
        "allow_drift": False,
        "received_at": "2025-01-06T00:00:00+00:00",
    }
    body.update(overrides)
    return PublishRunRequest.model_validate(body)


def main_yaml(
    *, name: str = "Main IVR", queue: str = "Support", extra_actions: str = "", unreachable: bool = False
) -> str:
    orphan = (
        """
  - task:
      name: Orphan
      refId: orphan
      actions:
      - disconnect:
          name: Bye
"""
        if unreachable
        else ""
    )
    return f"""inboundCall:
  name: {name}
  division: Home
  defaultLanguage: en-us
  startUpRef: /inboundCall/tasks/task[main]
  initialGreeting:
    tts: Welcome to {{{{brand}}}}.
  tasks:
  - task:
      name: Main
      refId: main
      actions:
      - transferToAcd:
          name: To queue
          targetQueue:
            lit:
              name: {queue}
      - callCommonModule:
          name: Call Shared Menu
          commonModule:
            Shared Menu:
              ver_latestPublished:
                inputs: {{}}
                outputs: {{}}{extra_actions}
      - disconnect:
          name: Disconnect{orphan}
"""
