"""Every public Archy file in /work/shared/fixtures/archy-yaml deploys through the jobs API once
the objects it references exist in the org (derived from the reference extractor's output)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from flowops.flowyaml import parse_flow_yaml

from local.simulator.model import FLOW_OBJECT_TYPES, FLOW_REFERENCE_TYPE, Flow, FlowVersion, Org, OrgObject
from tests.helpers.simulator import StartSimulator, bearer_session
from tests.integration.simulator.conftest import get_json, poll

FIXTURES = Path("/work/shared/fixtures/archy-yaml")
FIXTURE_FILES = sorted(p for p in FIXTURES.glob("*.y*ml")) if FIXTURES.is_dir() else []


def _seeded_org(text: str) -> Org:
    """An org holding every object and flow the document references, by name."""
    org = Org()
    for index, reference in enumerate(parse_flow_yaml(text).references):
        if reference.object_type == "SYSTEMPROMPT":
            continue  # built into every org
        if reference.object_type in FLOW_OBJECT_TYPES or reference.object_type == FLOW_REFERENCE_TYPE:
            flow_type = FLOW_OBJECT_TYPES.get(reference.object_type, "INBOUNDCALL")
            flow = org.add_flow(Flow(id=f"flow-{index}", name=reference.name, flow_type=flow_type))
            org.add_version(flow, FlowVersion("1.0", "PUBLISH", (), 0.0, org.default_principal))
            org.publish_version(flow, "1.0", 0.0, org.default_principal)
        else:
            org.add_object(
                OrgObject(
                    f"object-{index}", reference.name, reference.object_type, category=reference.category
                )
            )
    return org


def _deploy(base_url: str, session: requests.Session, text: str) -> dict:  # type: ignore[type-arg]
    job = session.post(f"{base_url}/api/v2/flows/jobs", timeout=10).json()
    requests.put(
        job["presignedUrl"], data=text.encode(), headers=job["headers"], timeout=10
    ).raise_for_status()
    return poll(
        lambda: get_json(session, f"{base_url}/api/v2/flows/jobs/{job['id']}", expand="messages"),
        lambda j: j["status"] in {"Success", "Failure"},
    )


@pytest.mark.skipif(not FIXTURE_FILES, reason="shared Archy fixtures not present")
def test_every_fixture_publishes_when_its_references_exist(start_simulator: StartSimulator) -> None:
    failures = []
    for path in FIXTURE_FILES:
        # Given an org with exactly the objects this file references
        text = path.read_text(encoding="utf-8")
        sim = start_simulator(_seeded_org(text), time_scale=120)
        session = bearer_session(sim)
        # When the file is deployed through the architect jobs API
        job = _deploy(sim.url, session, text)
        # Then the job succeeds and the flow has a published version consuming those objects
        if job["status"] != "Success":
            failures.append((path.name, job.get("messages")))
            continue
        flow = sim.org.flows[job["flow"]["id"]]
        assert flow.published_version_id == "1.0"
        sim.stop()
    assert not failures


def test_fixture_with_a_missing_queue_fails_naming_it(start_simulator: StartSimulator) -> None:
    # Given the public-API blueprint flow, and an org missing its "Secondary Queue Example"
    text = (FIXTURES / "architect-flow-public-api-blueprint__archy_flow.yml").read_text(encoding="utf-8")
    org = _seeded_org(text)
    queue = next(o for o in org.objects.values() if o.name == "Secondary Queue Example")
    del org.objects[queue.id]
    sim = start_simulator(org, time_scale=120)
    # When it is deployed
    job = _deploy(sim.url, bearer_session(sim), text)
    # Then the job fails with exactly that Architect error
    assert job["status"] == "Failure"
    assert [m["text"] for m in job["messages"]] == ["Unable to find a queue named 'Secondary Queue Example'."]
