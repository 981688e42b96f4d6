"""The scan on its deployed shape: concurrent page readers under the real rate model.

    python -m bench.scan_deployed                        # 1,000 flows, per-token and per-client limit
    python -m bench.scan_deployed --flows 20000          # the issue-18 size (minutes of real time)
    python -m bench.scan_deployed --flows 2000 --models client

What is measured is what the stack runs: ListFlowPages (one token) plans the pages, then the
page Map runs as many readers at once as the state machine's MaxConcurrency
(`infra.constants.MAP_MAX_CONCURRENCY`), each reader a thread with ITS OWN Genesys
client and token (a Lambda container's), pacing itself as the deployed client does
(`flowops.config.GenesysSettings`: 97 % of `requestsPerMinute`). The simulator enforces the limit
model (docs/genesys-limits.md):

- `token`: each token has its own 300/min budget; the readers read in parallel, so the Map may
  make readers x 300 requests a minute;
- `client`: all tokens of the OAuth client share ONE 300/min budget; the readers reserve their
  send slots from the org's shared schedule (`flowops.store.SharedRateSchedule`) in the state
  table, here in moto (its conditional writes made atomic as in DynamoDB).

Allowed rate = what the model allows at each moment: the listing at one budget, the Map at
readers x budget (token) or one budget (client). Rate achieved / allowed = the time the model
allows for this scan's requests (each phase's requests at its allowed rate) / the simulated time
the reading took; 1.0 is the limit itself. 429s are counted from the responses (a requests hook);
the call floor is one listing call per 500 flows plus one dependency read per flow; on a small
org the fixed calls (data actions, a second listing pass) weigh more than on a large one.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from bench.scan import ORG, MemoryArtifacts, MemoryPointers
from flowops.clock import ScaledClock
from flowops.config import GenesysSettings
from flowops.genesys.client import GenesysClient
from flowops.genesys.credentials import ClientCredentials
from flowops.genesys.ratelimit import RateLimiter, SharedSchedule
from flowops.local.simulator import SimulatorServer, generate_org
from flowops.scan.assemble import build_lock
from flowops.scan.genesys_source import GenesysScanSource
from flowops.scan.models import MAX_FLOWS_PAGE_SIZE, BuildLockRequest, ScanContext, ScanRequest
from flowops.scan.pages import plan_flow_pages, read_flow_page

MODELS = ("token", "client")
STATE_TABLE = "bench-state"
REGION = "eu-west-1"


def deployed_readers() -> int:
    """The page Map's MaxConcurrency, as the stack's scan construct sets it."""
    from infra.constants import MAP_MAX_CONCURRENCY

    return MAP_MAX_CONCURRENCY


class ResponseCounter:
    """Statuses of every response of every client (thread-safe: the readers share it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.statuses: Counter[int] = Counter()

    def session(self) -> requests.Session:
        session = requests.Session()
        session.hooks["response"].append(lambda response, *args, **kwargs: self._count(response))
        return session

    def _count(self, response: requests.Response) -> None:
        with self._lock:
            self.statuses[response.status_code] += 1

    def total(self) -> int:
        with self._lock:
            return sum(self.statuses.values())


@contextlib.contextmanager
def shared_schedule(clock: ScaledClock) -> Iterator[SharedSchedule]:
    """The org's schedule item in a state table of an in-process moto."""
    import boto3
    from moto import mock_aws

    from flowops.local.runtime.dynamodb_atomicity import atomic_write_patches
    from flowops.store import SharedRateSchedule

    saved = {name: os.environ.get(name) for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"})
    patches = atomic_write_patches()
    try:
        with mock_aws():
            dynamodb = boto3.client("dynamodb", region_name=REGION)
            dynamodb.create_table(
                TableName=STATE_TABLE,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
            )
            yield SharedRateSchedule(STATE_TABLE, ORG, dynamodb, clock=clock)
    finally:
        for patch in patches:
            patch.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class SimulatorProcess:
    """`flowops sim serve` in a child process: the simulator off this process's GIL (large orgs on
    a loaded machine). Same org (generator and seed), same clock rate; its own clock origin, which
    only the server's windows read."""

    def __init__(self, flows: int, *, seed: int, time_scale: float, per_minute: int, scope: str) -> None:
        command = [
            str(Path(sys.executable).with_name("flowops")),
            "sim",
            "serve",
            f"--flows={flows}",
            f"--seed={seed}",
            f"--time-scale={time_scale}",
            f"--rate-limit={per_minute}",
            f"--rate-limit-scope={scope}",
        ]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        first = self._process.stdout.readline().strip()
        if not first.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"the simulator did not start: {first!r}")
        self.url = first.removeprefix("listening on ")

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=30)


