"""Data-action versions: the integrations listing's integer `version`, the snapshot a consuming
flow version records in dependency tracking, and a publish that refreshes the snapshot."""

from __future__ import annotations

import requests

from flowops.local.simulator import SimulatorServer
from flowops.local.simulator.model import Flow, Org
from tests.helpers.simulator import StartSimulator, bearer_session
from tests.integration.simulator.conftest import get_json, poll

CONSUMED = "/api/v2/architect/dependencytracking/consumedresources"


def _stale_data_action_consumer(org: Org) -> tuple[Flow, str, str]:
    """(flow, data action id, consumed version) of a published flow on an older action version."""
    for flow in org.flows.values():
        if flow.published_version_id is None or flow.locked_by is not None:
            continue
        for dependency in flow.versions[flow.published_version_id].consumes:
            action = org.objects.get(dependency.id)
            if (
                dependency.object_type == "DATAACTION"
                and action is not None
                and not action.deleted
                and dependency.version != str(action.version)
            ):
                return flow, dependency.id, str(dependency.version)
    raise AssertionError("the generated org has no stale data-action consumer")


def test_listing_pages_data_actions_with_their_integer_versions(
    simulator: SimulatorServer, sim_session: requests.Session
) -> None:
    # Given the org's live data actions
    live = {
        o.id: o.version
        for o in simulator.org.objects.values()
        if o.object_type == "DATAACTION" and not o.deleted
    }
    # When the listing is paged through 2 at a time
    listed: dict[str, object] = {}
    page_number = 1
    while True:
        page = get_json(
            sim_session, f"{simulator.url}/api/v2/integrations/actions", pageSize=2, pageNumber=page_number
        )
        listed.update({action["id"]: action["version"] for action in page["entities"]})
        if page_number >= page["pageCount"]:
            break
        page_number += 1
    # Then every live action appears once, with its current integer version
    assert listed == live
    assert all(isinstance(version, int) and version >= 1 for version in listed.values())


def test_consumed_data_actions_carry_the_snapshot_version_and_stale_ones_are_updated(
    simulator: SimulatorServer, sim_session: requests.Session
) -> None:
    # Given a published flow that was published against an older version of a data action
    flow, action_id, consumed_version = _stale_data_action_consumer(simulator.org)
    current = simulator.org.objects[action_id].version
    # When its consumed resources are read for the published version
    body = get_json(
        sim_session, f"{simulator.url}{CONSUMED}",
        id=flow.id, objectType=flow.object_type, version=flow.published_version_id, pageSize=100,
    )  # fmt: skip
    actions = {d["id"]: d for d in body["entities"] if d["type"] == "DATAACTION"}
    # Then the stale action names the older version and is flagged updated
    assert int(consumed_version) < current
    assert actions[action_id]["version"] == consumed_version and actions[action_id]["updated"] is True
    # and every consumed live data action carries its snapshot version as an integer string
    assert all(d["version"].isdigit() for d in actions.values() if not d["deleted"])


def test_republishing_a_flow_snapshots_the_current_data_action_version(
    start_simulator: StartSimulator,
) -> None:
    # Given a flow on an older data-action version, on a clock fast enough for a quick publish
    sim = start_simulator(time_scale=20)
    session = bearer_session(sim)
    flow, action_id, _ = _stale_data_action_consumer(sim.org)
    # When the flow is published again through the real lifecycle action
    started = session.post(f"{sim.url}/api/v2/flows/actions/publish", params={"flow": flow.id}, timeout=10)
    assert started.status_code == 200, started.text
    final = poll(
        lambda: get_json(session, f"{sim.url}/api/v2/flows/{flow.id}"),
        lambda f: bool(f["currentOperation"]["complete"]),
    )
    assert final["currentOperation"]["actionStatus"] == "SUCCESS"
    # Then the new published version consumes the data action's current version
    body = get_json(
        session, f"{sim.url}{CONSUMED}",
        id=flow.id, objectType=flow.object_type, version=final["publishedVersion"]["id"], pageSize=100,
    )  # fmt: skip
    action = next(d for d in body["entities"] if d["id"] == action_id)
    assert action["version"] == str(sim.org.objects[action_id].version) and action["updated"] is False
