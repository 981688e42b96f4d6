"""docs/openapi/webhook.yaml stays in step with the code: request model, error codes, routes,
and what the running endpoint really answers."""

from __future__ import annotations

import json
import uuid
from functools import cache
from typing import Any

import jsonschema
import pytest
import requests
import yaml

from flowops.local.webhook_server import ROUTES
from flowops.webhook import errors
from flowops.webhook.models import FLOW_TYPES, PublishAccepted, PublishRequest
from tests.integration.local_webhook.endpoint import OPENAPI_FILE, WebhookEndpoint

# Keywords that constrain a value; titles, descriptions and examples are documentation only.
CONSTRAINTS = ("type", "pattern", "minLength", "maxLength", "enum", "default", "additionalProperties")


@cache
def openapi() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(OPENAPI_FILE.read_text(encoding="utf-8"))
    return document


def component(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = openapi()["components"]["schemas"][name]
    return schema


def non_null(schema: dict[str, Any]) -> dict[str, Any]:
    """pydantic writes `X | None` as anyOf [X, null]; the OpenAPI documents X (omit = null)."""
    branches = [branch for branch in schema.get("anyOf", []) if branch.get("type") != "null"]
    merged = {**schema, **(branches[0] if len(branches) == 1 else {})}
    merged.pop("anyOf", None)
    if merged.get("default", "absent") is None:
        merged.pop("default")  # "absent" in the model is "not given" in the API
    return merged


def resolved(schema: Any) -> Any:
    """`schema` with every `#/components/schemas/...` reference replaced by its target."""
    if isinstance(schema, list):
        return [resolved(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return resolved(component(schema["$ref"].rsplit("/", 1)[-1]))
    return {key: resolved(value) for key, value in schema.items()}


def constraints(schema: dict[str, Any]) -> dict[str, Any]:
    return {key: schema[key] for key in CONSTRAINTS if key in schema}


def assert_same_object(documented: dict[str, Any], model_schema: dict[str, Any], where: str) -> None:
    assert set(documented["properties"]) == set(model_schema["properties"]), where
    assert set(documented.get("required", [])) == set(model_schema.get("required", [])), where
    assert documented["additionalProperties"] is False and model_schema["additionalProperties"] is False
    for name, model_property in model_schema["properties"].items():
        if "$ref" in model_property:
            continue
        expected = constraints(non_null(model_property))
        actual = {key: value for key, value in constraints(documented["properties"][name]).items()}
        if name == "type" and where == "FlowRef":
            # The model checks flow types in a validator; the OpenAPI spells them out as an enum.
            assert set(actual.pop("enum")) == FLOW_TYPES
        assert actual == expected, f"{where}.{name}"


def test_request_schema_matches_the_pydantic_model() -> None:
    # Given: the model's JSON schema and the documented request body
    model_schema = PublishRequest.model_json_schema()

    # Then: same properties, required fields and constraints, top level and the flow reference
    assert_same_object(component("PublishRequest"), model_schema, "PublishRequest")
    assert_same_object(component("FlowRef"), model_schema["$defs"]["FlowRef"], "FlowRef")


def test_documented_source_and_flow_rules_agree_with_the_model() -> None:
    # Given: bodies that break or keep the "exactly one source" and "id, or name and type" rules
    base = {"flow": {"id": "f-1"}, "environment": "dev", "requester": "ci", "reason": "r"}
    cases = [
        {**base, "version": "1.0"},
        {**base, "yaml": "a: b", "version": "1.0"},
        {**base},
        {**base, "flow": {"name": "Main IVR"}, "yaml_s3_key": "uploads/a.yaml"},
        {**base, "flow": {"name": "Main IVR", "type": "INBOUNDCALL"}, "yaml_s3_key": "uploads/a.yaml"},
    ]
    validator = jsonschema.Draft4Validator(resolved(component("PublishRequest")))

    for body in cases:
        # When: each is checked against the OpenAPI schema and parsed by the model
        documented_valid = validator.is_valid(body)
        try:
            PublishRequest.model_validate_json(json.dumps(body), strict=True)
            model_valid = True
        except ValueError:
            model_valid = False

        # Then: both say the same
        assert documented_valid == model_valid, body


def test_accepted_schema_matches_the_response_model() -> None:
    model_schema = PublishAccepted.model_json_schema(by_alias=True)
    documented = component("PublishAccepted")
    assert set(documented["properties"]) == set(model_schema["properties"])
    # model_dump always writes every field, so the answer always carries `replayed` too.
    assert set(documented["required"]) == set(model_schema["properties"])


def test_every_error_code_the_function_raises_is_documented() -> None:
    # Given: every WebhookError the core raises (each carries its status and code)
    raised: set[type[errors.WebhookError]] = {
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.WebhookError) and cls is not errors.WebhookError
    }
    responses = openapi()["paths"]["/publish"]["post"]["responses"]
    documented_codes = set(component("Error")["properties"]["code"]["enum"])

    # Then: each status is a documented response and each code is in the Error schema
    for cls in raised:
        assert str(cls.status_code) in responses, cls.__name__
        assert cls.code in documented_codes, cls.__name__


def test_the_server_serves_exactly_the_documented_routes() -> None:
    documented = {
        path: frozenset(method.upper() for method in operations)
        for path, operations in openapi()["paths"].items()
    }
    assert documented == dict(ROUTES)


def response_schema(status: int) -> dict[str, Any]:
    response = openapi()["paths"]["/publish"]["post"]["responses"][str(status)]
    ref = response["content"]["application/json"]["schema"]["$ref"]
    return component(ref.rsplit("/", 1)[-1])


@pytest.mark.slow
def test_live_answers_conform_to_the_documented_responses(endpoint: WebhookEndpoint) -> None:
    # Given: one request per outcome the local endpoint can produce
    from flowops.webhook.signature import signed_headers

    good = json.dumps(endpoint.publish_document(reason="schema conformance")).encode()
    wrong_secret = signed_headers(good, "wrong", delivery_id=str(uuid.uuid4()), timestamp=0)
    unknown_flow = json.dumps(endpoint.publish_document(flow={"id": "no-such-flow"})).encode()
    invalid = json.dumps(endpoint.publish_document(force_unlock="yes")).encode()
    requests_to_send = [
        (good, endpoint.signed_headers(good), 202),
        (good, wrong_secret, 401),
        (good, {"Content-Type": "application/json"}, 401),
        (invalid, endpoint.signed_headers(invalid), 400),
        (unknown_flow, endpoint.signed_headers(unknown_flow), 404),
    ]

    for body, headers, expected in requests_to_send:
        # When: it is sent
        response = requests.post(endpoint.publish_url, data=body, headers=headers, timeout=30)

        # Then: the documented status, with a body valid against the documented schema
        assert response.status_code == expected, response.text
        jsonschema.Draft4Validator(response_schema(expected)).validate(response.json())
