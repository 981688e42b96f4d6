"""One simulator + one LocalCloud shared by many executions (fault campaign, publish bench).

The world is built once and reused: a small org in the Genesys simulator on accelerated time,
the synthesized stack in moto with the real handlers, a first scan so a current lock exists.
Between runs only the injected conditions are undone (faults, locks, index status); the org and
the stores keep evolving the way a real org does over a series of releases.

The botocore loader cache (one parsed copy of botocore's service models for every session of
the process) lives in `flowops.local.runtime.botocore_cache`; LocalCloud installs it while it runs, and
the world holds it from before the synthesis to after the cloud stops.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

ORG_KEY_ENV = "FLOWOPS_ORG"
ENVIRONMENT = "test"
SCAN_STATE_MACHINE = "ScanWorkflow/StateMachine"
PUBLISH_STATE_MACHINE = "PublishWorkflow/StateMachine"
MAIN_FLOW = "f-main"
SALES_FLOW = "f-sales"
MODULE_FLOW = "m-menu"
PUBLISHABLE_FLOWS = (MAIN_FLOW, SALES_FLOW)
SUBSTITUTIONS = {"brand": "Example Corp", "release_note": "campaign release"}

# A small org with the shapes that matter to publish and scan: two inbound call flows that the
# pipeline publishes (one through a common module), a module, a flow still using a deleted queue,
# a transfer cycle between two flows, and a queue nobody uses yet.
ORG_DOCUMENT: dict[str, Any] = {
    "objects": [
        {"id": "q-support", "name": "Support", "type": "QUEUE"},
        {"id": "q-sales", "name": "Sales", "type": "QUEUE"},
        {"id": "q-old", "name": "Old Queue", "type": "QUEUE", "deleted": True},
        {"id": "da-lookup", "name": "Lookup Customer", "type": "DATAACTION"},
    ],
    "flows": [
        {
            "id": MODULE_FLOW,
            "name": "Shared Menu",
            "type": "COMMONMODULE",
            "publishedVersion": 1,
            "consumes": [{"id": "q-support", "type": "QUEUE"}],
        },
        {
            "id": MAIN_FLOW,
            "name": "Main IVR",
            "type": "INBOUNDCALL",
            "publishedVersion": 2,
            "consumes": [
                {"id": "q-support", "type": "QUEUE"},
                {"id": MODULE_FLOW, "type": "COMMONMODULEFLOW"},
                {"id": "da-lookup", "type": "DATAACTION"},
            ],
        },
        {
            "id": SALES_FLOW,
            "name": "Sales Line",
            "type": "INBOUNDCALL",
            "publishedVersion": 1,
            "consumes": [{"id": "q-sales", "type": "QUEUE"}],
        },
        {
            "id": "f-after-hours",
            "name": "After Hours",
            "type": "INBOUNDCALL",
            "publishedVersion": 1,
            "consumes": [{"id": "q-support", "type": "QUEUE"}, {"id": "q-old", "type": "QUEUE"}],
        },
        {
            "id": "f-overflow-a",
            "name": "Overflow A",
            "type": "INBOUNDCALL",
            "publishedVersion": 1,
            "consumes": [{"id": "q-support", "type": "QUEUE"}],
        },
    ],
}


def flow_yaml(name: str, *, queue: str, release: str, with_module: bool) -> str:
    """A new version of an inbound call flow as a developer commits it (placeholders included)."""
    module = (
        """      - callCommonModule:
          name: Call Shared Menu
          commonModule:
            Shared Menu:
              ver_latestPublished:
                inputs: {}
                outputs: {}
