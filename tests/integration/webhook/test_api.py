"""The webhook handler end to end: API Gateway event → handler → moto DynamoDB/SFN/S3/Secrets."""

from __future__ import annotations

import datetime
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel

from flowops.webhook.replay import execution_name_for
from flowops.webhook.signature import sign
from tests.integration.webhook.conftest import (
    MAIN_IVR_ID,
    WEBHOOK_SECRET,
    WebhookCloud,
    publish_document,
)
from tests.integration.webhook.events import rest_event
from tests.unit.flowyaml.test_hostile_input import ALIAS_BOMB, DEEP_FLOW_STYLE


def answer(response: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(response["body"])
    return body


def test_the_sample_event_has_the_shape_api_gateway_sends() -> None:
    # The event builder's base passes powertools' strict REST proxy event model.
    APIGatewayProxyEventModel.model_validate(rest_event(b"{}", {"X-Test": "1"}))


def test_a_signed_publish_request_starts_the_execution_and_answers_202(webhook_cloud: WebhookCloud) -> None:
    # Given a signed request naming a flow of the current lock
    event = webhook_cloud.signed_event(publish_document(), delivery_id="gh-delivery-1")

    # When the handler receives it
    response = webhook_cloud.handle(event)

    # Then it answers 202 with the execution ARN and a status URL
    assert response["statusCode"] == 202, response["body"]
    accepted = answer(response)
    name = execution_name_for("gh-delivery-1")
    assert (
        accepted["executionArn"]
        == f"{webhook_cloud.state_machine_arn.replace('stateMachine', 'execution')}:{name}"
    )
    region = accepted["executionArn"].split(":")[3]
    assert accepted["statusUrl"] == (
        f"https://{region}.console.aws.amazon.com/states/home?region={region}"
        f"#/v2/executions/details/{accepted['executionArn']}"
    )
    assert accepted["deliveryId"] == "gh-delivery-1"
    # And exactly that execution exists, with the flow resolved from the lock
    (execution,) = webhook_cloud.executions()
    assert execution["executionArn"] == accepted["executionArn"]
    described = boto3.client("stepfunctions").describe_execution(executionArn=accepted["executionArn"])
    execution_input = json.loads(described["input"])
    assert execution_input["flow"]["id"] == MAIN_IVR_ID
    assert execution_input["source"] == {"kind": "version", "version": "3.0"}


def test_the_delivery_record_is_kept_in_the_state_table_with_a_ttl(webhook_cloud: WebhookCloud) -> None:
    webhook_cloud.handle(webhook_cloud.signed_event(publish_document(), delivery_id="d-ttl"))

    item = boto3.client("dynamodb").get_item(
        TableName=webhook_cloud.state_table, Key={"pk": {"S": "DELIVERY#d-ttl"}, "sk": {"S": "DELIVERY"}}
    )["Item"]
    assert item["status"]["S"] == "STARTED"
    assert int(item["expires_at"]["N"]) > time.time() + 24 * 3600


def test_a_replayed_delivery_answers_with_the_same_execution(webhook_cloud: WebhookCloud) -> None:
    # Given a delivery that was accepted
    event = webhook_cloud.signed_event(publish_document(), delivery_id="d-replay")
    first = answer(webhook_cloud.handle(event))

    # When exactly the same delivery arrives again
    response = webhook_cloud.handle(event)

    # Then the answer is 202 for the same execution, marked as a replay, and only one exists
    assert response["statusCode"] == 202
    assert answer(response)["executionArn"] == first["executionArn"]
    assert answer(response)["replayed"] is True
    assert len(webhook_cloud.executions()) == 1


def _delivery_key(delivery_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"DELIVERY#{delivery_id}"}, "sk": {"S": "DELIVERY"}}


