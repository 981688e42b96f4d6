"""Scan benchmarks: incremental vs full API calls, and a 20,000-flow org under 300 requests/min.

    python -m bench.scan                      # ratio on 1,000 flows + full scan of 20,000 flows
    python -m bench.scan --flows 5000 --ratio-flows 500

Both parts run the scan's core steps (the same functions the Lambda handlers call) with ONE
Genesys client — one token, so the org's 300/min limit applies to every request — against the
simulator on accelerated time, with an in-memory artifact store and lock pointer. Simulated
minutes come from the simulator's clock; 429s are counted from the responses themselves.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import requests
from flowops.clock import ScaledClock
from flowops.genesys.client import GenesysClient
from flowops.genesys.credentials import ClientCredentials
from flowops.scan.assemble import build_lock
from flowops.scan.genesys_source import GenesysScanSource
from flowops.scan.models import (
    AdvancePointerRequest,
    BuildLockRequest,
    PageTask,
    ScanContext,
    ScanRequest,
)
from flowops.scan.pages import plan_flow_pages, read_flow_page
from flowops.scan.pointer import advance_lock_pointer
from flowops.store.errors import LockRaceError

from local.simulator import SimulatorServer, generate_org

ORG = "bench"
RATE_LIMIT_PER_MINUTE = 300


class MemoryArtifacts:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_immutable(self, key: str, body: bytes, content_type: str = "application/json") -> None:
        if self.objects.get(key, body) != body:
            raise ValueError(f"{key} exists with other content")
        self.objects[key] = body

    def put_json(self, key: str, document: Any) -> None:
        self.objects[key] = json.dumps(document).encode()

    def get_bytes(self, key: str, expected_sha256: str | None = None) -> bytes:
        return self.objects[key]


class MemoryPointer:
    def __init__(self, sha: str, key: str) -> None:
        self.sha, self.key = sha, key


class MemoryPointers:
    def __init__(self) -> None:
        self.current: dict[str, MemoryPointer] = {}

    def get_current(self, org: str) -> MemoryPointer | None:
        return self.current.get(org)

    def advance(
        self, org: str, new_sha: str, expected_previous_sha: str | None, *, key: str, scan_id: str
    ) -> None:
        current = self.current.get(org)
        if (current.sha if current else None) != expected_previous_sha:
            raise LockRaceError(org, expected_previous_sha, current.sha if current else None)
        self.current[org] = MemoryPointer(new_sha, key)


class StatusCounter:
    """Counts response statuses through a requests hook (429s are what the bench must not see)."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()

    def session(self) -> requests.Session:
        session = requests.Session()
        session.hooks["response"].append(lambda response, *args, **kwargs: self._count(response))
        return session

    def _count(self, response: requests.Response) -> None:
        self.statuses[response.status_code] += 1


def run_scan(
    source: GenesysScanSource, artifacts: MemoryArtifacts, pointers: MemoryPointers, scan_id: str, full: bool
) -> dict[str, Any]:
    scan = ScanContext(
        scan_id=scan_id, started_at=datetime.now(UTC), request=ScanRequest(full=full, page_size=500)
    )
    plan = plan_flow_pages(source, pointers, scan, org=ORG)
    pages = [
        read_flow_page(
            source,
            artifacts,
            PageTask(
                scan=scan,
                page_number=page.page_number,
                page_size=plan.page_size,
                previous_lock_key=plan.previous_lock_key,
            ),
            org=ORG,
        )
        for page in plan.pages
    ]
    lock = build_lock(
        artifacts, BuildLockRequest(scan=scan, plan=plan, pages=pages), org=ORG, now=datetime.now(UTC)
    )
    advance_lock_pointer(pointers, AdvancePointerRequest(scan=scan, plan=plan, lock=lock), org=ORG)
    return {
        "api_calls": lock.api_calls,
        "read": lock.read_flows,
        "reused": lock.reused_flows,
        "sha": lock.lock_sha256,
    }