"""
        if with_module
        else ""
    )
    return f"""inboundCall:
  name: {name}
  description: "{name} - {{{{release_note}}}} {release}"
  division: Home
  defaultLanguage: en-us
  supportedLanguages:
    en-us:
      defaultLanguageSkill:
        noValue: true
  startUpRef: /inboundCall/tasks/task[main]
  initialGreeting:
    tts: Welcome to {{{{brand}}}}, release {release}.
  tasks:
  - task:
      name: Main
      refId: main
      actions:
      - transferToAcd:
          name: Transfer to {queue}
          targetQueue:
            lit:
              name: {queue}
          preTransferAudio:
            tts: Please hold.
          failureTransferAudio:
            tts: Sorry, the transfer failed.
          priority:
            lit: 0
          preferredAgents:
            noValue: true
          languageSkill:
            noValue: true
{module}      - disconnect:
          name: Disconnect
"""


PUBLISH_SOURCES: dict[str, dict[str, Any]] = {
    MAIN_FLOW: {"name": "Main IVR", "queue": "Support", "with_module": True},
    SALES_FLOW: {"name": "Sales Line", "queue": "Sales", "with_module": False},
}


# ---- handler hooks -----------------------------------------------------------------------------


class HandlerHooks:
    """Run an action once right before a real publish/scan handler runs.

    The local runtime resolves a function's dotted handler on every invocation, so replacing the
    module's `handler` attribute is what the state machine's Lambda calls next.
    """

    def __init__(self) -> None:
        self._restore: list[tuple[Any, Any]] = []

    def before(self, module_path: str, action: Callable[[], None]) -> None:
        module = importlib.import_module(module_path)
        real = module.handler
        fired = threading.Event()

        def handler(event: Any, context: Any) -> Any:
            if not fired.is_set():
                fired.set()
                action()
            return real(event, context)

        self._restore.append((module, real))
        module.handler = handler

    def each(self, module_path: str, action: Callable[[Any], bool]) -> None:
        """Call `action(event)` before every invocation of the handler until it returns True."""
        module = importlib.import_module(module_path)
        real = module.handler
        done = threading.Event()

        def handler(event: Any, context: Any) -> Any:
            if not done.is_set() and action(event):
                done.set()
            return real(event, context)

        self._restore.append((module, real))
        module.handler = handler

    def clear(self) -> None:
        while self._restore:
            module, real = self._restore.pop()
            module.handler = real


# ---- the world ---------------------------------------------------------------------------------


@dataclass
class World:
    """The simulator and the local cloud, plus readers for what runs leave behind."""

    sim: Any
    cloud: Any
    time_scale: float
    hooks: HandlerHooks = field(default_factory=HandlerHooks)

    @property
    def env(self) -> dict[str, str]:
        return dict(self.cloud.function_environment("ValidatePublish"))

    @property
    def org(self) -> str:
        return self.env[ORG_KEY_ENV]

    @property
    def bucket(self) -> str:
        return self.env["ARTIFACTS_BUCKET"]

    # -- runs ------------------------------------------------------------------------------------

    def publish_input(
        self, name: str, flow_id: str, *, timing: dict[str, Any] | None = None, yaml: str | None = None
    ) -> dict[str, Any]:
        flow = self.sim.org.flows[flow_id]
        source = PUBLISH_SOURCES[flow_id]
        if yaml is None:
            yaml = flow_yaml(
                source["name"], queue=source["queue"], release=name, with_module=source["with_module"]
            )
        body: dict[str, Any] = {
            "delivery_id": f"delivery-{name}",
            "execution_name": name,
            "org": self.org,
            "environment": ENVIRONMENT,
            "flow": {"id": flow.id, "name": flow.name, "type": flow.flow_type},
            "source": {"kind": "inline", "yaml": yaml},
            "requester": "campaign@example.com",
            "reason": f"campaign {name}",
            "force_unlock": False,
            "allow_drift": False,
            "received_at": datetime.now(UTC).isoformat(),
        }
        if timing:
            body["timing"] = timing
        return body

    def start(self, state_machine: str, execution_input: dict[str, Any], name: str) -> str:
        arn = self.cloud.state_machine_arn(state_machine)
        started = self.cloud.sfn.start_execution(
            stateMachineArn=arn, name=name, input=json.dumps(execution_input)
        )
        return str(started["executionArn"])

    def wait(self, execution_arn: str, timeout: float) -> Any:
        from flowops.local.runtime.execution import wait_for_execution

        return wait_for_execution(self.cloud, execution_arn, timeout=timeout, poll_interval=0.05)

    def scan(self, name: str | None = None, *, timeout: float = 180, **request: Any) -> Any:
        request.setdefault("page_size", 50)
        from flowops.scan.models import MAX_INDEX_DEADLINE_SECONDS

        request.setdefault("index_deadline_seconds", MAX_INDEX_DEADLINE_SECONDS)
        arn = self.start(SCAN_STATE_MACHINE, request, name or f"scan-{uuid.uuid4().hex[:10]}")
        return self.wait(arn, timeout)

    # -- the org ---------------------------------------------------------------------------------

    def sim_flow(self, flow_id: str) -> dict[str, Any]:
        response = requests.get(f"{self.sim.url}/__sim/flows/{flow_id}", timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def flow_state(self, flow_id: str) -> tuple[str, bool, str | None]:
        """(name, deleted, published version) of a flow, deleted or not."""
        with self.sim.state.lock:
            flow = self.sim.org.flows[flow_id]
            return flow.name, flow.deleted, flow.published_version_id

    def rename_flow(self, flow_id: str, name: str) -> None:
        with self.sim.state.lock:
            self.sim.org.flows[flow_id].name = name

    def set_flow_deleted(self, flow_id: str, deleted: bool) -> None:
        with self.sim.state.lock:
            self.sim.org.flows[flow_id].deleted = deleted

    def flows_named(self, name: str) -> list[str]:
        """Ids of the flows (not deleted) called `name`."""
        with self.sim.state.lock:
            return sorted(
                flow.id
                for flow in self.sim.org.flows.values()
                if not flow.deleted and flow.name.strip().lower() == name.strip().lower()
            )

    def remove_flow(self, flow_id: str) -> None:
        """Mark a flow deleted (containment of a stray flow a violation already reported)."""
        self.set_flow_deleted(flow_id, True)

    def published_versions(self) -> dict[str, str | None]:
        with self.sim.state.lock:
            return {
                flow.id: flow.published_version_id for flow in self.sim.org.flows.values() if not flow.deleted
            }

    def lock_flow_in_architect(self, flow_id: str) -> None:
        from flowops.local.simulator.model import Principal

        with self.sim.state.lock:
            self.sim.org.flows[flow_id].locked_by = Principal(
                "u-jane", "Jane Architect", "architect-ui", "Architect UI"
            )

    def unlock_all_flows(self) -> None:
        with self.sim.state.lock:
            for flow in self.sim.org.flows.values():
                flow.locked_by = None

    def set_index_status(self, status: str) -> None:
        with self.sim.state.lock:
            self.sim.state.set_index_status(status)

    def stick_architect_jobs(self) -> None:
        """Architect jobs stay `Started` (the simulator's `job=stuck` fault), other faults kept."""
        with self.sim.state.lock:
            self.sim.state.faults.jobs_stuck = True

    def unstick_architect_jobs(self) -> None:
        """Clear only `job=stuck`: the held jobs finish at the next request, other faults stay."""
        with self.sim.state.lock:
            self.sim.state.faults.jobs_stuck = False

    def heal(self) -> None:
        """Undo every injected condition (the org and the stores keep their state)."""
        self.hooks.clear()
        self.sim.set_faults("")
        self.unlock_all_flows()
        self.set_index_status("OPERATIONAL")

    # -- the stores ------------------------------------------------------------------------------

    def artifact(self, key: str) -> bytes:
        return bytes(self.cloud.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def artifact_keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        paginator = self.cloud.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(keys)

    def pointer(self) -> Any:
        from flowops.store import LockPointerStore

        return LockPointerStore(self.env["STATE_TABLE"], self.cloud.dynamodb).get_current(self.org)

    def run_item(self, run_id: str) -> Any:
        from flowops.store import RunStore

        return RunStore(self.env["STATE_TABLE"], self.cloud.dynamodb).get(run_id)

    def audit_events(self, since: str | None = None) -> list[Any]:
        """Audit events of the org, from the ISO timestamp `since` on (all without it)."""
        from flowops.store import AuditLog

        return list(AuditLog(self.env["AUDIT_TABLE"], self.cloud.dynamodb).list_events(self.org, since))

    def lease_holder(self, flow_id: str) -> Any:
        from flowops.publish.lease import PublishLeaseStore

        return PublishLeaseStore(self.env["STATE_TABLE"], self.cloud.dynamodb).holder(self.org, flow_id)

    def drop_lease(self, flow_id: str, run_id: str) -> None:
        from flowops.publish.lease import PublishLeaseStore

        PublishLeaseStore(self.env["STATE_TABLE"], self.cloud.dynamodb).release(self.org, flow_id, run_id)

    def put_substitutions(self) -> None:
        self.cloud.s3.put_object(
            Bucket=self.bucket,
            Key=f"config/{self.org}/substitutions/{ENVIRONMENT}.json",
            Body=json.dumps(SUBSTITUTIONS).encode(),
        )


# Handlers log JSON lines and EMF metrics to stdout; a benchmark prints tables instead.
QUIET_HANDLERS = {"POWERTOOLS_LOG_LEVEL": "CRITICAL", "POWERTOOLS_METRICS_DISABLED": "true"}

_FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


def _quiet_python_logging() -> None:
    import logging
    import warnings

    # moto logs every failed execution (a rollback is an expected outcome here) with its stack.
    for name in ("moto", "moto.stepfunctions", "botocore", "werkzeug"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", message="No application metrics to publish")


@contextlib.contextmanager
def open_world(
    *, time_scale: float = 300.0, template: dict[str, Any] | None = None, quiet: bool = True
) -> Iterator[World]:
    """Start the simulator (the small org above) and a LocalCloud, put the substitutions, scan once."""
    from flowops.clock import ScaledClock
    from flowops.local.runtime.botocore_cache import shared_botocore_loader_cache
    from flowops.local.runtime.cloud import LOCAL_GENESYS_CREDENTIALS, LocalCloud
    from flowops.local.simulator import SimulatorServer
    from flowops.local.simulator.orgfile import parse_org_document

    # Never reach a real AWS account from a benchmark, whatever the shell exports.
    quiet_env = QUIET_HANDLERS if quiet else {}
    saved = {
        name: os.environ.get(name) for name in (*_FAKE_AWS_ENV, *quiet_env, "AWS_PROFILE", "AWS_ENDPOINT_URL")
    }
    os.environ.update(_FAKE_AWS_ENV)
    # Before any handler module is imported: powertools reads the log level when it builds the logger.
    os.environ.update(quiet_env)
    if quiet:
        _quiet_python_logging()
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    client_id, client_secret = LOCAL_GENESYS_CREDENTIALS
    clock = ScaledClock(time_scale)
    try:
        with shared_botocore_loader_cache():  # also covers the synthesis and the simulator
            if template is None:
                from flowops.local.runtime.synth import synth_template

                template = synth_template()
            sim = SimulatorServer(
                parse_org_document(ORG_DOCUMENT),
                clock=clock,
                client_id=client_id,
                client_secret=client_secret,
            ).start()
            cloud = LocalCloud(
                template=template,
                genesys_base_url=sim.url,
                env_overrides={"FLOWOPS_TIME_SCALE": str(time_scale), **(QUIET_HANDLERS if quiet else {})},
            )
            try:
                cloud.start()
                world = World(sim=sim, cloud=cloud, time_scale=time_scale)
                world.put_substitutions()
                first = world.scan("scan-baseline")
                if first.status != "SUCCEEDED":
                    raise RuntimeError(f"the baseline scan failed: {first.error}: {first.cause}")
                yield world
            finally:
                cloud.stop()
                sim.stop()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
