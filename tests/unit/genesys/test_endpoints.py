from __future__ import annotations

import pytest

from flowops.genesys import GenesysClient
from flowops.genesys.models import ArchitectJobRegistration, FlowInstanceCriteria, FlowInstanceQuery

from .fakes import FakeTransport, RecordedRequest, Reply, flow_json, page_json


def test_iter_flows_walks_every_page_with_the_filters(
    client: GenesysClient, transport: FakeTransport
) -> None:
    # Given three pages of flows
    def flows(request: RecordedRequest) -> Reply:
        number = int(request.query["pageNumber"][0])
        entities = [flow_json(f"f{number}-{i}") for i in range(2)]
        return Reply(200, page_json(entities, page_number=number, page_count=3, page_size=2))

    transport.route("GET", "/api/v2/flows", flows)
    # When iterating with type filters
    found = [flow.id for flow in client.iter_flows(flow_types=["INBOUNDCALL", "COMMONMODULE"], page_size=2)]
    # Then every entity of every page came back, in order, and the filters were sent as multi params
    assert found == ["f1-0", "f1-1", "f2-0", "f2-1", "f3-0", "f3-1"]
    calls = transport.calls("GET", "/api/v2/flows")
    assert [c.query["pageNumber"] for c in calls] == [["1"], ["2"], ["3"]]
    assert calls[0].query["type"] == ["inboundcall", "commonmodule"]
    assert client.api_calls["GET /api/v2/flows"] == 3


def test_flows_page_size_is_capped_at_500(client: GenesysClient, transport: FakeTransport) -> None:
    transport.reply("GET", "/api/v2/flows", Reply(200, page_json([], page_number=1, page_count=0)))
    client.list_flows_page(page_size=1000)
    assert transport.calls("GET", "/api/v2/flows")[0].query["pageSize"] == ["500"]


def test_paging_stops_without_page_count_when_a_page_is_short(
    client: GenesysClient, transport: FakeTransport
) -> None:
    pages = {1: [flow_json("a"), flow_json("b")], 2: [flow_json("c")]}
    transport.route(
        "GET",
        "/api/v2/flows",
        lambda r: Reply(200, {"entities": pages[int(r.query["pageNumber"][0])], "pageSize": 2}),
    )
    assert [f.id for f in client.iter_flows(page_size=2)] == ["a", "b", "c"]


def test_unknown_fields_are_kept_and_new_enum_values_accepted(
    client: GenesysClient, transport: FakeTransport
) -> None:
    transport.reply(
        "GET", "/api/v2/flows/f1", Reply(200, flow_json("f1", type="HOLOGRAMCALL", brandNewField={"x": 1}))
    )
    flow = client.get_flow("f1")
    assert flow.type == "HOLOGRAMCALL"
    assert flow.to_api()["brandNewField"] == {"x": 1}


def test_lifecycle_actions_pass_the_flow_as_query(client: GenesysClient, transport: FakeTransport) -> None:
    operation = {"id": "op1", "complete": False, "actionName": "PUBLISH", "actionStatus": "STARTED"}
    transport.reply("POST", "/api/v2/flows/actions/publish", Reply(200, operation))
    for action in ("checkout", "unlock", "revert"):
        transport.reply("POST", f"/api/v2/flows/actions/{action}", Reply(200, flow_json("f1")))
    transport.reply(
        "POST", "/api/v2/flows/actions/checkin", Reply(200, {**operation, "actionName": "CHECKIN"})
    )

    published = client.publish_flow("f1", version="4.0")
    assert published.action_status == "STARTED" and not published.succeeded
    assert client.checkout_flow("f1").id == "f1"
    assert client.checkin_flow("f1").action_name == "CHECKIN"
    assert client.unlock_flow("f1").id == "f1"
    assert client.revert_flow("f1").id == "f1"
    assert transport.calls("POST", "/api/v2/flows/actions/publish")[0].query == {
        "flow": ["f1"],
        "version": ["4.0"],
    }
    for action in ("checkout", "checkin", "unlock", "revert"):
        assert transport.calls("POST", f"/api/v2/flows/actions/{action}")[0].query == {"flow": ["f1"]}


