"""Scan benchmarks: full vs incremental scans of 1k / 5k / 20k-flow orgs under 300 requests/min.

    python -m bench.scan                      # 1,000 and 5,000 flows
    python -m bench.scan --full               # adds 20,000 flows
    python -m bench.scan --sizes 500,2000

For each size a simulated org is generated; a FULL scan reads every flow, then one flow is
republished and an INCREMENTAL scan reuses the recorded dependencies of every flow whose
published version did not change. Both run the scan's core steps (the same functions the Lambda
handlers call) with ONE Genesys client — one token, so the org's 300/min limit applies to every
request — against the simulator on accelerated time, with an in-memory artifact store and lock
pointer. Simulated minutes = the reading phase on the shared accelerated clock + the lock
assembly (build graph, hash, store) in real seconds, since that is local CPU work that accelerated
time must not multiply. HTTP requests and 429s are counted from the responses themselves (a
requests hook, OAuth token request included); API calls are the scan's own count. The dependency
index check step (one call) is not part of these scans.

Rate-limit utilization = requests per simulated minute of the reading phase / 300. The client
paces itself at 90 % of the allowed rate (`flowops.genesys.ratelimit`), so ~0.9 is the design
point for a long scan; an incremental scan makes a handful of requests inside the client's
initial burst, so its per-minute rate means little.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from flowops.clock import ScaledClock
from flowops.genesys.client import GenesysClient
from flowops.genesys.credentials import ClientCredentials
from flowops.local.simulator import SimulatorServer, generate_org
from flowops.scan.assemble import build_lock
from flowops.scan.genesys_source import GenesysScanSource
from flowops.scan.models import (
    AdvancePointerRequest,
    BuildLockRequest,
    ScanContext,
    ScanRequest,
)
from flowops.scan.pages import plan_flow_pages, read_flow_page
from flowops.scan.pointer import advance_lock_pointer
from flowops.store.errors import LockRaceError

ORG = "bench"
RATE_LIMIT_PER_MINUTE = 300
DEFAULT_SIZES = (1_000, 5_000)
FULL_SIZES = (1_000, 5_000, 20_000)


class MemoryArtifacts:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_immutable(self, key: str, body: bytes, content_type: str = "application/json") -> None:
        if self.objects.get(key, body) != body:
            raise ValueError(f"{key} exists with other content")
        self.objects[key] = body

    def put_json(self, key: str, document: Any) -> None:
        self.objects[key] = json.dumps(document).encode()

    def put_bytes(
        self, key: str, body: bytes, content_type: str, *, content_encoding: str | None = None
    ) -> None:
        self.objects[key] = body

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
        self.bytes_received = 0

    def session(self) -> requests.Session:
        session = requests.Session()
        session.hooks["response"].append(lambda response, *args, **kwargs: self._count(response))
        return session

    def _count(self, response: requests.Response) -> None:
        self.statuses[response.status_code] += 1
        self.bytes_received += len(response.content)


def run_scan(
    source: GenesysScanSource,
    artifacts: MemoryArtifacts,
    pointers: MemoryPointers,
    scan_id: str,
    full: bool,
    clock: ScaledClock | None = None,
    *,
    include_vocabulary: bool = False,
) -> dict[str, Any]:
    """One scan through the core steps. `api_seconds` is the Genesys-reading part on `clock`
    (simulated); `assemble_seconds` the local build-lock + pointer part in REAL seconds: it is
    CPU work that accelerated time must not multiply."""
    clock = clock or ScaledClock(1.0)
    reading_started = clock.monotonic()
    scan = ScanContext(
        scan_id=scan_id,
        started_at=datetime.now(UTC),
        request=ScanRequest(full=full, page_size=500, include_platform_vocabulary=include_vocabulary),
    )
    plan = plan_flow_pages(source, pointers, scan, org=ORG, artifacts=artifacts)
    pages = [
        read_flow_page(
            source,
            artifacts,
            plan.page_task(scan, page),
            org=ORG,
        )
        for page in plan.pages
    ]
    api_seconds = clock.monotonic() - reading_started
    assemble_started = time.perf_counter()
    lock = build_lock(
        artifacts, BuildLockRequest(scan=scan, plan=plan, pages=pages), org=ORG, now=datetime.now(UTC)
    )
    advance_lock_pointer(pointers, AdvancePointerRequest(scan=scan, plan=plan, lock=lock), org=ORG)
    return {
        "api_calls": lock.api_calls,
        "read": lock.read_flows,
        "reused": lock.reused_flows,
        "sha": lock.lock_sha256,
        "lock_bytes": len(artifacts.objects[lock.lock_key]),
        "edges": lock.edges,
        "nodes": lock.nodes,
        "api_seconds": api_seconds,
        "assemble_seconds": time.perf_counter() - assemble_started,
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


@dataclass(frozen=True)
class ScanMeasurement:
    kind: str  # full | incremental
    flows: int
    api_calls: int
    http_requests: int
    throttled: int  # 429 responses
    read_flows: int
    reused_flows: int
    api_simulated_seconds: float
    """Reading the org (listing pages + dependencies), on the accelerated clock."""
    assemble_seconds: float
    """Building, hashing and storing the lock: local CPU, real seconds (not scaled)."""
    real_seconds: float

    @property
    def simulated_seconds(self) -> float:
        return self.api_simulated_seconds + self.assemble_seconds

    @property
    def simulated_minutes(self) -> float:
        return self.simulated_seconds / 60

    @property
    def requests_per_simulated_minute(self) -> float:
        """Over the reading phase: that is where the rate limit applies."""
        return self.http_requests / max(self.api_simulated_seconds / 60, 1e-9)

    @property
    def utilization(self) -> float:
        return self.requests_per_simulated_minute / RATE_LIMIT_PER_MINUTE


@dataclass(frozen=True)
class SizeResult:
    flows: int
    full: ScanMeasurement
    incremental: ScanMeasurement
    time_scale: float

    @property
    def call_ratio(self) -> float:
        return self.incremental.api_calls / self.full.api_calls

    @property
    def time_ratio(self) -> float:
        return self.incremental.simulated_seconds / self.full.simulated_seconds


def measured_scan(
    kind: str,
    flows: int,
    clock: ScaledClock,
    statuses: StatusCounter,
    scan: Callable[[], dict[str, Any]],
) -> ScanMeasurement:
    before = Counter(statuses.statuses)
    real_start = time.perf_counter()
    result = scan()
    real = time.perf_counter() - real_start
    spent = statuses.statuses - before
    return ScanMeasurement(
        kind=kind,
        flows=flows,
        api_calls=result["api_calls"],
        http_requests=sum(spent.values()),
        throttled=spent.get(429, 0),
        read_flows=result["read"],
        reused_flows=result["reused"],
        api_simulated_seconds=result["api_seconds"],
        assemble_seconds=result["assemble_seconds"],
        real_seconds=real,
    )


def bench_size(flows: int, time_scale: float, seed: int = 1) -> SizeResult:
    """A full scan, one flow republished, an incremental scan — on one org, one token."""
    sim, clock, client, statuses = start(flows, seed=seed, time_scale=time_scale)
    try:
        source, artifacts, pointers = GenesysScanSource(client), MemoryArtifacts(), MemoryPointers()
        full = measured_scan(
            "full", flows, clock, statuses, lambda: run_scan(source, artifacts, pointers, "full", True, clock)
        )
        republish_one(client, sim)
        incremental = measured_scan(
            "incremental",
            flows,
            clock,
            statuses,
            lambda: run_scan(source, artifacts, pointers, "incremental", False, clock),
        )
    finally:
        sim.stop()
    return SizeResult(flows=flows, full=full, incremental=incremental, time_scale=time_scale)


def format_table(results: list[SizeResult]) -> str:
    header = (
        f"{'flows':>6} {'scan':<11} {'API calls':>9} {'read':>6} {'reused':>6} {'sim min':>8} {'lock s':>6} "
        f"{'req/sim min':>11} {'of 300/min':>10} {'429s':>5} {'real s':>7}"
    )
    lines = [header, "-" * len(header)]
    for result in results:
        for measurement in (result.full, result.incremental):
            lines.append(
                f"{measurement.flows:>6} {measurement.kind:<11} {measurement.api_calls:>9} "
                f"{measurement.read_flows:>6} {measurement.reused_flows:>6} "
                f"{measurement.simulated_minutes:>8.2f} {measurement.assemble_seconds:>6.1f} "
                f"{measurement.requests_per_simulated_minute:>11.1f} "
                f"{measurement.utilization:>10.0%} {measurement.throttled:>5} "
                f"{measurement.real_seconds:>7.1f}"
            )
    lines.append("")
    ratio_header = f"{'flows':>6} {'incremental/full API calls':>27} {'incremental/full sim time':>26}"
    lines += [ratio_header, "-" * len(ratio_header)]
    for result in results:
        lines.append(f"{result.flows:>6} {result.call_ratio:>27.4f} {result.time_ratio:>26.4f}")
    return "\n".join(lines)


def format_summary(results: list[SizeResult]) -> str:
    throttled = sum(r.full.throttled + r.incremental.throttled for r in results)
    full_utilization = [r.full.utilization for r in results]
    return (
        f"429 responses in all scans: {throttled} (must be 0); full-scan utilization "
        f"median {statistics.median(full_utilization):.0%} of the {RATE_LIMIT_PER_MINUTE}/min allowed "
        "(the client aims at 90 %)"
    )


def main(argv: list[str] | None = None) -> list[SizeResult]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scan", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", help="comma-separated org sizes in flows (default 1000,5000)")
    parser.add_argument("--full", action="store_true", help="sizes 1000,5000,20000 (20k: a few minutes)")
    # x10: pacing (0.22 simulated s per call at 90 % of 300/min = 22 ms real) outweighs a local HTTP
    # round trip on a loaded 2-core machine (~10-13 ms), so simulated minutes measure the rate
    # limit, not this machine. At x30 the round trip alone exceeded the pacing interval here and
    # utilization read ~55 %: a utilization well under 90 % on a long scan means "machine-bound".
    parser.add_argument("--time-scale", type=float, default=10.0, help="simulated seconds per real second")
    args = parser.parse_args(argv)
    if args.sizes:
        sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    else:
        sizes = list(FULL_SIZES if args.full else DEFAULT_SIZES)
    started = time.perf_counter()
    results = []
    for size in sizes:
        print(f"scanning a {size}-flow org (full, then incremental) ...", flush=True)
        results.append(bench_size(size, args.time_scale))
    print(
        f"\n## full vs incremental scan, one token, limit {RATE_LIMIT_PER_MINUTE}/min, "
        f"x{args.time_scale:g} time"
    )
    print(format_table(results))
    print()
    print(format_summary(results))
    print(f"wall time {time.perf_counter() - started:.0f} s")
    return results


if __name__ == "__main__":
    main()
