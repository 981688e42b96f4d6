"""The simulator as hostile as a real org: OAuth clients limited to some permissions and some
divisions (real 403 bodies, invisible flows), downloads that redirect to signed URLs, failing
exports, and the real shapes of the instance query and the job registration."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from flowops.local.simulator import SimulatorServer
from flowops.local.simulator.orgfile import OrgFileError, parse_org_document
from tests.helpers.simulator import StartSimulator, bearer_session
from tests.integration.simulator.conftest import get_json, poll

VIEWER = ("viewer", "viewer-secret")
VIEW_ONLY = [
    "architect:flow:view",
    "architect:dependencyTracking:view",
    "integrations:action:view",
    "architect:jobExport:view",
]
ERROR_FIELDS = {"message", "code", "status", "messageParams", "contextId", "details", "errors"}

ORG: dict[str, Any] = {
    "divisions": [{"id": "div-sales", "name": "Sales"}],
    "objects": [
        {"id": "q-support", "name": "Support", "type": "QUEUE"},
        {"id": "da-lookup", "name": "Lookup", "type": "DATAACTION"},
    ],
    "flows": [
        {"id": "f-sales", "name": "Sales IVR", "type": "INBOUNDCALL", "division": "div-sales"},
        {
            "id": "f-main",
            "name": "Main IVR",
            "type": "INBOUNDCALL",
            "publishedVersion": 2,
            "consumes": [
                {"id": "q-support", "type": "QUEUE"},
                {"id": "da-lookup", "type": "DATAACTION"},
                {"id": "f-sales", "type": "INBOUNDCALLFLOW"},
            ],
        },
    ],
    "oauthClients": [
        {
            "clientId": VIEWER[0],
            "clientSecret": VIEWER[1],
            "name": "Read-only CI",
            "permissions": VIEW_ONLY,
            "divisions": ["home-division"],
        }
    ],
}


@pytest.fixture
def sim(start_simulator: StartSimulator) -> SimulatorServer:
    return start_simulator(parse_org_document(ORG))


def test_a_flow_outside_the_clients_divisions_is_invisible_in_listings(sim: SimulatorServer) -> None:
    # Given a client whose role covers the Home division only
    viewer = bearer_session(sim, *VIEWER)
    admin = bearer_session(sim)
    # When both list the flows
    seen = get_json(viewer, f"{sim.url}/api/v2/flows")
    everything = get_json(admin, f"{sim.url}/api/v2/flows")
    # Then the Sales flow is simply not there for the viewer (not an error, not counted)
    assert [f["id"] for f in seen["entities"]] == ["f-main"] and seen["total"] == 1
    assert {f["id"] for f in everything["entities"]} == {"f-main", "f-sales"}
    assert next(f for f in everything["entities"] if f["id"] == "f-sales")["division"]["name"] == "Sales"
    # and a direct read of it is refused with the real 403 body naming the permission
    refused = viewer.get(f"{sim.url}/api/v2/flows/f-sales", timeout=10)
    assert refused.status_code == 403
    body = refused.json()
    assert set(body) == ERROR_FIELDS
    assert body["code"] == "missing.any.permissions"
    assert "[architect:flow:view]" in body["message"]
    # while dependency tracking still names it as what Main IVR consumes
    consumed = get_json(
        viewer,
        f"{sim.url}/api/v2/architect/dependencytracking/consumedresources",
        id="f-main",
        objectType="INBOUNDCALLFLOW",
        version="2.0",
    )
    assert "f-sales" in {entry["id"] for entry in consumed["entities"]}


@pytest.mark.parametrize(
    ("method", "path", "code", "permission"),
    [
        (
            "GET",
            "/api/v2/integrations/actions/da-lookup/draft/validation",
            "missing.any.permissions",
            "integrations:action:edit",
        ),
        (
            "POST",
            "/api/v2/flows/actions/unlock?flow=f-main",
            "missing.any.permissions",
            "architect:flow:unlock",
        ),
        (
            "POST",
            "/api/v2/architect/dependencytracking/build",
            "missing.permissions",
            "architect:dependencyTracking:rebuild",
        ),
        ("POST", "/api/v2/flows/jobs", "missing.permissions", "architect:job:create"),
        (
            "GET",
            "/api/v2/flows/instances/settings/executiondata",
            "missing.any.permissions",
            "architect:flowinstanceexecutiondata:view",
        ),
    ],
)
def test_each_refused_operation_names_its_permission(
    sim: SimulatorServer, method: str, path: str, code: str, permission: str
) -> None:
    viewer = bearer_session(sim, *VIEWER)
    refused = viewer.request(method, f"{sim.url}{path}", timeout=10)
    assert refused.status_code == 403
    body = refused.json()
    assert body["code"] == code and permission in body["message"]
    assert body["message"].startswith("Unable to perform the requested action.")


def test_an_unknown_client_gets_no_token(sim: SimulatorServer) -> None:
    with pytest.raises(requests.HTTPError):
        bearer_session(sim, "viewer", "wrong-secret")


def test_export_downloads_redirect_to_a_signed_url_that_refuses_the_genesys_token(
    sim: SimulatorServer,
) -> None:
    # Given an export of Main IVR by the admin client
    admin = bearer_session(sim)
    created = admin.post(
        f"{sim.url}/api/v2/flows/export/jobs",
        json={"flows": [{"flow": {"id": "f-main", "version": "2.0"}, "exportType": "Yaml"}]},
        timeout=10,
    ).json()
    assert set(created) == {"id", "status", "totalFlows", "selfUri"}
    job = poll(
        lambda: get_json(admin, f"{sim.url}/api/v2/flows/export/jobs/{created['id']}"),
        lambda j: j["status"] == "Success",
    )
    # When its download URL is fetched without following redirects
    first = admin.get(job["downloadUrl"], allow_redirects=False, timeout=10)
    # Then Genesys answers 303 to a signed URL on another port
    assert first.status_code == 303
    signed = first.headers["Location"]
    assert "X-Amz-Signature=" in signed and not signed.startswith(sim.url)
    # and the signed URL serves the YAML without any token ...
    assert requests.get(signed, timeout=10).text.startswith("inboundCall:")
    # ... but refuses a request that also carries the Genesys token (as S3 does)
    leaked = requests.get(signed, headers={"Authorization": admin.headers["Authorization"]}, timeout=10)
    assert leaked.status_code == 400 and "Only one auth mechanism allowed" in leaked.text
    # and a tampered signature is refused
    assert (
        requests.get(signed.replace("X-Amz-Signature=", "X-Amz-Signature=0"), timeout=10).status_code == 403
    )
    # and without a token the download URL itself is refused
    assert requests.get(job["downloadUrl"], allow_redirects=False, timeout=10).status_code == 401
    # and issueRedirect=false answers the URL instead (UrlResponse)
    as_url = get_json(admin, job["downloadUrl"], issueRedirect="false")
    assert set(as_url) == {"url"} and "X-Amz-Signature=" in as_url["url"]


def test_export_faults_fail_then_empty_then_recover(start_simulator: StartSimulator) -> None:
    sim = start_simulator(parse_org_document(ORG), faults="export-fail=1,export-empty=1")
    admin = bearer_session(sim)

    def export() -> dict[str, Any]:
        created = admin.post(
            f"{sim.url}/api/v2/flows/export/jobs",
            json={"flows": [{"flow": {"id": "f-main", "version": "2.0"}}]},
            timeout=10,
        ).json()
        return poll(
            lambda: get_json(admin, f"{sim.url}/api/v2/flows/export/jobs/{created['id']}", expand="messages"),
            lambda j: j["status"] in ("Success", "Failure"),
        )

    failed = export()
    assert failed["status"] == "Failure" and "downloadUrl" not in failed
    assert "Could not find the flow" in failed["messages"][0]["text"]
    empty = export()
    assert admin.get(empty["downloadUrl"], timeout=10).text == ""
    recovered = export()
    assert admin.get(recovered["downloadUrl"], timeout=10).text.startswith("inboundCall:")


def test_architect_jobs_accept_the_null_body_the_sdk_sends(sim: SimulatorServer) -> None:
    admin = bearer_session(sim)
    answer = admin.post(
        f"{sim.url}/api/v2/flows/jobs", data="null", headers={"Content-Type": "application/json"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"id", "presignedUrl", "headers", "selfUri"}


def test_the_instance_query_has_the_real_shape(
    simulator: SimulatorServer, sim_session: requests.Session
) -> None:
    url = f"{simulator.url}/api/v2/flows/instances/query"
    flow_id = next(iter(simulator.org.flow_instances.values()))["flowId"]
    single = {"query": [{"criteria": {"key": "FlowId", "operator": "eq", "value": flow_id}}]}
    # The single-criteria form of a group is accepted, and pageSize defaults to 50
    answer = sim_session.post(url, json=single, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["pageSize"] == 50
    assert {row["flowId"] for row in answer.json()["entities"]} == {flow_id}
    everything = sim_session.post(url, json={"query": []}, timeout=10).json()
    assert len(everything["entities"]) == min(50, len(simulator.org.flow_instances))
    # pageNumber does not exist on this operation, pageSize stops at 200
    assert sim_session.post(url, params={"pageNumber": 2}, json=single, timeout=10).status_code == 400
    assert sim_session.post(url, params={"pageSize": 201}, json=single, timeout=10).status_code == 400
    # keys outside CriteriaItem's enum and unknown fields are refused
    for body in (
        {"query": [{"and": [{"key": "FlowName", "operator": "eq", "value": "x"}]}]},
        {"query": [{"and": [{"key": "FlowId", "operator": "eq", "value": "x", "extra": 1}]}]},
        {"query": [{"any": []}]},
        {"query": [], "pageNumber": 2},
    ):
        assert sim_session.post(url, json=body, timeout=10).status_code == 400, body


def test_org_file_clients_and_divisions_are_checked() -> None:
    bad_division = {**ORG, "flows": [{"id": "f", "name": "F", "type": "INBOUNDCALL", "division": "nowhere"}]}
    with pytest.raises(OrgFileError, match="unknown division 'nowhere'"):
        parse_org_document(bad_division)
    bad_permissions = {
        **ORG,
        "oauthClients": [{"clientId": "c", "clientSecret": "s", "permissions": ["view"]}],
    }
    with pytest.raises(OrgFileError, match="permissions"):
        parse_org_document(bad_permissions)