class MemorySchedule:
    """The schedule item's semantics (flowops.store.rate_schedule) in memory, each reservation
    taking `latency_seconds` of the clock's time as a DynamoDB round trip does. For orgs where moto's
    real-time cost per update, multiplied by the time scale, would measure this machine instead
    of the model; the DynamoDB store itself is what the default (`--schedule moto`) runs."""

    def __init__(self, clock: ScaledClock, latency_seconds: float = 0.010) -> None:
        self._clock = clock
        self._latency = latency_seconds
        self._lock = threading.Lock()
        self._next_slot_at: float | None = None

    def reserve(self, earliest: float, interval_seconds: float) -> float:
        self._clock.sleep(self._latency)
        with self._lock:
            slot = earliest if self._next_slot_at is None else max(earliest, self._next_slot_at)
            self._next_slot_at = slot + interval_seconds
            return slot

    def hold_until(self, moment: float) -> None:
        with self._lock:
            self._next_slot_at = moment if self._next_slot_at is None else max(self._next_slot_at, moment)


@dataclass(frozen=True)
class DeployedScan:
    model: str
    flows: int
    readers: int
    per_minute: int
    utilization_target: float
    api_calls: int
    read_flows: int
    listing_requests: int
    map_requests: int
    throttled: int
    listing_seconds: float
    """Simulated seconds of ListFlowPages (one reader)."""
    map_seconds: float
    """Simulated seconds of the page Map (all readers)."""
    assemble_seconds: float
    """BuildLock: local CPU in real seconds (not scaled)."""
    real_seconds: float
    time_scale: float
    schedule_store: str = "none"
    """Where the shared schedule lived: moto (DynamoDB), memory, or none (per-token budgets)."""

    @property
    def map_allowed_per_minute(self) -> int:
        return self.per_minute * (self.readers if self.model == "token" else 1)

    @property
    def floor_calls(self) -> int:
        """One listing call per 500 flows and one dependency read per flow (issue 18's floor)."""
        return math.ceil(self.flows / MAX_FLOWS_PAGE_SIZE) + self.flows

    @property
    def calls_over_floor(self) -> float:
        return self.api_calls / self.floor_calls

    @property
    def http_requests(self) -> int:
        return self.listing_requests + self.map_requests

    @property
    def allowed_seconds(self) -> float:
        """The least time the model allows for these requests: each phase at its allowed rate."""
        return 60 * (
            self.listing_requests / self.per_minute + self.map_requests / self.map_allowed_per_minute
        )

    @property
    def rate_over_allowed(self) -> float:
        return self.allowed_seconds / (self.listing_seconds + self.map_seconds)

    @property
    def map_rate_per_minute(self) -> float:
        return self.map_requests / (self.map_seconds / 60)

    @property
    def simulated_minutes(self) -> float:
        return (self.listing_seconds + self.map_seconds + self.assemble_seconds) / 60


