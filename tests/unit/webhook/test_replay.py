from __future__ import annotations

import re

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from flowops.webhook.errors import InvalidRequestError, StaleRequestError
from flowops.webhook.replay import check_timestamp, execution_name_for, validate_delivery_id
from flowops.webhook.starter import execution_arn_from

NOW = 1_750_000_000.0
# Step Functions: 1..80 characters; we promise the conservative [A-Za-z0-9_-] subset.
EXECUTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")


@pytest.mark.parametrize("offset", [0, -300, 300, -1, 12])
def test_timestamps_inside_the_tolerance_pass(offset: int) -> None:
    assert check_timestamp(str(int(NOW) + offset), now=NOW, tolerance_seconds=300) == int(NOW) + offset


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (str(int(NOW) - 301), "301 s old"),
        (str(int(NOW) + 301), "in the future"),
        (None, "missing"),
        ("", "missing"),
        ("17e8", "malformed"),
        ("-5", "malformed"),
        ("9" * 40, "malformed"),
        # str.isdigit() is true for these, and int() raises or reads another number
        ("\u00b2", "malformed"),
        ("1700000000\u00b2", "malformed"),
        ("\u0661\u0667\u0660\u0660", "malformed"),
        ("\udc80", "malformed"),
    ],
)
def test_stale_future_missing_and_malformed_timestamps_are_401(value: str | None, message: str) -> None:
    with pytest.raises(StaleRequestError) as refused:
        check_timestamp(value, now=NOW, tolerance_seconds=300)

    assert refused.value.status_code == 401
    assert message in refused.value.message


@pytest.mark.parametrize("value", [None, "", "   ", "has space", "x" * 129, "tab\there", "é"])
def test_missing_or_malformed_delivery_ids_are_400(value: str | None) -> None:
    with pytest.raises(InvalidRequestError):
        validate_delivery_id(value)


def test_github_delivery_guids_are_valid_delivery_ids() -> None:
    assert (
        validate_delivery_id("72d3162e-cc78-11e3-81ab-4c9367dc0958") == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    )


def test_the_execution_name_is_readable_and_stable() -> None:
    name = execution_name_for("72d3162e-cc78-11e3-81ab-4c9367dc0958")

    assert name.startswith("publish-72d3162e-cc78-11e3-81ab-4c9367dc0958-")
    assert name == execution_name_for("72d3162e-cc78-11e3-81ab-4c9367dc0958")


def test_ids_that_differ_only_in_unsafe_characters_get_different_names() -> None:
    assert execution_name_for("a:b") != execution_name_for("a/b")
    assert execution_name_for("x" * 60 + "1") != execution_name_for("x" * 60 + "2")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=128))
def test_every_valid_delivery_id_maps_to_a_legal_execution_name(delivery_id: str) -> None:
    assert EXECUTION_NAME.fullmatch(execution_name_for(validate_delivery_id(delivery_id)))


def test_execution_arns_follow_the_documented_form() -> None:
    arn = execution_arn_from("arn:aws:states:eu-west-1:123456789012:stateMachine:publish", "publish-abc")

    assert arn == "arn:aws:states:eu-west-1:123456789012:execution:publish:publish-abc"
    with pytest.raises(ValueError):
        execution_arn_from("arn:aws:lambda:eu-west-1:1:function:f", "x")
