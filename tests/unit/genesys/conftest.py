"""Fixtures for the Genesys client tests: a fake clock, a fake transport, a client wired to both."""

from __future__ import annotations

import pytest

from flowops.genesys import GenesysClient

from .fakes import FakeClock, FakeTransport, SequenceRandom, build_client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def transport() -> FakeTransport:
    return FakeTransport()


@pytest.fixture
def rng() -> SequenceRandom:
    return SequenceRandom()


@pytest.fixture
def client(transport: FakeTransport, clock: FakeClock, rng: SequenceRandom) -> GenesysClient:
    return build_client(transport, clock, random_source=rng)
