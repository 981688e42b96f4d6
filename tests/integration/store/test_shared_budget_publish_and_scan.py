"""A publish's Genesys calls and a scan's page readers at the same time share one budget.

The org counts its budget per OAuth client (cdk.json `genesysRateLimit` scope `client`,
docs/genesys-limits.md). As in Lambda, each reader and the publish build their own client with
their own token (`build_client_from_settings`, as `flowops.functions._shared.genesys_client`
does), and with the shared scope they reserve every send slot from the org's one schedule item
(`SharedRateSchedule` in the state table, moto). The simulator on 127.0.0.1 enforces the limit
on the simulated clock, and the threads really send at the same time. The local Lambda runtime
runs one handler at a time (tests/e2e/test_local_rate_model.py runs the workflows themselves).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from flowops.clock import ScaledClock
from flowops.config import GenesysSettings, build_client_from_settings
from flowops.genesys.client import GenesysClient
from flowops.local.simulator import SimulatorServer
from flowops.local.simulator.generator import generate_org
from flowops.local.simulator.model import FLOW_TYPES
from flowops.scan.genesys_source import GenesysScanSource
from flowops.scan.shape import PAGE_READERS
from flowops.store import SharedRateSchedule
from tests.integration.store.conftest import STATE_TABLE

pytestmark = pytest.mark.slow  # ~100 requests paced at one budget: seconds of real time

PER_MINUTE = 60
TIME_SCALE = 12.0  # a simulated minute is 5 s real; far below what the threads could send
READS_PER_READER = 15
PUBLISH_READS = 15
RATE_LIMITED = "429 rate limited"


class LocalSecret:
    """The Genesys secret as Secrets Manager would give it (the simulator's OAuth client)."""

    def get(self, name: str, max_age: int | None = None, transform: Any = None, **_: Any) -> Any:
        return {"client_id": "local", "client_secret": "local"}


@pytest.fixture
def client_scoped_org() -> Iterator[SimulatorServer]:
    clock = ScaledClock(TIME_SCALE)
    simulator = SimulatorServer(
        generate_org(40, seed=3, now=clock.now()),
        clock=clock,
        rate_limit_per_minute=PER_MINUTE,
        rate_limit_scope="client",
    ).start()
    yield simulator
    simulator.stop()


def run_publish_beside_a_scan(
    simulator: SimulatorServer, new_client: Callable[[], GenesysClient]
) -> tuple[int, list[BaseException]]:
    """PAGE_READERS readers of consumed resources and one publish's reads, all at once; the
    simulator's 429 count, and any error a thread ended with."""
    flows = [
        flow
        for flow in simulator.org.flows.values()
        if not flow.deleted and flow.published_version_id and FLOW_TYPES[flow.flow_type][0] and flow.indexed
    ]
    assert flows
    errors: list[BaseException] = []

    def guarded(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except BaseException as error:  # reported by the test, not lost in the thread
                errors.append(error)

        return run

    def read_page(reader: int) -> None:
        source = GenesysScanSource(new_client())
        for number in range(READS_PER_READER):
            flow = flows[(reader * READS_PER_READER + number) % len(flows)]
            source.consumed_resources(flow.id, str(flow.published_version_id), FLOW_TYPES[flow.flow_type][0])

    def publish() -> None:
        # The reads a publish makes around its upload: the flow (lock, health check) and the listing.
        client = new_client()
        for number in range(PUBLISH_READS):
            client.get_flow(flows[number % len(flows)].id)
            if number % 5 == 0:
                client.list_flows_page(page_number=1, page_size=25)

    threads = [threading.Thread(target=guarded(lambda r=r: read_page(r))) for r in range(PAGE_READERS)]
    threads.append(threading.Thread(target=guarded(publish)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return simulator.counters().get(RATE_LIMITED, 0), errors


@pytest.mark.usefixtures("atomic_conditional_writes")
def test_a_publish_and_a_scan_at_once_share_one_budget_and_meet_no_429(
    client_scoped_org: SimulatorServer, dynamodb_client: Any
) -> None:
    # Given the deployed wiring of a client-scoped environment: each function's client paces at
    # the configured budget and reserves its slots from the org's schedule item
    settings = GenesysSettings(
        genesys_base_url=client_scoped_org.url,
        genesys_secret_id="flowops/dev/genesys",
        flowops_time_scale=TIME_SCALE,
        genesys_rate_scope="client",
        genesys_rate_per_minute=PER_MINUTE,
    )
    assert settings.shares_rate_budget
    clock = ScaledClock(TIME_SCALE)

    def new_client() -> GenesysClient:
        schedule = SharedRateSchedule(STATE_TABLE, "dev", dynamodb_client, clock=clock)
        return build_client_from_settings(settings, LocalSecret(), rate_schedule=schedule)

    # When a publish and a scan's four page readers call Genesys at the same time
    rate_limited, errors = run_publish_beside_a_scan(client_scoped_org, new_client)
    # Then every call went through, and none of them was answered 429
    assert errors == []
    assert rate_limited == 0


def test_without_the_shared_schedule_the_same_calls_overrun_the_clients_budget(
    client_scoped_org: SimulatorServer,
) -> None:
    # Given the same clients, each pacing only itself (what a per-token environment configures)
    settings = GenesysSettings(
        genesys_base_url=client_scoped_org.url,
        genesys_secret_id="flowops/dev/genesys",
        flowops_time_scale=TIME_SCALE,
        genesys_rate_per_minute=PER_MINUTE,
    )

    def new_client() -> GenesysClient:
        return build_client_from_settings(settings, LocalSecret())

    # When they run at once against the org whose budget is the OAuth client's
    rate_limited, errors = run_publish_beside_a_scan(client_scoped_org, new_client)
    # Then the org answers some of them 429 (the client waits Retry-After and they still finish):
    # the shared schedule above is what keeps that budget
    assert errors == []
    assert rate_limited > 0