def test_versions_and_configurations(client: GenesysClient, transport: FakeTransport) -> None:
    versions = [{"id": "1.0", "type": "PUBLISH", "dateCreated": 1700000000000}, {"id": "2.0"}]
    transport.reply(
        "GET", "/api/v2/flows/f1/versions", Reply(200, page_json(versions, page_number=1, page_count=1))
    )
    transport.reply("GET", "/api/v2/flows/f1/versions/2.0", Reply(200, {"id": "2.0", "commitVersion": "c2"}))
    transport.reply(
        "GET", "/api/v2/flows/f1/versions/2.0/configuration", Reply(200, {"name": "Main", "x": [1]})
    )
    transport.reply("GET", "/api/v2/flows/f1/latestconfiguration", Reply(200, {"name": "Main", "x": [2]}))

    assert [v.id for v in client.iter_flow_versions("f1")] == ["1.0", "2.0"]
    assert client.get_flow_version("f1", "2.0").commit_version == "c2"
    assert client.get_flow_version_configuration("f1", "2.0") == {"name": "Main", "x": [1]}
    assert client.get_flow_latest_configuration("f1")["x"] == [2]
    assert client.api_calls["GET /api/v2/flows/{flowId}/versions/{versionId}/configuration"] == 1


def test_deploy_yaml_puts_to_the_presigned_url_with_exactly_the_returned_headers(
    client: GenesysClient, transport: FakeTransport
) -> None:
    # Given a job registration with a presigned URL and required headers
    presigned = "https://uploads.fake-s3.test/jobs/j1.yaml?X-Amz-Signature=abcdef"
    transport.reply(
        "POST",
        "/api/v2/flows/jobs",
        Reply(
            200,
            {
                "id": "j1",
                "presignedUrl": presigned,
                "headers": {"Content-Type": "application/octet-stream", "x-amz-meta-job": "j1"},
            },
        ),
    )
    transport.reply("PUT", "/jobs/j1.yaml", Reply(200))
    # When deploying YAML
    registration = client.deploy_flow_yaml("inboundCall:\n  name: Main\n")
    # Then the upload carried the YAML and the returned headers, and no Authorization
    (upload,) = transport.calls("PUT", "/jobs/j1.yaml")
    assert upload.body == b"inboundCall:\n  name: Main\n"
    assert upload.headers["Content-Type"] == "application/octet-stream"
    assert upload.headers["x-amz-meta-job"] == "j1"
    assert "Authorization" not in upload.headers
    # And the presigned signature never shows in the registration's repr, nor is the upload counted
    assert "abcdef" not in repr(registration)
    assert "PUT architect job file" not in client.api_calls


def test_job_polling_expands_messages(client: GenesysClient, transport: FakeTransport) -> None:
    job = {
        "id": "j1",
        "status": "Failure",
        "command": "Publish",
        "flow": {"id": "f1", "name": "Main"},
        "messages": [{"dateTime": "2025-01-01T00:00:00.000Z", "type": "Error", "text": "Unknown queue 'Q9'"}],
    }
    transport.reply("GET", "/api/v2/flows/jobs/j1", Reply(200, job))
    result = client.get_architect_job("j1")
    assert result.finished and result.errors[0].text == "Unknown queue 'Q9'"
    assert transport.calls("GET", "/api/v2/flows/jobs/j1")[0].query == {"expand": ["messages"]}


def test_export_job_and_download(client: GenesysClient, transport: FakeTransport) -> None:
    transport.reply("POST", "/api/v2/flows/export/jobs", Reply(200, {"id": "e1"}))
    transport.reply(
        "GET",
        "/api/v2/flows/export/jobs/e1",
        Reply(200, {"id": "e1", "status": "Success", "downloadUrl": "https://dl.test/e1.yaml?sig=zz"}),
    )
    transport.reply("GET", "/e1.yaml", Reply(200, "inboundCall:\n  name: Main\n"))

    registration = client.start_export_job("f1", "3.0", file_name="main.yaml")
    assert registration.id == "e1"
    assert transport.calls("POST", "/api/v2/flows/export/jobs")[0].json() == {
        "flows": [{"flow": {"id": "f1", "version": "3.0"}, "exportType": "Yaml", "fileName": "main.yaml"}]
    }
    job = client.get_export_job("e1")
    assert client.download_export(job.download_url or "") == "inboundCall:\n  name: Main\n"
    assert "zz" not in repr(job)


