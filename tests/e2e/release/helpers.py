"""A local cloud + simulator for release executions, and readers of what a release leaves behind."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.e2e.publish_helpers import cli_connection, start_org_and_cloud
from tests.integration.release.world import ENV, ORG_DOCUMENT, write_release

RELEASE_STATE_MACHINE = "ReleaseWorkflow/StateMachine"
TIME_SCALE = 120.0


@dataclass
class ReleaseWorld:
    sim: Any
    cloud: Any
    tmp: Path

    @property
    def env(self) -> dict[str, str]:
        return self.cloud.function_environment("PrepareRelease")

    @property
    def org(self) -> str:
        return self.env["FLOWOPS_ORG"]

    def connection(self) -> Any:
        """What `connect()` answers for this local cloud (the CLI commands' view of it)."""
        return cli_connection(self.cloud, self.env, self.sim.url)

    def upload(self, flows: dict[str, str], environments: dict[str, str] | None = None) -> dict[str, str]:
        """Write a release directory, build its bundle and store it content-addressed in S3."""
        from flowops.cli.release import load_bundle
        from flowops.release.bundle import bundle_key

        directory = write_release(self.tmp / f"release-{uuid.uuid4().hex[:6]}", flows, environments)
        bundle = load_bundle(directory)
        key = bundle_key(self.org, bundle.sha256)
        self.cloud.s3.put_object(Bucket=self.env["ARTIFACTS_BUCKET"], Key=key, Body=bundle.canonical_bytes())
        return {"bundle_key": key, "bundle_sha256": bundle.sha256}

    def release(
        self,
        name: str,
        flows: dict[str, str],
        *,
        environments: dict[str, str] | None = None,
        timeout: float = 240,
        **request: Any,
    ) -> Any:
        body = {
            **self.upload(flows, environments),
            "environment": ENV,
            "requester": "ci@example.com",
            "reason": f"e2e {name}",
            "timing": {"validate_job": True},
            **request,
        }
        return self.cloud.start_and_wait(RELEASE_STATE_MACHINE, body, name=name, timeout=timeout)

    # -- the org -------------------------------------------------------------------------------

    def sim_flow(self, flow_id: str) -> dict[str, Any]:
        response = requests.get(f"{self.sim.url}/__sim/flows/{flow_id}", timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def published_versions(self) -> dict[str, str | None]:
        """Every live (not deleted) flow by type/name → its published version."""
        return {
            f"{flow.flow_type}/{flow.name}": flow.published_version_id
            for flow in self.sim.org.flows.values()
            if not flow.deleted
        }

    def org_content(self) -> dict[str, str]:
        """Every live flow by type/name → the normalised content of its published YAML."""
        from flowops.local.simulator.archyaml import render_flow_yaml
        from flowops.release.content import yaml_content_digest

        content: dict[str, str] = {}
        for flow in self.sim.org.flows.values():
            if flow.deleted or flow.published_version_id is None:
                continue
            text = render_flow_yaml(self.sim.org, flow, flow.versions[flow.published_version_id])
            content[f"{flow.flow_type}/{flow.name}"] = str(yaml_content_digest(text))
        return content

    def module_snapshot(self, flow_id: str) -> str | None:
        """The module version the flow's published version was bound to."""
        flow = self.sim.org.flows[flow_id]
        version = flow.versions[str(flow.published_version_id)]
        return next((d.version for d in version.consumes if d.object_type == "COMMONMODULEFLOW"), None)

    # -- the lock ------------------------------------------------------------------------------

    def seed_lock(self) -> None:
        """Make the org's current lock what a scan would record of its flows (their versions; what
        they consume is left out: the tests read versions), without running a scan."""
        from flowops.lock import canonical_bytes, lock_sha256
        from flowops.lock.models import LockedFlow, Lockfile
        from flowops.store import LockPointerStore, lock_key

        lock = Lockfile(
            org=self.org,
            flows=[
                LockedFlow(
                    id=flow.id,
                    name=flow.name,
                    type=flow.flow_type,
                    published_version=flow.published_version_id,
                )
                for flow in self.sim.org.flows.values()
                if not flow.deleted
            ],
        )
        sha = lock_sha256(lock)
        key = lock_key(self.org, sha)
        self.cloud.s3.put_object(Bucket=self.env["ARTIFACTS_BUCKET"], Key=key, Body=canonical_bytes(lock))
        LockPointerStore(self.env["STATE_TABLE"], self.cloud.dynamodb).advance(
            self.org, sha, None, key=key, scan_id="seed"
        )

    def lock_versions(self) -> dict[str, str | None]:
        """Every flow of the current lock by type/name → its published version."""
        from flowops.lock import parse_lock
        from flowops.store import LockPointerStore

        pointer = LockPointerStore(self.env["STATE_TABLE"], self.cloud.dynamodb).get_current(self.org)
        assert pointer is not None
        body = self.cloud.s3.get_object(Bucket=self.env["ARTIFACTS_BUCKET"], Key=pointer.key)["Body"].read()
        lock = parse_lock(body, expected_sha256=pointer.sha)
        return {f"{flow.type}/{flow.name}": flow.published_version for flow in lock.flows}

    # -- records -------------------------------------------------------------------------------

    def record(self, run_id: str) -> Any:
        from flowops.store import RunStore

        return RunStore(self.env["STATE_TABLE"], self.cloud.dynamodb).get(run_id)

    def audit_kinds(self, run_id: str) -> list[str]:
        from flowops.store import AuditLog

        events = AuditLog(self.env["AUDIT_TABLE"], self.cloud.dynamodb).list_events(self.org)
        return [event.kind for event in events if event.details.get("run_id") == run_id]

    def lease_holders(self) -> list[Any]:
        items = self.cloud.dynamodb.scan(TableName=self.env["STATE_TABLE"])["Items"]
        return [item for item in items if item["pk"]["S"].startswith("PUBLISH_LEASE#")]

    def sns_subjects(self) -> list[str]:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sns import sns_backends

        backend = sns_backends[DEFAULT_ACCOUNT_ID][self.cloud.region]
        return [
            str(message[1] if isinstance(message, tuple) else message)
            for topic in backend.topics.values()
            for message in getattr(topic, "sent_notifications", [])
        ]

    def counters(self) -> dict[str, int]:
        return dict(self.sim.counters())


def start_release_world(
    start_simulator: Callable[..., Any],
    local_cloud_factory: Callable[..., Any],
    tmp: Path,
    *,
    time_scale: float = TIME_SCALE,
    **sim: Any,
) -> ReleaseWorld:
    server, cloud = start_org_and_cloud(
        start_simulator,
        local_cloud_factory,
        ORG_DOCUMENT,
        time_scale=time_scale,
        env_overrides={"FLOWOPS_ENVIRONMENT": ENV},
        **sim,
    )
    return ReleaseWorld(server, cloud, tmp)