def test_a_delivery_id_reused_after_its_ttl_starts_a_new_run_although_the_item_remains(
    webhook_cloud: WebhookCloud,
) -> None:
    # Given a delivery accepted 8 days ago; TTL is on, but DynamoDB has not deleted the item yet
    dynamodb = boto3.client("dynamodb")
    dynamodb.update_time_to_live(
        TableName=webhook_cloud.state_table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )
    first = answer(webhook_cloud.handle(webhook_cloud.signed_event(publish_document(), delivery_id="d-exp")))
    eight_days_ago = time.time() - 8 * 24 * 3600
    dynamodb.update_item(
        TableName=webhook_cloud.state_table,
        Key=_delivery_key("d-exp"),
        UpdateExpression="SET expires_at = :past, claimed_at = :then",
        ExpressionAttributeValues={
            ":past": {"N": str(int(eight_days_ago) + 7 * 24 * 3600)},
            ":then": {"N": repr(eight_days_ago)},
        },
    )

    # When the same delivery id arrives again, freshly signed
    response = webhook_cloud.handle(webhook_cloud.signed_event(publish_document(), delivery_id="d-exp"))

    # Then a new execution starts (not a replay, not the old ARN) and the item is renewed
    assert response["statusCode"] == 202, response["body"]
    accepted = answer(response)
    assert accepted["replayed"] is False
    assert accepted["executionArn"] != first["executionArn"]
    assert accepted["executionName"] == execution_name_for("d-exp", 2)
    assert {e["executionArn"] for e in webhook_cloud.executions()} == {
        first["executionArn"],
        accepted["executionArn"],
    }
    item = dynamodb.get_item(TableName=webhook_cloud.state_table, Key=_delivery_key("d-exp"))["Item"]
    assert (item["generation"]["N"], item["status"]["S"]) == ("2", "STARTED")
    assert int(item["expires_at"]["N"]) > time.time() + 6 * 24 * 3600


def test_a_delivery_id_reused_after_its_item_was_deleted_never_answers_with_the_old_arn(
    webhook_cloud: WebhookCloud,
) -> None:
    from moto.stepfunctions.models import stepfunctions_backends

    # Given a delivery whose execution started 8 days ago and whose claim TTL already deleted
    first = answer(webhook_cloud.handle(webhook_cloud.signed_event(publish_document(), delivery_id="d-del")))
    region = boto3.session.Session().region_name
    backend = stepfunctions_backends[webhook_cloud.state_machine_arn.split(":")[4]][region]
    old = backend.describe_execution(first["executionArn"])
    old.start_date = old.start_date - datetime.timedelta(days=8)
    boto3.client("dynamodb").delete_item(TableName=webhook_cloud.state_table, Key=_delivery_key("d-del"))

    # When the same delivery id arrives again
    response = webhook_cloud.handle(webhook_cloud.signed_event(publish_document(), delivery_id="d-del"))

    # Then the old execution is not reported as this request's run: a new one starts
    accepted = answer(response)
    assert response["statusCode"] == 202, response["body"]
    assert (accepted["replayed"], accepted["executionName"]) == (False, execution_name_for("d-del", 2))
    assert len(webhook_cloud.executions()) == 2


def test_a_delivery_id_reused_with_another_body_is_409(webhook_cloud: WebhookCloud) -> None:
    webhook_cloud.handle(webhook_cloud.signed_event(publish_document(), delivery_id="d-1"))

    response = webhook_cloud.handle(
        webhook_cloud.signed_event(publish_document(reason="other"), delivery_id="d-1")
    )

    assert response["statusCode"] == 409
    assert len(webhook_cloud.executions()) == 1


def _without(event: dict[str, Any], header: str) -> dict[str, Any]:
    event["headers"].pop(header)
    event["multiValueHeaders"].pop(header)
    return event


def _with(event: dict[str, Any], header: str, value: str) -> dict[str, Any]:
    event["headers"][header] = value
    event["multiValueHeaders"][header] = [value]
    return event


def _tampered(event: dict[str, Any]) -> dict[str, Any]:
    event["body"] = event["body"].replace('"3.0"', '"4.0"')
    return event