def test_validate_job(client: GenesysClient, transport: FakeTransport) -> None:
    transport.reply(
        "POST",
        "/api/v2/flows/validate/jobs",
        Reply(200, {"id": "v1", "status": "Registered", "totalFlows": 2}),
    )
    transport.reply(
        "GET", "/api/v2/flows/validate/jobs/v1", Reply(200, {"id": "v1", "status": "Success", "messages": []})
    )
    assert client.start_validate_job([("f1", "2.0"), ("f2", None)]).total_flows == 2
    assert transport.calls("POST", "/api/v2/flows/validate/jobs")[0].json() == {
        "flows": [{"flow": {"id": "f1", "version": "2.0"}}, {"flow": {"id": "f2"}}]
    }
    assert client.get_validate_job("v1").status == "Success"


def test_dependency_tracking(client: GenesysClient, transport: FakeTransport) -> None:
    base = "/api/v2/architect/dependencytracking"
    transport.reply(
        "GET",
        f"{base}/build",
        Reply(
            200,
            {
                "status": "OPERATIONAL",
                "failedObjects": [{"id": "x", "version": "1.0", "name": "Broken", "errorCode": "E1"}],
            },
        ),
    )
    transport.reply("POST", f"{base}/build", Reply(202))
    consumed = [
        {"id": "q1", "name": "Support", "type": "QUEUE"},
        {"id": "m1", "type": "COMMONMODULEFLOW", "version": "2.0"},
    ]
    transport.reply(
        "GET", f"{base}/consumedresources", Reply(200, page_json(consumed, page_number=1, page_count=1))
    )
    transport.reply(
        "GET",
        f"{base}/consumingresources",
        Reply(200, page_json([{"id": "f9", "type": "INBOUNDCALLFLOW"}], page_number=1, page_count=1)),
    )
    transport.reply(
        "GET",
        f"{base}/object",
        Reply(200, {"id": "f1", "type": "INBOUNDCALLFLOW", "consumedResources": consumed}),
    )

    status = client.get_dependency_tracking_status()
    assert status.operational and status.failed_objects[0].error_code == "E1"
    client.rebuild_dependency_tracking()
    used = list(client.iter_consumed_resources("f1", version="3.0", object_type="INBOUNDCALLFLOW"))
    assert [d.type for d in used] == ["QUEUE", "COMMONMODULEFLOW"]
    assert transport.calls("GET", f"{base}/consumedresources")[0].query == {
        "id": ["f1"],
        "version": ["3.0"],
        "objectType": ["INBOUNDCALLFLOW"],
        "pageNumber": ["1"],
        "pageSize": ["100"],
    }
    users = list(
        client.iter_consuming_resources("m1", object_type="COMMONMODULEFLOW", flow_filter="published")
    )
    assert users[0].id == "f9"
    assert transport.calls("GET", f"{base}/consumingresources")[0].query["flowFilter"] == ["published"]
    obj = client.get_dependency_object("f1", object_type="INBOUNDCALLFLOW", consumed_resources=True)
    assert [d.id for d in obj.consumed_resources] == ["q1", "m1"]


