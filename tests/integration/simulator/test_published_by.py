"""Who published a flow and when, as the scan reads it from the simulator's flow listing."""

from __future__ import annotations

import requests

from flowops.local.simulator import SimulatorServer
from flowops.scan.pages import _parse_flow_record
from tests.integration.simulator.conftest import get_json


def test_the_scan_records_the_publisher_and_date_of_every_published_flow(
    simulator: SimulatorServer, sim_session: requests.Session
) -> None:
    # Given the simulator's generated org, listed as the scan lists it
    page = get_json(sim_session, f"{simulator.url}/api/v2/flows", pageSize=100)
    # When each listed flow is parsed into the scan's flow record
    records = [_parse_flow_record(entity, 1, position) for position, entity in enumerate(page["entities"])]
    published = [record for record in records if record.published_version is not None]
    assert published, "the generated org should have published flows"
    # Then every published flow names who published it (a user, or the OAuth client) and when
    for record in published:
        flow = simulator.org.flows[record.id]
        version = flow.versions[flow.published_version_id]
        expected_user = version.created_by.user_name
        assert record.published_by is not None
        assert (
            (expected_user in record.published_by)
            if expected_user
            else record.published_by.startswith("client ")
        )
        assert record.date_published is not None and record.date_published.tzinfo is not None