@pytest.mark.parametrize(
    ("case", "change", "status", "message"),
    [
        (
            "missing signature",
            lambda e: _without(e, "X-Hub-Signature-256"),
            401,
            "missing X-Hub-Signature-256",
        ),
        ("malformed signature", lambda e: _with(e, "X-Hub-Signature-256", "sha1=abc"), 401, "malformed"),
        (
            "wrong secret",
            lambda e: _with(e, "X-Hub-Signature-256", sign(e["body"].encode(), "x")),
            401,
            "match",
        ),
        ("body tampered after signing", _tampered, 401, "does not match"),
        ("missing bound signature", lambda e: _without(e, "X-Flowops-Signature-256"), 401, "missing"),
        (
            "relabelled delivery id",
            lambda e: _with(e, "X-Flowops-Delivery", "fresh-id"),
            401,
            "Signature-256",
        ),
        ("missing delivery id", lambda e: _without(e, "X-Flowops-Delivery"), 400, "delivery id"),
        (
            "missing timestamp",
            lambda e: _without(e, "X-Flowops-Timestamp"),
            401,
            "missing X-Flowops-Timestamp",
        ),
    ],
)
def test_requests_failing_authentication_start_nothing(
    webhook_cloud: WebhookCloud, case: str, change: Any, status: int, message: str
) -> None:
    # Given a correctly signed request, changed after signing
    event = change(webhook_cloud.signed_event(publish_document()))

    # When the handler receives it
    response = webhook_cloud.handle(event)

    # Then it is refused with the documented status and nothing started
    assert response["statusCode"] == status, (case, response["body"])
    assert message in answer(response)["message"]
    assert webhook_cloud.executions() == []


def test_a_stale_timestamp_is_401_even_when_signed(webhook_cloud: WebhookCloud) -> None:
    event = webhook_cloud.signed_event(publish_document(), timestamp=int(time.time()) - 301)

    response = webhook_cloud.handle(event)

    assert response["statusCode"] == 401
    assert "old" in answer(response)["message"]
    assert webhook_cloud.executions() == []


@pytest.mark.parametrize("stamp", ["\u00b2", "\u0661\u0667\u0660\u0660\u0660", "\udc80", "1e9", " "])
def test_a_signed_request_with_a_non_ascii_digit_timestamp_is_401_not_500(
    webhook_cloud: WebhookCloud, stamp: str
) -> None:
    # Given a request signed by the secret holder with a timestamp str.isdigit() may accept
    body = json.dumps(publish_document()).encode()
    event = webhook_cloud.signed_event(body, delivery_id="odd-stamp")
    bound = sign(f"{stamp}.odd-stamp.".encode(errors="surrogatepass") + body, WEBHOOK_SECRET)
    event = _with(_with(event, "X-Flowops-Timestamp", stamp), "X-Flowops-Signature-256", bound)

    # When the handler receives it
    response = webhook_cloud.handle(event)

    # Then it is refused as a malformed timestamp and nothing started
    assert response["statusCode"] == 401, response["body"]
    assert "X-Flowops-Timestamp" in answer(response)["message"]
    assert webhook_cloud.executions() == []


def test_a_body_with_a_lone_surrogate_is_400_not_500(webhook_cloud: WebhookCloud) -> None:
    # Given an event whose (text) body holds a lone surrogate, as a JSON escape can produce
    event = webhook_cloud.signed_event(publish_document())
    event["body"] = event["body"][:-1] + "\udc80}"

    response = webhook_cloud.handle(event)

    assert response["statusCode"] == 400, response["body"]
    assert "UTF-8" in answer(response)["message"]
    assert webhook_cloud.executions() == []


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("yaml_text", "needle"),
    [
        (DEEP_FLOW_STYLE[:60_000], "nested more than 128 levels"),
        (ALIAS_BOMB, "expands to more than 200000 values"),
    ],
    ids=["deep", "alias-bomb"],
)
def test_hostile_inline_yaml_is_400_and_starts_nothing(
    webhook_cloud: WebhookCloud, yaml_text: str, needle: str
) -> None:
    # Given a signed request whose inline YAML is nested 25,000 deep, or an alias bomb
    document = publish_document(version=None, yaml=yaml_text)
    # When the handler receives it
    response = webhook_cloud.handle(webhook_cloud.signed_event(document))
    # Then it is refused naming the field and the limit, and no run starts
    assert response["statusCode"] == 400, response["body"]
    assert answer(response)["fields"] == ["yaml"]
    assert needle in answer(response)["message"]
    assert webhook_cloud.executions() == []


def test_a_deeply_nested_json_body_is_400(webhook_cloud: WebhookCloud) -> None:
    response = webhook_cloud.handle(webhook_cloud.signed_event(b"[" * 30_000 + b"]" * 30_000))
    assert response["statusCode"] == 400, response["body"]
    assert "malformed JSON" in answer(response)["message"]


