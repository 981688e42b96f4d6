"""Shared pieces of the publish e2e tests: a small org in the simulator, a scanned lock in the
local cloud, execution inputs, and readers for what a run leaves behind (run item, artifacts,
audit events, lease, SNS messages)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from flowops.local.runtime.cloud import LOCAL_GENESYS_CREDENTIALS

PUBLISH_STATE_MACHINE = "PublishWorkflow/StateMachine"
SCAN_STATE_MACHINE = "ScanWorkflow/StateMachine"
TIME_SCALE = 60.0
ENVIRONMENT = "test"
MAIN_FLOW = "f-main"
OTHER_FLOW = "f-other"
MODULE_FLOW = "m-menu"

# A small org: a main IVR (published version 2) using a queue, a module and a data action; a
# second inbound flow still using a deleted queue; one more queue nobody uses yet.
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
            "id": OTHER_FLOW,
            "name": "After Hours",
            "type": "INBOUNDCALL",
            "publishedVersion": 1,
            "consumes": [{"id": "q-support", "type": "QUEUE"}, {"id": "q-old", "type": "QUEUE"}],
        },
    ],
}

SUBSTITUTIONS = {"brand": "Example Corp", "release_note": "spring release"}


def new_main_yaml(greeting: str = "Welcome to {{brand}}.", queue: str = "Support") -> str:
    """Version 3 of Main IVR as a developer would commit it (placeholders unsubstituted)."""
    return f"""inboundCall:
  name: Main IVR
  description: "Main IVR - {{{{release_note}}}}"
  division: Home
  defaultLanguage: en-us
  supportedLanguages:
    en-us:
      defaultLanguageSkill:
        noValue: true
  startUpRef: /inboundCall/tasks/task[main]
  initialGreeting:
    tts: {greeting}
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
      - callCommonModule:
          name: Call Shared Menu
          commonModule:
            Shared Menu:
              ver_latestPublished:
                inputs: {{}}
                outputs: {{}}
      - disconnect:
          name: Disconnect
