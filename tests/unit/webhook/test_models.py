from __future__ import annotations

import json
from typing import Any

import pytest

from flowops.webhook.errors import InvalidRequestError
from flowops.webhook.models import PublishAccepted, parse_publish_request


def body(**overrides: Any) -> bytes:
    document: dict[str, Any] = {
        "flow": {"id": "5e2f0c4a-1111-4a4a-9c9c-000000000001"},
        "environment": "test",
        "version": "3.0",
        "requester": "ci@example.com",
        "reason": "release 42",
    }
    for key, value in overrides.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    return json.dumps(document).encode()


def refusal(raw: bytes, **kwargs: Any) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as refused:
        parse_publish_request(raw, **kwargs)
    assert refused.value.status_code == 400
    return refused.value


def test_a_request_naming_a_checked_in_version_parses() -> None:
    request = parse_publish_request(body())

    assert request.flow.id == "5e2f0c4a-1111-4a4a-9c9c-000000000001"
    assert request.version == "3.0"
    assert request.yaml is None and request.yaml_s3_key is None
    assert request.force_unlock is False and request.allow_drift is False


def test_a_flow_may_be_named_by_name_and_type() -> None:
    request = parse_publish_request(body(flow={"name": "Main IVR", "type": "INBOUNDCALL"}))

    assert (request.flow.name, request.flow.type, request.flow.id) == ("Main IVR", "INBOUNDCALL", None)


@pytest.mark.parametrize(
    "flow",
    [{"name": "Main IVR"}, {"type": "INBOUNDCALL"}, {}],
)
def test_a_flow_without_id_needs_name_and_type(flow: dict[str, str]) -> None:
    error = refusal(body(flow=flow))

    assert "flow" in error.fields
    assert "'id', or both 'name' and 'type'" in error.message


def test_an_unknown_flow_type_is_named() -> None:
    error = refusal(body(flow={"name": "x", "type": "INBOUNDFAX"}))

    assert error.fields == ("flow.type",)
    assert "INBOUNDFAX" in error.message


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"version": None}, "got: none"),
        ({"yaml": "name: x"}, "got: yaml, version"),
        ({"version": None, "yaml": "a: 1", "yaml_s3_key": "uploads/x.yaml"}, "got: yaml, yaml_s3_key"),
    ],
)
def test_exactly_one_source_is_required(overrides: dict[str, Any], named: str) -> None:
    error = refusal(body(**overrides))

    assert "exactly one of 'yaml', 'yaml_s3_key', 'version'" in error.message
    assert named in error.message


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"environment": "Prod!"}, "environment"),
        ({"requester": ""}, "requester"),
        ({"force_unlock": "yes"}, "force_unlock"),
        ({"allow_drift": 1}, "allow_drift"),
        ({"version": 3}, "version"),
        ({"version": "latest"}, "version"),
        ({"unexpected": True}, "unexpected"),
        ({"version": None, "yaml_s3_key": "uploads/../locks/x.yaml"}, "yaml_s3_key"),
        ({"version": None, "yaml_s3_key": "/abs/flow.yaml"}, "yaml_s3_key"),
        ({"version": None, "yaml_s3_key": "uploads/flow.json"}, "yaml_s3_key"),
        ({"flow": {"id": "has space"}}, "flow.id"),
    ],
)
def test_an_invalid_field_is_named(overrides: dict[str, Any], field: str) -> None:
    # Given a request with one bad field
    # When it is parsed
    error = refusal(body(**overrides))

    # Then the 400 names exactly that field
    assert error.fields == (field,)
    assert error.message.startswith("invalid publish request: " + field)


def test_inline_yaml_over_the_limit_is_refused_with_the_way_out() -> None:
    error = refusal(body(version=None, yaml="a" * 101), max_inline_yaml_bytes=100)

    assert error.fields == ("yaml",)
    assert "yaml_s3_key" in error.message


@pytest.mark.parametrize("raw", [b"{", b"", b"not json", b'{"flow": }', b"\xff\xfe"])
def test_malformed_json_is_a_400_that_says_so(raw: bytes) -> None:
    error = refusal(raw)

    assert error.message.startswith("malformed JSON body")


def test_a_non_object_body_is_refused() -> None:
    assert "object" in refusal(b"[1, 2]").message


def test_refusals_never_echo_the_submitted_value() -> None:
    secret_looking = "AKIA-very-sensitive-value"
    error = refusal(body(environment=secret_looking))

    assert secret_looking not in error.message


def test_the_accepted_answer_uses_the_documented_camel_case_keys() -> None:
    answer = PublishAccepted(
        execution_arn="arn:aws:states:eu-west-1:1:execution:m:n",
        execution_name="n",
        status_url="/runs/n",
        delivery_id="d",
    )

    assert json.loads(answer.model_dump_json(by_alias=True)) == {
        "executionArn": "arn:aws:states:eu-west-1:1:execution:m:n",
        "executionName": "n",
        "statusUrl": "/runs/n",
        "deliveryId": "d",
        "replayed": False,
    }
