"""Real HTTP requests to the local webhook endpoint, answered by the real handler in the LocalCloud."""

from __future__ import annotations

import json
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.integration.local_webhook.endpoint import WebhookEndpoint

pytestmark = pytest.mark.slow  # one LocalCloud + a scan for the package (cached synth), then fast


def test_valid_signed_publish_is_accepted_and_starts_one_execution(endpoint: WebhookEndpoint) -> None:
    # Given: a signed request to publish the scanned flow's published version
    before = {execution["executionArn"] for execution in endpoint.executions()}
    body = json.dumps(endpoint.publish_document()).encode()
    delivery_id = str(uuid.uuid4())

    # When: it is POSTed to the local endpoint
    response = requests.post(
        endpoint.publish_url,
        data=body,
        headers=endpoint.signed_headers(body, delivery_id=delivery_id),
        timeout=30,
    )

    # Then: 202 with the execution the LocalCloud started, run by the webhook function itself
    assert response.status_code == 202, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["x-amzn-RequestId"]
    accepted = response.json()
    assert accepted["deliveryId"] == delivery_id
    assert accepted["replayed"] is False
    started = {execution["executionArn"] for execution in endpoint.executions()} - before
    assert started == {accepted["executionArn"]}
    invocation = endpoint.cloud.runner.invocations[-1]
    assert invocation.handler == "flowops.functions.webhook.api.handler"
    assert invocation.function_name == endpoint.server.function_name
    event = invocation.event
    assert event["resource"] == "/publish" and event["httpMethod"] == "POST"
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert event["body"] == body.decode() and event["isBase64Encoded"] is False
    # And: the execution runs to an end in the local cloud (nothing left running)
    assert endpoint.wait_until_finished(accepted["executionArn"]) != "RUNNING"


def test_the_same_delivery_twice_starts_one_execution(endpoint: WebhookEndpoint) -> None:
    # Given: one signed delivery
    body = json.dumps(endpoint.publish_document(reason="delivered twice")).encode()
    headers = endpoint.signed_headers(body)
    before = len(endpoint.executions())

    # When: the sender retries it
    first = requests.post(endpoint.publish_url, data=body, headers=headers, timeout=30)
    second = requests.post(endpoint.publish_url, data=body, headers=headers, timeout=30)

    # Then: both answers name the same execution, and only one was started
    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json()["replayed"] is True
    assert second.json()["executionArn"] == first.json()["executionArn"]
    assert len(endpoint.executions()) == before + 1


def test_concurrent_distinct_deliveries_are_each_answered_with_their_own_execution(
    endpoint: WebhookEndpoint,
) -> None:
    # Given: eight different signed deliveries
    deliveries = []
    for index in range(8):
        body = json.dumps(endpoint.publish_document(reason=f"concurrent delivery {index}")).encode()
        delivery_id = str(uuid.uuid4())
        deliveries.append((delivery_id, body, endpoint.signed_headers(body, delivery_id=delivery_id)))

    # When: they reach the server at the same time, on its request threads
    def post(delivery: tuple[str, bytes, dict[str, str]]) -> tuple[str, requests.Response]:
        delivery_id, body, headers = delivery
        return delivery_id, requests.post(endpoint.publish_url, data=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(post, deliveries))

    # Then: each answer names the execution of ITS delivery, and eight executions started
    for delivery_id, response in answers:
        assert response.status_code == 202, response.text
        assert response.json()["deliveryId"] == delivery_id
        assert delivery_id in response.json()["executionName"]
    assert len({response.json()["executionArn"] for _, response in answers}) == 8
    endpoint.wait_for_all_executions()


def test_bad_signature_is_401_and_starts_nothing(endpoint: WebhookEndpoint) -> None:
    # Given: a request signed with another secret
    from flowops.webhook.signature import signed_headers

    body = json.dumps(endpoint.publish_document()).encode()
    headers = signed_headers(body, "not-the-shared-secret", delivery_id=str(uuid.uuid4()), timestamp=0)
    before = len(endpoint.executions())

    # When: it is POSTed
    response = requests.post(endpoint.publish_url, data=body, headers=headers, timeout=30)

    # Then: 401 from the function, and no execution
    assert response.status_code == 401
    assert response.json()["code"] == "webhook.signature"
    assert len(endpoint.executions()) == before


def test_missing_signature_header_is_the_functions_401_and_starts_nothing(endpoint: WebhookEndpoint) -> None:
    # Given: a body without any signature header
    before = len(endpoint.executions())

    # When: it is POSTed
    response = requests.post(endpoint.publish_url, json=endpoint.publish_document(), timeout=30)

    # Then: the function refuses it (no gateway validator stands in front of the signature check)
    assert response.status_code == 401
    assert "X-Hub-Signature-256" in response.json()["message"]
    assert len(endpoint.executions()) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/"), ("POST", "/publish/extra"), ("GET", "/publish"), ("PUT", "/publish"), ("GET", "/runs/x")],
)
def test_unknown_routes_are_answered_as_api_gateway_does(
    endpoint: WebhookEndpoint, method: str, path: str
) -> None:
    # Given: a route the API does not document
    invocations = len(endpoint.cloud.runner.invocations)

    # When: it is requested
    response = requests.request(method, endpoint.server.url + path, data=b"{}", timeout=30)

    # Then: 403 Missing Authentication Token, and the function never runs
    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}
    assert len(endpoint.cloud.runner.invocations) == invocations


