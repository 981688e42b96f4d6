"""A running local webhook endpoint for tests: simulator + LocalCloud + LocalWebhookServer.

Shared by tests/integration/local_webhook and tests/fuzz/test_webhook_schemathesis.py. Starting
a LocalCloud from the synthesized stack costs seconds (moto imports), so callers hold one per
module or package. The org is scanned through the real scan state machine, exactly what a user
does with `flowops local up` + `flowops scan` before sending a webhook.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

PROJECT_ROOT = Path(__file__).resolve().parents[3]
OPENAPI_FILE = PROJECT_ROOT / "docs" / "openapi" / "webhook.yaml"
WEBHOOK_DOC = PROJECT_ROOT / "docs" / "webhook.md"
PUBLISH_STATE_MACHINE = "PublishWorkflow/StateMachine"
SCAN_STATE_MACHINE = "ScanWorkflow/StateMachine"
ENVIRONMENT = "dev"  # the environment the local endpoint provides (empty substitutions)
LOCAL_REGION = "eu-west-1"
_FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": LOCAL_REGION,
    "AWS_REGION": LOCAL_REGION,
}


@dataclass
class WebhookEndpoint:
    """What a test needs: the server, the cloud behind it, a scanned flow, the shared secret."""

    server: Any  # flowops.local.webhook_server.LocalWebhookServer
    cloud: Any  # flowops.local.runtime.cloud.LocalCloud
    flow_id: str
    flow_name: str
    flow_type: str
    flow_version: str
    secret: str

    @property
    def publish_url(self) -> str:
        return str(self.server.publish_url)

    @property
    def publish_state_machine_arn(self) -> str:
        return str(self.cloud.state_machine_arn(PUBLISH_STATE_MACHINE))

    def publish_document(self, **overrides: Any) -> dict[str, Any]:
        document: dict[str, Any] = {
            "flow": {"id": self.flow_id},
            "environment": ENVIRONMENT,
            "version": self.flow_version,
            "requester": "ci@example.com",
            "reason": "local webhook test",
        }
        document.update(overrides)
        return document

    def signed_headers(self, body: bytes, *, delivery_id: str | None = None) -> dict[str, str]:
        from flowops.webhook.signature import signed_headers

        return signed_headers(
            body, self.secret, delivery_id=delivery_id or str(uuid.uuid4()), timestamp=int(time.time())
        )

    def post_signed(self, document: dict[str, Any], **kwargs: Any) -> requests.Response:
        body = json.dumps(document).encode()
        return requests.post(
            self.publish_url, data=body, headers=self.signed_headers(body), timeout=30, **kwargs
        )

    def executions(self) -> list[dict[str, Any]]:
        listed = self.cloud.sfn.list_executions(stateMachineArn=self.publish_state_machine_arn)
        return list(listed["executions"])

    def wait_until_finished(self, execution_arn: str, timeout: float = 60.0) -> str:
        """Block until the execution leaves RUNNING (so nothing runs on into the teardown)."""
        deadline = time.monotonic() + timeout
        while True:
            status = str(self.cloud.sfn.describe_execution(executionArn=execution_arn)["status"])
            if status != "RUNNING" or time.monotonic() > deadline:
                return status
            time.sleep(0.1)

    def wait_for_all_executions(self, timeout: float = 60.0) -> None:
        for execution in self.executions():
            self.wait_until_finished(execution["executionArn"], timeout=timeout)


@contextmanager
def running_webhook_endpoint(*, flows: int = 6, seed: int = 11) -> Iterator[WebhookEndpoint]:
    """Given: a simulated org, scanned into the local cloud, behind the local webhook endpoint."""
    from flowops.clock import ScaledClock
    from flowops.functions.webhook import api
    from flowops.local.runtime.cloud import LOCAL_GENESYS_CREDENTIALS, LocalCloud
    from flowops.local.runtime.synth import synth_template
    from flowops.local.simulator import SimulatorServer, generate_org
    from flowops.local.webhook_server import LOCAL_WEBHOOK_SECRET, LocalWebhookServer

    clock = ScaledClock(60.0)
    client_id, client_secret = LOCAL_GENESYS_CREDENTIALS
    simulator = SimulatorServer(
        generate_org(flows, seed=seed, now=clock.now()),
        clock=clock,
        client_id=client_id,
        client_secret=client_secret,
    )
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _FAKE_AWS.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        # The handler keeps one PublishWebhook per settings; its clients must belong to this cloud.
        api.webhook_for.cache_clear()
        with (
            simulator,
            LocalCloud(
                template=synth_template(),
                genesys_base_url=simulator.url,
                env_overrides={"FLOWOPS_TIME_SCALE": "60"},
            ) as cloud,
        ):
            scan = cloud.start_and_wait(
                SCAN_STATE_MACHINE, {"page_size": 50}, name=f"scan-{uuid.uuid4().hex[:8]}", timeout=120
            )
            assert scan.status == "SUCCEEDED", scan.cause
            # A published flow the lock now knows, inbound call flows first (the common case).
            flow = min(
                (flow for flow in simulator.org.flows.values() if flow.published_version_id is not None),
                key=lambda flow: (flow.flow_type != "INBOUNDCALL", flow.id),
            )
            with LocalWebhookServer(cloud) as server:
                endpoint = WebhookEndpoint(
                    server=server,
                    cloud=cloud,
                    flow_id=flow.id,
                    flow_name=flow.name,
                    flow_type=flow.flow_type,
                    flow_version=str(flow.published_version_id),
                    secret=LOCAL_WEBHOOK_SECRET,
                )
                try:
                    yield endpoint
                finally:
                    endpoint.wait_for_all_executions()
        api.webhook_for.cache_clear()