def deployed_full_scan(
    flows: int,
    model: str,
    *,
    time_scale: float,
    seed: int = 1,
    per_minute: int = 300,
    readers: int | None = None,
    page_size: int | None = None,
    schedule_store: str = "moto",
    simulator_process: bool = False,
) -> DeployedScan:
    """One full scan of a generated org by ListFlowPages + `readers` concurrent page readers."""
    if model not in MODELS:
        raise ValueError(f"limit model {model!r} is not one of {', '.join(MODELS)}")
    readers = readers or deployed_readers()
    deployed = GenesysSettings(genesys_rate_scope=model, genesys_rate_per_minute=per_minute)  # type: ignore[arg-type]
    clock = ScaledClock(time_scale)
    sim: SimulatorServer | SimulatorProcess
    if simulator_process:
        sim = SimulatorProcess(flows, seed=seed, time_scale=time_scale, per_minute=per_minute, scope=model)
    else:
        sim = SimulatorServer(
            generate_org(flows, seed=seed, now=clock.now()),
            clock=clock,
            rate_limit_per_minute=per_minute,
            rate_limit_scope=model,
        ).start()
    responses = ResponseCounter()
    share = deployed.shares_rate_budget
    schedules: contextlib.AbstractContextManager[SharedSchedule | None]
    if not share:
        schedules = contextlib.nullcontext(None)
    elif schedule_store == "memory":
        schedules = contextlib.nullcontext(MemorySchedule(clock))
    else:
        schedules = shared_schedule(clock)
    real_started = time.perf_counter()
    try:
        with schedules as schedule:

            def new_client() -> GenesysClient:
                # A Lambda container's client: its own session and token, the deployed pacing.
                return GenesysClient(
                    ClientCredentials(client_id="local", client_secret="local"),  # the simulator's client
                    base_url=sim.url,
                    clock=clock,
                    session=responses.session(),
                    rate_limiter=RateLimiter(
                        clock,
                        allowed_per_window=per_minute,
                        utilization=deployed.genesys_rate_utilization,
                        shared=schedule,
                    ),
                )

            artifacts, pointers = MemoryArtifacts(), MemoryPointers()
            request = (
                ScanRequest(full=True) if page_size is None else ScanRequest(full=True, page_size=page_size)
            )
            scan = ScanContext(scan_id="deployed", started_at=datetime.now(UTC), request=request)
            started = clock.monotonic()
            lister = new_client()
            plan = plan_flow_pages(GenesysScanSource(lister), pointers, scan, org=ORG, artifacts=artifacts)
            listed = clock.monotonic()
            listing_requests = responses.total()
            per_reader = threading.local()
            read_page = _page_reader(per_reader, new_client, artifacts, scan, plan)
            with ThreadPoolExecutor(max_workers=readers, thread_name_prefix="page-reader") as pool:
                pages = list(pool.map(read_page, plan.pages))
            mapped = clock.monotonic()
            map_requests = responses.total() - listing_requests
            assemble_started = time.perf_counter()
            lock = build_lock(
                artifacts, BuildLockRequest(scan=scan, plan=plan, pages=pages), org=ORG, now=datetime.now(UTC)
            )
            assemble_seconds = time.perf_counter() - assemble_started
    finally:
        sim.stop()
    return DeployedScan(
        model=model,
        flows=flows,
        readers=readers,
        per_minute=per_minute,
        utilization_target=deployed.genesys_rate_utilization,
        api_calls=lock.api_calls,
        read_flows=lock.read_flows,
        listing_requests=listing_requests,
        map_requests=map_requests,
        throttled=responses.statuses.get(429, 0),
        listing_seconds=listed - started,
        map_seconds=mapped - listed,
        assemble_seconds=assemble_seconds,
        real_seconds=time.perf_counter() - real_started,
        time_scale=time_scale,
        schedule_store=schedule_store if share else "none",
    )