def test_stage_prefixed_path_reaches_the_same_route(endpoint: WebhookEndpoint) -> None:
    # Given: the deployed URL shape, /v1/publish
    body = json.dumps(endpoint.publish_document(environment="no-such-env")).encode()

    # When: it is POSTed signed
    response = requests.post(
        endpoint.server.url + "/v1/publish", data=body, headers=endpoint.signed_headers(body), timeout=30
    )

    # Then: the function answered (404 for the unknown environment), with the stage-less resource path
    assert response.status_code == 404
    assert response.json()["code"] == "webhook.unknown_environment"
    assert endpoint.cloud.runner.invocations[-1].event["path"] == "/publish"


def test_body_over_the_function_limit_is_413(endpoint: WebhookEndpoint) -> None:
    # Given: a signed body over WEBHOOK_MAX_BODY_BYTES (the deployed API's limit)
    limit = int(endpoint.server.function_environment["WEBHOOK_MAX_BODY_BYTES"])
    body = json.dumps(endpoint.publish_document(yaml="x" * limit, version=None)).encode()
    before = len(endpoint.executions())

    # When: it is POSTed
    response = requests.post(
        endpoint.publish_url, data=body, headers=endpoint.signed_headers(body), timeout=30
    )

    # Then: 413 from the function, nothing started
    assert response.status_code == 413
    assert response.json()["code"] == "webhook.too_large"
    assert len(endpoint.executions()) == before


def test_payload_over_the_api_gateway_quota_is_refused_without_reading_it(endpoint: WebhookEndpoint) -> None:
    # Given: a request announcing a body over API Gateway's 10 MB quota (the body is never sent)
    request = (
        "POST /publish HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-Hub-Signature-256: sha256={'0' * 64}\r\nContent-Length: {11 * 1024 * 1024}\r\n\r\n"
    ).encode()

    # When: only the headers are written
    with socket.create_connection((endpoint.server.host, endpoint.server.port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk

    # Then: 413 Request Too Long, and the server closed the connection instead of draining 10 MB
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert b"Connection: close" in head
    assert json.loads(payload) == {"message": "Request Too Long"}


@pytest.mark.parametrize("size", [b"-5", b"1_0", b"\xc2\xb2", b"+1"])
def test_a_malformed_chunk_size_is_400_without_reading_on(endpoint: WebhookEndpoint, size: bytes) -> None:
    # Given: a chunked request whose chunk size int() would accept but HTTP does not
    request = (
        b"POST /publish HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        + size
        + b"\r\nabcdefghijklmnop\r\n"
    )

    # When: it is sent (the connection stays open: a read to the end of the stream would hang)
    with socket.create_connection((endpoint.server.host, endpoint.server.port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk

    # Then: 400 Bad Request and the connection is closed
    head, _, _ = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"Connection: close" in head


def test_non_utf8_body_reaches_the_handler_base64_encoded(endpoint: WebhookEndpoint) -> None:
    # Given: a signed body that is not UTF-8
    body = b"\xff\xfe not json"

    # When: it is POSTed
    response = requests.post(
        endpoint.publish_url, data=body, headers=endpoint.signed_headers(body), timeout=30
    )

    # Then: the signature still verifies over the exact bytes, and the JSON parser refuses it
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "webhook.invalid_request"
    event = endpoint.cloud.runner.invocations[-1].event
    assert event["isBase64Encoded"] is True


def test_query_string_and_repeated_headers_are_in_the_event(endpoint: WebhookEndpoint) -> None:
    # Given: a request with a query string and a repeated header
    body = json.dumps(endpoint.publish_document(environment="no-such-env")).encode()
    headers = endpoint.signed_headers(body)

    # When: it is sent over a raw connection (requests folds repeated headers)
    lines = ["POST /publish?source=ci&source=retry&x= HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += ["X-Trace: a", "X-Trace: b", f"Content-Length: {len(body)}"]
    with socket.create_connection((endpoint.server.host, endpoint.server.port), timeout=10) as connection:
        connection.sendall("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
        while connection.recv(65536):
            pass

    # Then: the event carries them the way API Gateway does
    event = endpoint.cloud.runner.invocations[-1].event
    assert event["queryStringParameters"] == {"source": "retry", "x": ""}
    assert event["multiValueQueryStringParameters"] == {"source": ["ci", "retry"], "x": [""]}
    assert event["headers"]["X-Trace"] == "b"
    assert event["multiValueHeaders"]["X-Trace"] == ["a", "b"]


def test_server_stops_cleanly_and_frees_its_port(endpoint: WebhookEndpoint) -> None:
    # Given: a second server on the same cloud, answering
    from flowops.local.webhook_server import LocalWebhookServer

    server = LocalWebhookServer(endpoint.cloud).start()
    port = server.port
    assert requests.get(server.url + "/", timeout=10).status_code == 403

    # When: it is stopped
    server.stop()

    # Then: its thread ended, the port refuses connections, and stopping again is harmless
    assert not server.running
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/", timeout=2)
    server.stop()
