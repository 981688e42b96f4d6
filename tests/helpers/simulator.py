"""Simulator fixtures (see src/flowops/local/simulator and docs/simulator.md).

- `simulator`: a running simulator over a small generated org on accelerated time (x60).
- `start_simulator(org=None, *, flows=60, seed=7, faults=None, time_scale=60.0, **options)`:
  a factory for anything else; every server it starts is stopped at teardown.
- `sim_session(sim)`: a `requests.Session` already holding a bearer token for `sim`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from flowops.clock import ScaledClock
from flowops.local.simulator import Faults, Org, SimulatorServer, generate_org

StartSimulator = Callable[..., SimulatorServer]


def bearer_session(
    sim: SimulatorServer,
    client_id: str = "local",
    client_secret: str = "local",  # noqa: S107 - local default
) -> requests.Session:
    """A session authenticated against `sim` through its real token endpoint."""
    response = requests.post(
        f"{sim.url}/oauth/token",
        auth=(client_id, client_secret),
        data={"grant_type": "client_credentials"},
        timeout=10,
    )
    response.raise_for_status()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return session


@pytest.fixture
def start_simulator() -> Iterator[StartSimulator]:
    started: list[SimulatorServer] = []

    def start(
        org: Org | None = None,
        *,
        flows: int = 60,
        seed: int = 7,
        faults: Faults | str | None = None,
        time_scale: float = 60.0,
        **options: Any,
    ) -> SimulatorServer:
        clock = ScaledClock(time_scale)
        sim = SimulatorServer(
            org if org is not None else generate_org(flows, seed=seed, now=clock.now()),
            clock=clock,
            faults=faults,
            **options,
        )
        started.append(sim.start())
        return sim

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture
def simulator(start_simulator: StartSimulator) -> SimulatorServer:
    return start_simulator()


@pytest.fixture
def sim_session(simulator: SimulatorServer) -> Iterator[requests.Session]:
    session = bearer_session(simulator)
    yield session
    session.close()
