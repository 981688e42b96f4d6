"""Shared pieces of the scan e2e tests: the simulator + local cloud pair, reading artifacts
back, and an independent computation of the graph facts from the simulator's own org model."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flowops.local.runtime.cloud import LOCAL_GENESYS_CREDENTIALS
from flowops.local.simulator.vocabulary import vocabulary_rows

SCAN_STATE_MACHINE = "ScanWorkflow/StateMachine"
TIME_SCALE = 60.0


@dataclass
class ScanWorld:
    sim: Any
    cloud: Any

    def scan(self, name: str, **request: Any) -> Any:
        request.setdefault("page_size", 25)
        return self.cloud.start_and_wait(SCAN_STATE_MACHINE, request, name=name, timeout=120)

    @property
    def environment(self) -> dict[str, str]:
        return self.cloud.function_environment("CheckDependencyIndex")

    def artifact(self, key: str) -> bytes:
        bucket = self.environment["ARTIFACTS_BUCKET"]
        return bytes(self.cloud.s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    def json_artifact(self, key: str) -> Any:
        return json.loads(self.artifact(key))

    def republish(self, flow_id: str) -> None:
        """Publish a flow again through the real API and wait until the operation succeeded."""
        from flowops.clock import ScaledClock
        from flowops.genesys.client import GenesysClient
        from flowops.genesys.credentials import ClientCredentials

        client_id, client_secret = LOCAL_GENESYS_CREDENTIALS
        with GenesysClient(
            ClientCredentials(client_id=client_id, client_secret=client_secret),
            base_url=self.sim.url,
            clock=ScaledClock(TIME_SCALE),
        ) as client:
            client.publish_flow(flow_id)
            flow = client.wait_until(
                lambda: client.get_flow(flow_id),
                lambda flow: flow.current_operation is not None and bool(flow.current_operation.complete),
                what=f"publish of {flow_id}",
                poll_interval_seconds=1.0,
                timeout_seconds=120.0,
            )
            assert flow.current_operation is not None
            assert flow.current_operation.action_status == "SUCCESS", flow.current_operation

    def current_pointer(self) -> dict[str, Any] | None:
        from flowops.store import LockPointerStore

        pointer = LockPointerStore(self.environment["STATE_TABLE"], self.cloud.dynamodb).get_current(
            self.environment["FLOWOPS_ORG"]
        )
        return None if pointer is None else pointer.model_dump()


def start_world(
    start_simulator: Callable[..., Any], local_cloud_factory: Callable[..., Any], **sim: Any
) -> ScanWorld:
    client_id, client_secret = LOCAL_GENESYS_CREDENTIALS
    sim.setdefault("time_scale", TIME_SCALE)
    server = start_simulator(client_id=client_id, client_secret=client_secret, **sim)
    cloud = local_cloud_factory(
        genesys_base_url=server.url, env_overrides={"FLOWOPS_TIME_SCALE": str(sim["time_scale"])}
    )
    return ScanWorld(server, cloud)


@dataclass(frozen=True)
class ExpectedGraph:
    flows: int
    nodes: int
    edges: int
    cycles: list[list[str]]
    missing: list[str]


def expected_graph(org: Any) -> ExpectedGraph:
    """Graph facts computed straight from the simulator's org model, with no flowops code.

    Cycles are found by brute force: two nodes share a cycle iff each reaches the other
    (BFS from every node), and a single node is cyclic iff it consumes itself.
    """
    flows = [flow for flow in org.flows.values() if not flow.deleted]
    listed = {flow.id for flow in flows}
    edges: dict[str, set[str]] = {}
    platform: set[str] = set()  # system prompts: platform objects a flow really uses
    for flow in flows:
        targets = edges.setdefault(flow.id, set())
        readable = flow.object_type and flow.indexed and flow.index_error is None
        if flow.published_version_id is not None and readable:
            targets.update(dep.id for dep in flow.versions[flow.published_version_id].consumes)
            prompts = {
                row["id"]
                for row in vocabulary_rows(flow, flow.published_version_id)
                if row["type"] == "SYSTEMPROMPT"
            }
            targets.update(prompts)
            platform.update(prompts)
    nodes = set(edges) | {target for targets in edges.values() for target in targets}

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        queue = deque(edges.get(start, ()))
        while queue:
            node = queue.popleft()
            if node not in seen:
                seen.add(node)
                queue.extend(edges.get(node, ()))
        return seen

    reachable = {node: reach(node) for node in nodes}
    cycles: set[tuple[str, ...]] = set()
    for node in nodes:
        if node in reachable[node]:
            component = sorted({node} | {other for other in reachable[node] if node in reachable[other]})
            cycles.add(tuple(component))
    consumed = {target for targets in edges.values() for target in targets}
    missing = {
        target
        for target in consumed
        if target not in platform
        and (target not in listed and not (target in org.objects and not org.objects[target].deleted))
    }
    return ExpectedGraph(
        flows=len(flows),
        nodes=len(nodes),
        edges=sum(len(targets) for targets in edges.values()),
        cycles=sorted(list(cycle) for cycle in cycles),
        missing=sorted(missing),
    )