def _page_reader(
    per_reader: threading.local,
    new_client: Callable[[], GenesysClient],
    artifacts: MemoryArtifacts,
    scan: ScanContext,
    plan: Any,
) -> Callable[[Any], Any]:
    def read(page: Any) -> Any:
        source: GenesysScanSource | None = getattr(per_reader, "source", None)
        if source is None:  # a warm container keeps its client (and token) for its next page
            source = per_reader.source = GenesysScanSource(new_client())
        return read_flow_page(
            source,
            artifacts,
            plan.page_task(scan, page),
            org=ORG,
        )

    return read


def format_table(results: list[DeployedScan]) -> str:
    header = (
        f"{'flows':>6} {'limit per':<9} {'readers':>7} {'allowed/min':>11} {'API calls':>9} "
        f"{'calls/floor':>11} {'429s':>5} {'Map req/min':>11} {'rate/allowed':>12} {'sim min':>8} "
        f"{'real s':>7} {'schedule':<8}"
    )
    lines = [header, "-" * len(header)]
    for result in results:
        lines.append(
            f"{result.flows:>6} {result.model:<9} {result.readers:>7} {result.map_allowed_per_minute:>11} "
            f"{result.api_calls:>9} {result.calls_over_floor:>11.4f} {result.throttled:>5} "
            f"{result.map_rate_per_minute:>11.1f} {result.rate_over_allowed:>12.1%} "
            f"{result.simulated_minutes:>8.2f} {result.real_seconds:>7.1f} {result.schedule_store:<8}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[DeployedScan]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scan_deployed",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--flows", type=int, default=1000, help="flows in the generated org (default 1000)")
    parser.add_argument("--models", default=",".join(MODELS), help="limit models to run: token,client")
    parser.add_argument("--per-minute", type=int, default=300, help="requests per minute of one budget")
    # x5: the per-token Map makes ~1,160 requests a simulated minute (19/s: ~100/s of real time at
    # x5, simulator and readers in one process); per client, each reader's slot reservation is a
    # moto DynamoDB update of 25-90 ms real on this loaded machine (0.1-0.45 simulated s at x5,
    # where AWS answers in ~10 ms), which four readers hide only while it stays under their
    # 0.8 s turn. Lower the scale when rate/allowed reads low: that is the machine, not the model.
    parser.add_argument("--time-scale", type=float, default=5.0, help="simulated seconds per real second")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--simulator-process",
        action="store_true",
        help="run the simulator in a child process (off this process's GIL; for large orgs)",
    )
    parser.add_argument(
        "--schedule",
        choices=("moto", "memory"),
        default="moto",
        help="where a shared budget's schedule lives: the DynamoDB store in moto, or its semantics in "
        "memory with a 10 ms round trip (large orgs on a loaded machine)",
    )
    args = parser.parse_args(argv)
    models = [model.strip() for model in args.models.split(",") if model.strip()]
    results = []
    started = time.perf_counter()
    for model in models:
        print(f"scanning a {args.flows}-flow org, limit per {model} ...", flush=True)
        results.append(
            deployed_full_scan(
                args.flows,
                model,
                time_scale=args.time_scale,
                seed=args.seed,
                per_minute=args.per_minute,
                schedule_store=args.schedule,
                simulator_process=args.simulator_process,
            )
        )
    print(
        f"\n## full scan, deployed shape (ListFlowPages, then the page Map's {results[0].readers} readers), "
        f"{args.per_minute}/min per budget, x{args.time_scale:g} time"
    )
    print(format_table(results))
    print()
    print(
        f"429 responses: {sum(r.throttled for r in results)} (must be 0); rate/allowed "
        + ", ".join(f"{r.model} {r.rate_over_allowed:.1%}" for r in results)
        + f" (the client aims at {results[0].utilization_target:.0%}); calls/floor "
        + ", ".join(f"{r.model} {r.calls_over_floor:.4f}" for r in results)
    )
    print(f"wall time {time.perf_counter() - started:.0f} s")
    return results


if __name__ == "__main__":
    main()