"""


def cli_connection(cloud: Any, environment: dict[str, str], genesys_base_url: str) -> Any:
    """What `connect()` answers for this local cloud (the CLI commands' view of it), from a
    function's environment."""
    from flowops.cli.local_cloud import CloudConnection

    return CloudConnection(
        region=cloud.region,
        org=environment["FLOWOPS_ORG"],
        artifacts_bucket=environment["ARTIFACTS_BUCKET"],
        state_table=environment["STATE_TABLE"],
        audit_table=environment["AUDIT_TABLE"],
        genesys_base_url=genesys_base_url,
    )


@dataclass
class PublishWorld:
    sim: Any
    cloud: Any

    # -- environment ---------------------------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        return self.cloud.function_environment("ValidatePublish")

    @property
    def org(self) -> str:
        return self.env["FLOWOPS_ORG"]

    def connection(self) -> Any:
        return cli_connection(self.cloud, self.env, self.sim.url)

    def scan(self) -> Any:
        result = self.cloud.start_and_wait(
            SCAN_STATE_MACHINE, {"page_size": 50}, name=f"scan-{uuid.uuid4().hex[:8]}", timeout=120
        )
        assert result.status == "SUCCEEDED", result.cause
        return result

    def put_substitutions(self, environment: str = ENVIRONMENT, values: dict[str, str] | None = None) -> None:
        self.cloud.s3.put_object(
            Bucket=self.env["ARTIFACTS_BUCKET"],
            Key=f"config/{self.org}/substitutions/{environment}.json",
            Body=json.dumps(values if values is not None else SUBSTITUTIONS).encode(),
        )

    # -- running -------------------------------------------------------------------------------

    def request(
        self, name: str, *, flow_id: str = MAIN_FLOW, yaml: str | None = None, **overrides: Any
    ) -> dict[str, Any]:
        flow = self.sim.org.flows[flow_id]
        source: dict[str, Any] = {"kind": "inline", "yaml": yaml if yaml is not None else new_main_yaml()}
        if "version" in overrides:
            source = {"kind": "version", "version": overrides.pop("version")}
        body: dict[str, Any] = {
            "delivery_id": f"delivery-{name}",
            "execution_name": name,
            "org": self.org,
            "environment": ENVIRONMENT,
            "flow": {"id": flow.id, "name": flow.name, "type": flow.flow_type},
            "source": source,
            "requester": "ci@example.com",
            "reason": f"e2e {name}",
            "force_unlock": False,
            "allow_drift": False,
            "received_at": datetime.now(UTC).isoformat(),
        }
        body.update(overrides)
        return body

    def publish(self, name: str, *, timeout: float = 120, **request: Any) -> Any:
        return self.cloud.start_and_wait(
            PUBLISH_STATE_MACHINE, self.request(name, **request), name=name, timeout=timeout
        )

    # -- what a run leaves behind ---------------------------------------------------------------

    def sim_flow(self, flow_id: str = MAIN_FLOW) -> dict[str, Any]:
        response = requests.get(f"{self.sim.url}/__sim/flows/{flow_id}", timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def published_yaml(self, flow_id: str = MAIN_FLOW) -> str:
        flow = self.sim_flow(flow_id)
        (version,) = [v for v in flow["versions"] if v["id"] == flow["publishedVersion"]]
        return str(version["yaml"])

    def run_item(self, run_id: str) -> Any:
        from flowops.store import RunStore

        return RunStore(self.env["STATE_TABLE"], self.cloud.dynamodb).get(run_id)

    def audit_kinds(self, run_id: str) -> list[str]:
        from flowops.store import AuditLog

        events = AuditLog(self.env["AUDIT_TABLE"], self.cloud.dynamodb).list_events(self.org)
        return [event.kind for event in events if event.details.get("run_id") == run_id]

    def lease_holder(self, flow_id: str = MAIN_FLOW) -> Any:
        from flowops.publish.lease import PublishLeaseStore

        return PublishLeaseStore(self.env["STATE_TABLE"], self.cloud.dynamodb).holder(self.org, flow_id)

    def artifact(self, key: str) -> bytes:
        return bytes(self.cloud.s3.get_object(Bucket=self.env["ARTIFACTS_BUCKET"], Key=key)["Body"].read())

    def artifact_keys(self, prefix: str) -> list[str]:
        listing = self.cloud.s3.list_objects_v2(Bucket=self.env["ARTIFACTS_BUCKET"], Prefix=prefix)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def lock(self) -> Any:
        from flowops.lock import parse_lock
        from flowops.store import LockPointerStore

        pointer = LockPointerStore(self.env["STATE_TABLE"], self.cloud.dynamodb).get_current(self.org)
        assert pointer is not None
        return parse_lock(self.artifact(pointer.key), expected_sha256=pointer.sha)

    def counters(self) -> dict[str, int]:
        return dict(self.sim.counters())

    def sns_messages(self) -> list[dict[str, Any]]:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sns import sns_backends

        backend = sns_backends[DEFAULT_ACCOUNT_ID][self.cloud.region]
        messages: list[dict[str, Any]] = []
        for topic in backend.topics.values():
            for message in getattr(topic, "sent_notifications", []):
                messages.append({"topic": topic.arn, "message": message})
        return messages


def with_definition_edit(
    template: dict[str, Any], workflow: str, pattern: str, replacement: str
) -> dict[str, Any]:
    """The template with `pattern` replaced (re.sub) in the definition of the `workflow` machine
    (logical id prefix, e.g. `PublishWorkflow`)."""
    copied = json.loads(json.dumps(template))
    for logical_id, resource in copied["Resources"].items():
        if resource["Type"] == "AWS::StepFunctions::StateMachine" and logical_id.startswith(
            f"{workflow}StateMachine"
        ):
            parts = resource["Properties"]["DefinitionString"]["Fn::Join"][1]
            resource["Properties"]["DefinitionString"]["Fn::Join"][1] = [
                re.sub(pattern, replacement, part) if isinstance(part, str) else part for part in parts
            ]
    return copied


def with_execution_timeout(template: dict[str, Any], workflow: str, seconds: int) -> dict[str, Any]:
    """The template with the execution timeout of the `workflow` machine set to `seconds`: the
    definition's own `TimeoutSeconds`, the one before its `Comment`, not a task's (the release's
    approval task has one)."""
    return with_definition_edit(
        template, workflow, r'"TimeoutSeconds":\d+(,"Comment")', f'"TimeoutSeconds":{seconds}\\1'
    )


def start_org_and_cloud(
    start_simulator: Callable[..., Any],
    local_cloud_factory: Callable[..., Any],
    org_document: dict[str, Any],
    *,
    time_scale: float,
    env_overrides: dict[str, str] | None = None,
    **sim: Any,
) -> tuple[Any, Any]:
    """A simulated org (from `org_document`, with the local cloud's Genesys credentials) and a
    local cloud whose functions call it, both on the same time scale."""
    from flowops.local.simulator.orgfile import parse_org_document

    client_id, client_secret = LOCAL_GENESYS_CREDENTIALS
    server = start_simulator(
        parse_org_document(org_document),
        client_id=client_id,
        client_secret=client_secret,
        time_scale=time_scale,
        **sim,
    )
    cloud = local_cloud_factory(
        genesys_base_url=server.url,
        env_overrides={"FLOWOPS_TIME_SCALE": str(time_scale), **(env_overrides or {})},
    )
    return server, cloud


def start_world(
    start_simulator: Callable[..., Any],
    local_cloud_factory: Callable[..., Any],
    *,
    time_scale: float = TIME_SCALE,
    scan: bool = True,
    **sim: Any,
) -> PublishWorld:
    server, cloud = start_org_and_cloud(
        start_simulator, local_cloud_factory, ORG_DOCUMENT, time_scale=time_scale, **sim
    )
    world = PublishWorld(server, cloud)
    world.put_substitutions()
    if scan:
        world.scan()
    return world
