"""Architect jobs (YAML deploys), export jobs and validate jobs."""

from __future__ import annotations

from typing import Any

import requests

from flowops.local.simulator import SimulatorServer
from flowops.local.simulator.model import OrgObject
from tests.integration.simulator.conftest import get_json, poll

FLOW_YAML = """\
inboundCall:
  name: Pipeline Test Flow
  division: Home
  startUpRef: "/inboundCall/tasks/task[main]"
  defaultLanguage: en-us
  supportedLanguages:
    en-us:
      defaultLanguageSkill:
        noValue: true
  initialGreeting:
    tts: Hello.
  tasks:
    - task:
        name: Main
        refId: main
        actions:
          - transferToAcd:
              name: Transfer
              targetQueue:
                lit:
                  name: {queue}
          - disconnect:
              name: Disconnect
"""


def _deploy(sim: SimulatorServer, session: requests.Session, text: str) -> dict[str, Any]:
    job = session.post(f"{sim.url}/api/v2/flows/jobs", timeout=10).json()
    assert set(job) >= {"id", "presignedUrl", "headers", "selfUri"}
    upload = requests.put(job["presignedUrl"], data=text.encode(), headers=job["headers"], timeout=10)
    assert upload.status_code == 200, upload.text
    return poll(
        lambda: get_json(session, f"{sim.url}/api/v2/flows/jobs/{job['id']}", expand="messages"),
        lambda j: j["status"] in {"Success", "Failure"},
    )


def test_successful_job_creates_the_flow_and_then_a_new_version(
    simulator: SimulatorServer, sim_session: requests.Session
) -> None:
    # Given a queue the flow references by name
    simulator.org.add_object(OrgObject("q-1", "Pipeline Queue", "QUEUE"))
    # When the YAML is deployed twice through the jobs API
    first = _deploy(simulator, sim_session, FLOW_YAML.format(queue="Pipeline Queue"))
    second = _deploy(simulator, sim_session, FLOW_YAML.format(queue="Pipeline Queue"))
    # Then the first job creates the flow, the second publishes version 2.0, both record the queue
    assert first["status"] == "Success" and first["command"] == "Publish"
    flow_id = first["flow"]["id"]
    assert second["flow"]["id"] == flow_id
    flow = get_json(sim_session, f"{simulator.url}/api/v2/flows/{flow_id}")
    assert flow["publishedVersion"]["id"] == "2.0" and flow["type"] == "INBOUNDCALL"
    consumed = get_json(
        sim_session, f"{simulator.url}/api/v2/architect/dependencytracking/consumedresources",
        id=flow_id, objectType="INBOUNDCALLFLOW", version="2.0", resourceType="QUEUE",
    )  # fmt: skip
    assert [(d["id"], d["type"]) for d in consumed["entities"]] == [("q-1", "QUEUE")]


def test_job_with_an_unknown_queue_fails_with_architect_messages(
    simulator: SimulatorServer, sim_session: requests.Session
) -> None:
    # When YAML naming a queue the org does not have is deployed
    job = _deploy(simulator, sim_session, FLOW_YAML.format(queue="Nowhere Queue"))
    # Then the job fails with an Error message naming the queue, and no flow is created
    assert job["status"] == "Failure"
    assert [m["type"] for m in job["messages"]] == ["Error"]
    assert job["messages"][0]["text"] == "Unable to find a queue named 'Nowhere Queue'."
    assert set(job["messages"][0]) == {"dateTime", "type", "text"}  # ArchitectJobMessage (no details)
    assert simulator.org.find_flow_by_name("Pipeline Test Flow") is None


def test_upload_needs_exactly_the_returned_headers(
    simulator: SimulatorServer, sim_session: requests.Session
) -> None:
    job = sim_session.post(f"{simulator.url}/api/v2/flows/jobs", timeout=10).json()
    response = requests.put(
        job["presignedUrl"], data=b"x", headers={"Content-Type": "text/plain"}, timeout=10
    )
    assert response.status_code == 403
    assert "SignatureDoesNotMatch" in response.text


def test_export_returns_the_yaml_of_the_requested_version(
    simulator: SimulatorServer, sim_session: requests.Session
) -> None:
    # Given a flow with a published version
    flow = next(
        f for f in simulator.org.flows.values() if f.published_version_id and f.flow_type == "INBOUNDCALL"
    )
    version = flow.versions[flow.published_version_id or ""]
    # When that version is exported
    created = sim_session.post(
        f"{simulator.url}/api/v2/flows/export/jobs",
        json={"flows": [{"flow": {"id": flow.id, "version": version.version_id}, "exportType": "Yaml"}]},
        timeout=10,
    ).json()
    done = poll(
        lambda: get_json(
            sim_session, f"{simulator.url}/api/v2/flows/export/jobs/{created['id']}", expand="messages"
        ),
        lambda j: j["status"] == "Success",
    )
    downloaded = sim_session.get(done["downloadUrl"], timeout=10)
    text = downloaded.text
    # Then the download URL redirected (303) to a signed URL on another port, and is the
    # version's Architect YAML, naming what it consumes
    assert [hop.status_code for hop in downloaded.history] == [303]
    assert "X-Amz-Signature=" in downloaded.url and not downloaded.url.startswith(simulator.url)
    assert text.startswith("inboundCall:")
    assert f"name: {flow.name}" in text
    for dependency in version.consumes:
        if dependency.object_type == "QUEUE":
            assert simulator.org.objects[dependency.id].name in text


def test_validate_job_reports_references_to_deleted_objects(
    simulator: SimulatorServer, sim_session: requests.Session
) -> None:
    # Given a flow version that consumes a deleted object
    org = simulator.org
    flow, version = next(
        (f, v) for f in org.flows.values() for v in f.versions.values()
        if any(org.objects.get(d.id) is not None and org.objects[d.id].deleted for d in v.consumes)
    )  # fmt: skip
    # When it is validated
    created = sim_session.post(
        f"{simulator.url}/api/v2/flows/validate/jobs",
        json={"flows": [{"flow": {"id": flow.id, "version": version.version_id}}]},
        timeout=10,
    ).json()
    done = poll(
        lambda: get_json(
            sim_session, f"{simulator.url}/api/v2/flows/validate/jobs/{created['id']}", expand="messages"
        ),
        lambda j: j["status"] in {"Success", "Failure"},
    )
    # Then it fails with an Error naming the deleted object
    assert created["totalFlows"] == 1
    assert done["status"] == "Failure"
    assert any(m["type"] == "Error" and m["text"].startswith("Unable to find a") for m in done["messages"])
