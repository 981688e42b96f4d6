"""The object listings follow the SDK's documented filters and limits, not our client's wishes."""

from __future__ import annotations

from typing import Any

import pytest

from flowops.local.simulator import SimulatorServer
from flowops.local.simulator.orgfile import parse_org_document
from tests.helpers.simulator import StartSimulator, bearer_session
from tests.integration.simulator.conftest import get_json

ORG: dict[str, Any] = {
    "objects": [
        {"id": "dt-1", "name": "Store Hours Table", "type": "DATATABLE"},
        {"id": "dt-2", "name": "Store Routing Map", "type": "DATATABLE"},
        {"id": "dt-3", "name": "Holiday Table", "type": "DATATABLE"},
        {"id": "cl-1", "name": "Callback List", "type": "CONTACTLIST"},
    ],
    "flows": [{"id": "f-main", "name": "Main IVR", "type": "INBOUNDCALL"}],
}


@pytest.fixture
def sim(start_simulator: StartSimulator) -> SimulatorServer:
    return start_simulator(parse_org_document(ORG))


def _names(body: dict[str, Any]) -> list[str]:
    return [entity["name"] for entity in body["entities"]]


def test_data_table_name_takes_a_wildcard_anywhere_case_insensitively(sim: SimulatorServer) -> None:
    # Given data tables whose names share a start and an end
    session = bearer_session(sim)
    url = f"{sim.url}/api/v2/flows/datatables"
    # When the name filter has `*` in the middle, or differs in case
    middle = get_json(session, url, name="store*table")
    exact = get_json(session, url, name="HOLIDAY TABLE")
    partial = get_json(session, url, name="Store")
    # Then the wildcard matches within the name, a plain name is an exact (case-blind) match
    assert _names(middle) == ["Store Hours Table"]
    assert _names(exact) == ["Holiday Table"]
    assert _names(partial) == []


def test_contact_lists_refuse_a_page_size_over_100(sim: SimulatorServer) -> None:
    # Given the outbound contact lists, documented with a page size of at most 100
    session = bearer_session(sim)
    url = f"{sim.url}/api/v2/outbound/contactlists"
    # When a client asks for 101, then for 100
    refused = session.get(url, params={"pageSize": 101}, timeout=10)
    served = get_json(session, url, pageSize=100)
    # Then the first is a 400 naming the parameter, the second a normal page
    assert refused.status_code == 400
    assert "pageSize" in refused.text
    assert _names(served) == ["Callback List"]
