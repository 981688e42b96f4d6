"""The proxy event the local endpoint builds and the proxy responses it accepts (no cloud needed)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel

from flowops.local.runtime.resources import LocalResources
from flowops.local.webhook_server import (
    LocalWebhookServer,
    ProxyResponse,
    ReceivedRequest,
    WebhookFunctionMissingError,
    proxy_event,
)


def received(body: bytes = b'{"a": 1}', **overrides: Any) -> ReceivedRequest:
    values: dict[str, Any] = {
        "method": "POST",
        "path": "/publish",
        "query": "",
        "headers": [
            ("Host", "127.0.0.1:8787"),
            ("Content-Type", "application/json"),
            ("User-Agent", "curl/8"),
        ],
        "body": body,
        "source_ip": "127.0.0.1",
    }
    return ReceivedRequest(**(values | overrides))


def test_event_passes_powertools_strict_rest_proxy_model() -> None:
    # Given: a request as the server read it
    request = received(query="a=1&a=2")

    # When: it becomes a proxy event
    event = proxy_event(request, resource="/publish", request_id="req-1", now=1_767_225_600.5)

    # Then: powertools' strict model of the REST proxy event accepts it, with API Gateway's values
    parsed = APIGatewayProxyEventModel.model_validate(event)
    assert parsed.resource == "/publish" and parsed.httpMethod == "POST"
    assert parsed.requestContext.requestId == "req-1"
    assert parsed.requestContext.stage == "v1"
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert event["requestContext"]["requestTimeEpoch"] == 1_767_225_600_500
    assert event["requestContext"]["path"] == "/v1/publish"
    assert event["queryStringParameters"] == {"a": "2"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["body"] == '{"a": 1}' and event["isBase64Encoded"] is False


def test_binary_body_is_base64_encoded_and_empty_body_is_null() -> None:
    binary = proxy_event(received(b"\x00\xff\xfe"), resource="/publish", request_id="r", now=0)
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\x00\xff\xfe"

    empty = proxy_event(received(b""), resource="/publish", request_id="r", now=0)
    assert empty["body"] is None and empty["isBase64Encoded"] is False
    assert empty["queryStringParameters"] is None


def test_proxy_response_merges_headers_and_decodes_base64_bodies() -> None:
    # Given: a proxy response with single- and multi-value headers and a base64 body
    response = ProxyResponse.model_validate(
        {
            "statusCode": 202,
            "headers": {"Content-Type": "application/json", "Set-Cookie": "ignored"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": base64.b64encode(b'{"ok": true}').decode(),
            "isBase64Encoded": True,
        }
    )

    # Then: multi-values win for their name, single values fill the rest; the body is decoded
    assert response.header_pairs() == [
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("Content-Type", "application/json"),
    ]
    assert response.body_bytes() == b'{"ok": true}'


@pytest.mark.parametrize("payload", [{}, {"statusCode": "soon"}, {"statusCode": 99}])
def test_malformed_proxy_responses_are_refused(payload: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ProxyResponse.model_validate(payload)


@dataclass
class TemplateOnlyCloud:
    """Just what the server reads at construction: the synthesized resources."""

    resources: LocalResources

    def function_environment(self, query: str) -> dict[str, str]:
        return {}


def test_a_stack_without_the_webhook_function_fails_with_a_clear_message() -> None:
    # Given: a stack whose only function is not the webhook
    template = {
        "Resources": {
            "ScanFn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Handler": "flowops.functions.scan.check_index.handler"},
            }
        }
    }
    cloud = TemplateOnlyCloud(
        LocalResources(template, stack_name="Flowops-local", region="eu-west-1", account_id="123456789012")
    )

    # When / Then: the server refuses to start, naming the handler and the construct to add
    with pytest.raises(
        WebhookFunctionMissingError, match=r"functions\.webhook\.api\.handler.*WebhookApiConstruct"
    ):
        LocalWebhookServer(cloud)  # type: ignore[arg-type]


class FakeLambda:
    """Answers every invoke with one canned Lambda response (what moto's Lambda would return)."""

    def __init__(self, payload: bytes, function_error: str | None = None) -> None:
        self.payload = payload
        self.function_error = function_error
        self.events: list[dict[str, Any]] = []

    def invoke(self, *, FunctionName: str, Payload: bytes) -> dict[str, Any]:
        import io
        import json

        self.events.append(json.loads(Payload))
        answer: dict[str, Any] = {"StatusCode": 200, "Payload": io.BytesIO(self.payload)}
        if self.function_error:
            answer["FunctionError"] = self.function_error
        return answer


@dataclass
class CannedCloud(TemplateOnlyCloud):
    lambda_client: FakeLambda | None = None

    def client(self, service: str) -> Any:
        assert service == "lambda"
        return self.lambda_client


def server_answering(
    payload: bytes, function_error: str | None = None
) -> tuple[LocalWebhookServer, FakeLambda]:
    template = {
        "Resources": {
            "WebhookFn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Handler": "flowops.functions.webhook.api.handler"},
            }
        }
    }
    fake = FakeLambda(payload, function_error)
    resources = LocalResources(
        template, stack_name="Flowops-local", region="eu-west-1", account_id="123456789012"
    )
    return LocalWebhookServer(CannedCloud(resources, fake)), fake  # type: ignore[arg-type]


SIGNED = [("X-Hub-Signature-256", "sha256=" + "0" * 64)]


@pytest.mark.parametrize(
    ("payload", "function_error"),
    [(b'{"errorType": "KeyError", "errorMessage": "boom"}', "Unhandled"), (b'{"body": "no status"}', None)],
)
def test_function_errors_and_malformed_responses_become_502(
    payload: bytes, function_error: str | None
) -> None:
    # Given: a function that raises, or answers without a statusCode
    server, _ = server_answering(payload, function_error)

    # When: a request reaches it
    status, headers, body = server.respond(received(headers=SIGNED))

    # Then: API Gateway's answer to a broken integration, with no detail leaked
    assert status == 502
    assert body == b'{"message": "Internal server error"}'
    assert ("Content-Type", "application/json") in headers


def test_function_answer_is_relayed_with_a_request_id() -> None:
    # Given: a function answering 202 with a body
    server, fake = server_answering(b'{"statusCode": 202, "headers": {"X-A": "1"}, "body": "{}"}')

    # When: a stage-prefixed request reaches it
    status, headers, body = server.respond(received(path="/v1/publish", headers=SIGNED))

    # Then: status, headers and body as the function gave them, plus x-amzn-RequestId; default content type
    assert (status, body) == (202, b"{}")
    names = [name for name, _ in headers]
    assert names == ["X-A", "Content-Type", "x-amzn-RequestId"]
    assert fake.events[0]["path"] == "/publish"
    assert fake.events[0]["requestContext"]["requestId"] == dict(headers)["x-amzn-RequestId"]


def test_gateway_answers_never_invoke_the_function() -> None:
    server, fake = server_answering(b'{"statusCode": 202}')

    assert server.respond(received(path="/other", headers=SIGNED))[0] == 403
    assert server.respond(received(method="GET", headers=SIGNED))[0] == 403
    assert fake.events == []