def test_an_oversized_body_is_413(webhook_cloud: WebhookCloud) -> None:
    # Given a body over WEBHOOK_MAX_BODY_BYTES (64 KiB in this environment)
    event = webhook_cloud.signed_event(publish_document(version=None, yaml="x" * (65 * 1024)))

    response = webhook_cloud.handle(event)

    assert response["statusCode"] == 413
    assert webhook_cloud.executions() == []


def test_malformed_json_is_400_naming_the_problem(webhook_cloud: WebhookCloud) -> None:
    response = webhook_cloud.handle(webhook_cloud.signed_event(b'{"flow": {"id": "x"},'))

    assert response["statusCode"] == 400
    assert answer(response)["message"].startswith("malformed JSON body")
    assert webhook_cloud.executions() == []


def test_an_invalid_field_is_400_naming_the_field(webhook_cloud: WebhookCloud) -> None:
    response = webhook_cloud.handle(webhook_cloud.signed_event(publish_document(force_unlock="yes")))

    assert response["statusCode"] == 400
    assert answer(response)["fields"] == ["force_unlock"]
    assert webhook_cloud.executions() == []


@pytest.mark.parametrize(
    ("flow", "environment", "status"),
    [
        ({"name": "Not In Lock", "type": "INBOUNDCALL"}, "test", 404),
        ({"id": "0000-unknown"}, "test", 404),
        ({"id": MAIN_IVR_ID}, "staging", 404),
    ],
)
def test_unknown_flow_or_environment_is_404_and_starts_nothing(
    webhook_cloud: WebhookCloud, flow: dict[str, str], environment: str, status: int
) -> None:
    event = webhook_cloud.signed_event(publish_document(flow=flow, environment=environment))

    response = webhook_cloud.handle(event)

    assert response["statusCode"] == status
    assert webhook_cloud.executions() == []


def test_a_base64_encoded_body_is_verified_on_its_decoded_bytes(webhook_cloud: WebhookCloud) -> None:
    event = webhook_cloud.signed_event(publish_document())
    encoded = rest_event(event["body"], event["headers"], base64_encoded=True)

    assert webhook_cloud.handle(encoded)["statusCode"] == 202


def test_other_routes_are_404(webhook_cloud: WebhookCloud) -> None:
    assert webhook_cloud.handle(rest_event(b"{}", {}, path="/publish", method="GET"))["statusCode"] == 404


def test_fifty_concurrent_deliveries_of_one_event_start_one_execution(webhook_cloud: WebhookCloud) -> None:
    # Given one delivery sent 50 times at once (a sender retrying aggressively, or a replay storm)
    event = webhook_cloud.signed_event(publish_document(), delivery_id="storm-1")

    # When 50 threads hand it to the handler concurrently
    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(lambda _: webhook_cloud.handle(event), range(50)))

    # Then every answer is 202 for the same execution, exactly one started it, and one exists
    assert [response["statusCode"] for response in responses] == [202] * 50
    arns = {answer(response)["executionArn"] for response in responses}
    assert len(arns) == 1
    assert sum(not answer(response)["replayed"] for response in responses) == 1
    assert [execution["executionArn"] for execution in webhook_cloud.executions()] == list(arns)


def test_the_secret_never_appears_in_logs_or_answers(
    webhook_cloud: WebhookCloud, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # Given accepted, refused and replayed deliveries
    good = webhook_cloud.signed_event(publish_document(), delivery_id="d-log")
    bodies = [
        webhook_cloud.handle(good)["body"],
        webhook_cloud.handle(good)["body"],
        webhook_cloud.handle(_tampered(webhook_cloud.signed_event(publish_document())))["body"],
        webhook_cloud.handle(webhook_cloud.signed_event(b"not json"))["body"],
        webhook_cloud.handle(
            _with(webhook_cloud.signed_event(publish_document()), "X-Hub-Signature-256", "x")
        )["body"],
    ]

    # Then neither the secret nor a valid signature shows in any log line or response
    captured = capsys.readouterr()
    everything = captured.out + captured.err + caplog.text + "".join(bodies)
    assert "webhook request refused" in everything  # the logs were captured at all
    assert WEBHOOK_SECRET not in everything
    assert good["headers"]["X-Hub-Signature-256"].removeprefix("sha256=") not in everything
