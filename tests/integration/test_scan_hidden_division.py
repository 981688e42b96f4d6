"""A scan through an OAuth client limited to some divisions, against the simulator over HTTP.

The listing hides another division's flows, dependency tracking does not: a flow consumed from a
division the client cannot see is recorded as not visible (GET /flows/{id} answers 403), never as
missing; an id no org has still answers 404 and stays missing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from flowops.clock import ScaledClock
from flowops.genesys import ClientCredentials, GenesysClient
from flowops.graph import analyze
from flowops.local.simulator.orgfile import parse_org_document
from flowops.lock import parse_lock
from flowops.scan.genesys_source import GenesysScanSource
from tests.helpers.simulator import StartSimulator
from tests.unit.scan.fakes import FakeArtifacts, FakePointers
from tests.unit.scan.pipeline import run_scan

TIME_SCALE = 600.0

ORG_DOCUMENT = {
    "divisions": [{"id": "div-sales", "name": "Sales"}],
    "oauthClients": [
        {
            "clientId": "home-only",
            "clientSecret": "home-only-secret",
            "permissions": "*",
            "divisions": ["home-division"],
        }
    ],
    "flows": [
        {
            "id": "main-ivr",
            "name": "Main IVR",
            "type": "INBOUNDCALL",
            "consumes": [{"id": "sales-menu", "type": "COMMONMODULEFLOW"}],
        },
        {"id": "sales-menu", "name": "Sales Menu", "type": "COMMONMODULE", "division": "div-sales"},
    ],
}


@pytest.fixture
def home_only_source(start_simulator: StartSimulator) -> Iterator[GenesysScanSource]:
    clock = ScaledClock(TIME_SCALE)
    sim = start_simulator(parse_org_document(ORG_DOCUMENT, now=clock.now()), time_scale=TIME_SCALE)
    client = GenesysClient(
        ClientCredentials(client_id="home-only", client_secret="home-only-secret"),  # type: ignore[arg-type]
        base_url=sim.url,
        clock=clock,
        session=requests.Session(),
    )
    yield GenesysScanSource(client)
    client.close()


def test_a_flow_of_a_division_the_client_cannot_see_is_not_visible_not_missing(
    home_only_source: GenesysScanSource,
) -> None:
    # Given a client limited to the home division, whose visible flow consumes a Sales module
    artifacts = FakeArtifacts()
    # When the org is scanned through it
    outcome = run_scan(home_only_source, artifacts, FakePointers(), scan_id="limited")  # type: ignore[arg-type]
    lock = parse_lock(artifacts.objects[outcome.lock_key])
    # Then the listing showed only the home flow, and the module is recorded as not visible
    assert [flow.id for flow in lock.flows] == ["main-ivr"]
    module = lock.object("sales-menu")
    assert module is not None and module.not_visible is True and not module.missing
    # and the graph warns (grant the division) instead of reporting a missing reference
    problems = analyze(lock).problems
    codes = {problem.code.value for problem in problems}
    assert "MISSING_REFERENCE" not in codes
    [warning] = [problem for problem in problems if problem.code.value == "REFERENCE_NOT_VISIBLE"]
    assert warning.object_ids == ["sales-menu"] and "division" in warning.hint


def test_an_id_no_org_has_is_missing_and_a_visible_flow_visible(home_only_source: GenesysScanSource) -> None:
    # Given the same limited client; When flows are read directly; Then 404 and 200 classify as such
    assert home_only_source.flow_visibility("no-such-flow") == "missing"
    assert home_only_source.flow_visibility("main-ivr") == "visible"
    assert home_only_source.flow_visibility("sales-menu") == "not_visible"