def test_execution_data(client: GenesysClient, transport: FakeTransport) -> None:
    transport.reply("GET", "/api/v2/flows/instances/settings/executiondata", Reply(200, {"enabled": True}))
    rows = [
        {
            "id": "i1",
            "flowId": "f1",
            "flowVersion": "3.0",
            "flowType": "inboundcall",
            "startDateTime": "2025-01-01T10:00:00.000Z",
            "endDateTime": "2025-01-01T10:01:00Z",
            "conversationId": "c1",
            "flowName": "Main",
        }
    ]
    transport.reply("POST", "/api/v2/flows/instances/query", Reply(200, {"entities": rows, "pageSize": 200}))
    transport.reply(
        "POST", "/api/v2/flows/instances/jobs", Reply(200, {"id": "x1", "jobState": "Registered"})
    )
    transport.reply(
        "GET",
        "/api/v2/flows/instances/jobs/x1",
        Reply(
            200,
            {
                "id": "x1",
                "jobState": "Success",
                "entities": [{"id": "i1", "downloadUri": "https://dl.test/i1.json?sig=q", "failed": False}],
            },
        ),
    )
    transport.reply(
        "GET", "/i1.json", Reply(200, {"flow": {"conversationId": "c1"}, "execution": [{"startedFlow": {}}]})
    )

    assert client.get_execution_data_settings().enabled
    query = FlowInstanceQuery.all_of(
        FlowInstanceCriteria(key="FlowId", operator="eq", value="f1"),
        FlowInstanceCriteria(key="FlowStartDateTime", operator="gte", value="2025-01-01T00:00:00.000Z"),
    )
    page = client.query_flow_instances(query, page_size=500)
    request = transport.calls("POST", "/api/v2/flows/instances/query")[0]
    assert request.query == {"pageSize": ["200"]}
    assert request.json() == {
        "query": [
            {
                "and": [
                    {"key": "FlowId", "operator": "eq", "value": "f1"},
                    {"key": "FlowStartDateTime", "operator": "gte", "value": "2025-01-01T00:00:00.000Z"},
                ]
            }
        ]
    }
    assert page.entities[0].flow_version == "3.0" and page.entities[0].start_date_time is not None
    job = client.start_execution_data_job(["i1"])
    assert transport.calls("POST", "/api/v2/flows/instances/jobs")[0].json() == {"ids": ["i1"]}
    done = client.wait_until(lambda: client.get_execution_data_job(job.id), lambda j: j.finished, what="job")
    document = client.download_execution_data(done.entities[0].download_uri or "")
    assert document["flow"]["conversationId"] == "c1"


def test_data_actions(client: GenesysClient, transport: FakeTransport) -> None:
    def actions(request: RecordedRequest) -> Reply:
        ids = request.query["ids"][0].split(",")
        return Reply(
            200, page_json([{"id": i, "name": i, "version": 2} for i in ids], page_number=1, page_count=1)
        )

    transport.route("GET", "/api/v2/integrations/actions", actions)
    transport.reply("GET", "/api/v2/integrations/actions/a1", Reply(200, {"id": "a1", "version": 3}))
    transport.reply(
        "GET",
        "/api/v2/integrations/actions/a1/draft/validation",
        Reply(200, {"valid": False, "errors": [{"message": "missing contract", "code": "bad.contract"}]}),
    )

    ids = [f"a{n}" for n in range(120)]
    assert [a.id for a in client.iter_actions(ids=ids)] == ids  # chunked: at most 50 ids per request
    assert len(transport.calls("GET", "/api/v2/integrations/actions")) == 3
    assert client.get_action("a1").version == 3
    validation = client.get_action_draft_validation("a1")
    assert not validation.valid and validation.errors[0].code == "bad.contract"


def test_path_parameters_are_escaped(client: GenesysClient, transport: FakeTransport) -> None:
    transport.reply("GET", "/api/v2/flows/a%2Fb", Reply(200, flow_json("a/b")))
    assert client.get_flow("a/b").id == "a/b"


def test_wait_until_gives_up_at_the_deadline(client: GenesysClient) -> None:
    from flowops.genesys import GenesysError

    with pytest.raises(GenesysError, match="did not finish within 10s"):
        client.wait_until(lambda: 1, lambda _: False, what="job", poll_interval_seconds=3, timeout_seconds=10)


def test_registration_model_validates_camel_case() -> None:
    registration = ArchitectJobRegistration.model_validate({"id": "j", "presignedUrl": "https://x/y?sig=1"})
    assert registration.presigned_url == "https://x/y?sig=1" and registration.headers == {}
