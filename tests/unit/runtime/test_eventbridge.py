"""The local EventBridge: pattern matching and target input, as EventBridge documents them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flowops.local.runtime.eventbridge import (
    EventPatternError,
    LocalEventBus,
    LocalRule,
    pattern_matches,
    target_payload,
    transform_input,
    validated_pattern,
)

MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:Flowops-dev-Publish"
EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:Flowops-dev-Publish:run-1"


def status_change(status: str = "TIMED_OUT", **detail: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": "123456789012",
        "time": "2026-12-02T12:00:00Z",
        "region": "eu-west-1",
        "resources": [EXECUTION],
        "detail": {
            "executionArn": EXECUTION,
            "stateMachineArn": MACHINE,
            "name": "run-1",
            "status": status,
            "startDate": 1764676800000,
            "stopDate": 1764680400000,
            "input": '{"org":"dev"}',
            "output": None,
            **detail,
        },
    }


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        # exact values: any of the listed values
        ({"source": ["aws.states"], "detail": {"status": ["TIMED_OUT", "ABORTED"]}}, True),
        ({"source": ["aws.states"], "detail": {"status": ["FAILED"]}}, False),
        # every field of the pattern must match
        ({"source": ["aws.states"], "detail-type": ["Something Else"]}, False),
        # prefix
        ({"detail": {"stateMachineArn": [{"prefix": "arn:aws:states:eu-west-1:"}]}}, True),
        ({"detail": {"stateMachineArn": [{"prefix": "arn:aws:states:us-east-1:"}]}}, False),
        # anything-but: values, and a nested prefix
        ({"detail": {"status": [{"anything-but": ["RUNNING", "SUCCEEDED"]}]}}, True),
        ({"detail": {"status": [{"anything-but": "TIMED_OUT"}]}}, False),
        ({"detail": {"name": [{"anything-but": {"prefix": "local-"}}]}}, True),
        # exists (a null value exists; a missing field does not)
        ({"detail": {"output": [{"exists": True}]}}, True),
        ({"detail": {"error": [{"exists": False}]}}, True),
        ({"detail": {"error": [{"exists": True}]}}, False),
        # numeric ranges
        ({"detail": {"startDate": [{"numeric": [">", 0, "<=", 1764676800000]}]}}, True),
        ({"detail": {"startDate": [{"numeric": [">", 1764676800000]}]}}, False),
        # array event values: any element matches
        ({"resources": [EXECUTION]}, True),
        ({"resources": [{"prefix": "arn:aws:states:eu-west-1:123456789012:execution:Other"}]}, False),
        # $or of sub-patterns
        ({"$or": [{"detail": {"status": ["FAILED"]}}, {"detail": {"name": ["run-1"]}}]}, True),
        # a field the event lacks never matches a value
        ({"detail": {"missing": ["x"]}}, False),
        # the empty pattern matches everything
        ({}, True),
    ],
)
def test_patterns_match_as_eventbridge_documents(pattern: dict[str, Any], matches: bool) -> None:
    # Given a Step Functions status-change event and a pattern
    # Then the pattern matches exactly when EventBridge's rules say it does
    assert pattern_matches(validated_pattern(pattern), status_change()) is matches


@pytest.mark.parametrize(
    "pattern",
    [
        {"source": "aws.states"},  # a leaf must be an array
        {"detail": {"status": []}},  # no empty arrays
        ["aws.states"],  # not an object
    ],
)
def test_patterns_put_rule_would_refuse_are_refused(pattern: Any) -> None:
    with pytest.raises(EventPatternError):
        validated_pattern(pattern)


def test_a_json_template_gets_json_values_bare_and_raw_text_inside_strings() -> None:
    # Given CDK's shape of an InputTransformer (RuleTargetInput.fromObject with EventFields)
    transformer = {
        "InputPathsMap": {
            "detail-executionArn": "$.detail.executionArn",
            "detail-status": "$.detail.status",
            "detail-startDate": "$.detail.startDate",
            "resources-0": "$.resources[0]",
            "detail-absent": "$.detail.absent",
        },
        "InputTemplate": (
            '{"workflow":"publish","execution_arn":<detail-executionArn>,"started":<detail-startDate>,'
            '"note":"<detail-status> at \\"<resources-0>\\"","absent":<detail-absent>,'
            '"rule":"<aws.events.rule-name>","event":<aws.events.event.json>}'
        ),
    }
    # When it transforms the event
    payload = json.loads(
        transform_input(transformer, status_change(), rule_name="r1", rule_arn="arn:aws:events:::rule/r1")
    )
    # Then bare placeholders are JSON values, quoted ones raw text, a missing path null
    assert payload["execution_arn"] == EXECUTION
    assert payload["started"] == 1764676800000
    assert payload["note"] == f'TIMED_OUT at "{EXECUTION}"'
    assert payload["absent"] is None
    assert payload["rule"] == "r1"
    assert payload["event"] == status_change()


def test_a_text_template_gets_raw_values() -> None:
    transformer = {
        "InputPathsMap": {"name": "$.detail.name", "status": "$.detail.status"},
        "InputTemplate": "execution <name> is <status>",
    }
    assert transform_input(transformer, status_change(), rule_name="r", rule_arn="a") == (
        "execution run-1 is TIMED_OUT"
    )


def test_a_target_gets_its_input_its_input_path_or_the_whole_event() -> None:
    event = status_change()
    assert target_payload({"Input": '{"fixed":1}'}, event, rule_name="r", rule_arn="a") == '{"fixed":1}'
    assert (
        json.loads(target_payload({"InputPath": "$.detail"}, event, rule_name="r", rule_arn="a"))
        == (event["detail"])
    )
    assert json.loads(target_payload({}, event, rule_name="r", rule_arn="a")) == event


def test_the_bus_delivers_matching_events_to_every_target_and_records_failures() -> None:
    # Given a rule with two targets, one of which fails
    received: list[tuple[str, str]] = []

    def deliver(arn: str, payload: str) -> str | None:
        received.append((arn, payload))
        return "Unhandled: boom" if arn.endswith("broken") else None

    rule = LocalRule(
        name="ended",
        arn="arn:aws:events:eu-west-1:123456789012:rule/ended",
        logical_id="EndedRule1234ABCD",
        pattern=validated_pattern({"source": ["aws.states"], "detail": {"status": ["TIMED_OUT"]}}),
        targets=(
            {"Arn": "arn:aws:lambda:eu-west-1:123456789012:function:ok", "Id": "Target0"},
            {"Arn": "arn:aws:lambda:eu-west-1:123456789012:function:broken", "Id": "Target1"},
        ),
    )
    bus = LocalEventBus([rule], deliver)
    # When a matching and a non-matching event are put
    assert bus.put_event(status_change("TIMED_OUT")) == 2
    assert bus.put_event(status_change("SUCCEEDED")) == 0
    deliveries = bus.drain(timeout=10)
    # Then each target got the matching event once, and the failure is recorded, not raised
    assert sorted(arn.rsplit(":", 1)[1] for arn, _ in received) == ["broken", "ok"]
    assert {d.target_arn.rsplit(":", 1)[1]: d.error for d in deliveries} == {
        "ok": None,
        "broken": "Unhandled: boom",
    }
    assert bus.deliveries_to("EndedRule") == deliveries