def start(
    flows: int, seed: int, time_scale: float
) -> tuple[SimulatorServer, ScaledClock, GenesysClient, StatusCounter]:
    clock = ScaledClock(time_scale)
    sim = SimulatorServer(generate_org(flows, seed=seed, now=clock.now()), clock=clock).start()
    statuses = StatusCounter()
    client = GenesysClient(
        ClientCredentials(client_id="local", client_secret="local"),  # the simulator's default client
        base_url=sim.url,
        clock=clock,
        session=statuses.session(),
    )
    return sim, clock, client, statuses


def republish_one(client: GenesysClient, sim: SimulatorServer) -> str:
    flow = next(
        flow
        for flow in sim.org.flows.values()
        if flow.published_version_id and flow.flow_type == "INBOUNDCALL" and flow.locked_by is None
    )
    client.publish_flow(flow.id)
    client.wait_until(
        lambda: client.get_flow(flow.id),
        lambda current: current.current_operation is not None and bool(current.current_operation.complete),
        what="republish",
        poll_interval_seconds=1.0,
        timeout_seconds=120.0,
    )
    return flow.id


def bench_ratio(flows: int, time_scale: float) -> None:
    sim, _, client, _ = start(flows, seed=3, time_scale=time_scale)
    try:
        source, artifacts, pointers = GenesysScanSource(client), MemoryArtifacts(), MemoryPointers()
        full = run_scan(source, artifacts, pointers, "full", full=True)
        republish_one(client, sim)
        incremental = run_scan(source, artifacts, pointers, "incremental", full=False)
    finally:
        sim.stop()
    ratio = incremental["api_calls"] / full["api_calls"]
    print(f"## incremental vs full scan ({flows} flows, one flow republished)")
    print(f"full scan         {full['api_calls']:>7} API calls ({full['read']} flows read)")
    print(
        f"incremental scan  {incremental['api_calls']:>7} API calls ({incremental['read']} read, "
        f"{incremental['reused']} reused)"
    )
    print(f"ratio             {ratio:.4f}  (incremental spends {ratio:.2%} of a full scan)\n")


def bench_large_org(flows: int, time_scale: float) -> None:
    t0 = time.perf_counter()
    sim, clock, client, statuses = start(flows, seed=1, time_scale=time_scale)
    try:
        source = GenesysScanSource(client)
        simulated_start = clock.monotonic()
        result = run_scan(source, MemoryArtifacts(), MemoryPointers(), "large", full=True)
        simulated_minutes = (clock.monotonic() - simulated_start) / 60
    finally:
        sim.stop()
    floor = math.ceil(result["api_calls"] / RATE_LIMIT_PER_MINUTE)
    print(f"## full scan of a {flows}-flow simulated org, one token, limit {RATE_LIMIT_PER_MINUTE}/min")
    print(f"API calls         {result['api_calls']:>7}")
    print(
        f"simulated time    {simulated_minutes:7.1f} min  (floor at {RATE_LIMIT_PER_MINUTE}/min: {floor} min)"
    )
    print(f"rate              {result['api_calls'] / max(simulated_minutes, 1e-9):7.1f} calls/simulated min")
    print(f"429 responses     {statuses.statuses.get(429, 0):>7}")
    print(f"real time         {time.perf_counter() - t0:7.1f} s  (time scale x{time_scale:g})\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--flows", type=int, default=20_000, help="flows of the large org (default 20000)")
    parser.add_argument(
        "--ratio-flows", type=int, default=1_000, help="flows of the ratio org (default 1000)"
    )
    # x30: pacing (0.2 simulated s per call at 300/min) outweighs the real cost of a local HTTP
    # round trip, so simulated minutes measure the rate limit, not this machine.
    parser.add_argument("--time-scale", type=float, default=30.0, help="simulated seconds per real second")
    args = parser.parse_args(argv)
    bench_ratio(args.ratio_flows, args.time_scale)
    bench_large_org(args.flows, args.time_scale)


if __name__ == "__main__":
    main()
