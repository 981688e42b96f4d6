"""Every public Archy file in /work/shared/fixtures/archy-yaml deploys through the jobs API once
the objects it references exist in the org (derived from the reference extractor's output)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from flowops.flowyaml import parse_flow_yaml
from flowops.flowyaml.substitutions import PLACEHOLDER_PATTERN, placeholder_key, substitute_placeholders
from flowops.local.simulator.model import (
    FLOW_OBJECT_TYPES,
    FLOW_REFERENCE_TYPE,
    Flow,
    FlowVersion,
    Org,
    OrgObject,
)
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


def _substituted(text: str) -> str:
    """The file as Archy would upload it with a value for every placeholder."""
    keys = {placeholder_key(match) for match in PLACEHOLDER_PATTERN.finditer(text)}
    return substitute_placeholders(text, {key: f"{key} value" for key in keys}).archy_text


@pytest.mark.skipif(not FIXTURE_FILES, reason="shared Archy fixtures not present")
def test_every_fixture_publishes_when_its_references_exist(start_simulator: StartSimulator) -> None:
    failures = []
    for path in FIXTURE_FILES:
        # Given an org with exactly the objects this file references, placeholders filled
        text = _substituted(path.read_text(encoding="utf-8"))
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


CURLY = "{{"


@pytest.mark.skipif(not FIXTURE_FILES, reason="shared Archy fixtures not present")
def test_unsubstituted_fixtures_fail_like_architect_and_create_nothing(
    start_simulator: StartSimulator,
) -> None:
    # Given every fixture that still has {{placeholders}}, uploaded as is
    raw = [(p.name, p.read_text(encoding="utf-8")) for p in FIXTURE_FILES]
    with_placeholders = [(name, text) for name, text in raw if CURLY in text]
    assert len(with_placeholders) >= 12
    sim = start_simulator(Org(), time_scale=120)
    session = bearer_session(sim)
    outcomes = {}
    for name, text in with_placeholders:
        # When deployed through the jobs API
        job = _deploy(sim.url, session, text)
        outcomes[name] = (job["status"], [m["text"] for m in job.get("messages", [])])
    # Then each job fails with one Architect-style message: not YAML, or an unresolved substitution
    for name, (status, texts) in outcomes.items():
        assert status == "Failure", name
        (text,) = texts
        assert text.startswith("Unable to parse the flow file: "), text
        assert "invalid YAML" in text or "unresolved substitution '{{" in text, text
    invalid = {n for n, (_, texts) in outcomes.items() if "invalid YAML" in texts[0]}
    assert invalid == {n for n, text in with_placeholders if not _is_yaml(text)}
    assert len(invalid) == 10  # the fixture table's invalid_before_substitution files
    # And no flow named after a placeholder exists
    assert not any(CURLY in flow.name for flow in sim.org.flows.values())


def _is_yaml(text: str) -> bool:
    import yaml

    try:
        yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    return True


def test_object_names_resolve_exactly_as_written(start_simulator: StartSimulator) -> None:
    # Given the org has the queue "Secondary Queue Example" and the file names it in lower case
    text = (FIXTURES / "architect-flow-public-api-blueprint__archy_flow.yml").read_text(encoding="utf-8")
    org = _seeded_org(text)
    sim = start_simulator(org, time_scale=120)
    lowered = text.replace("name: Secondary Queue Example", "name: secondary queue example")
    # When it is deployed / Then Architect's exact-name resolution fails it
    job = _deploy(sim.url, bearer_session(sim), lowered)
    assert job["status"] == "Failure"
    assert [m["text"] for m in job["messages"]] == ["Unable to find a queue named 'secondary queue example'."]
