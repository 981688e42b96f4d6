from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings
from pydantic import SecretStr

from flowops.webhook.errors import SignatureError
from flowops.webhook.signature import (
    BOUND_SIGNATURE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    sign_bound,
    signed_headers,
    verify,
)

SECRET = "It's a Secret to Everybody"


def test_sign_matches_githubs_documented_example() -> None:
    # Given the payload and secret from GitHub's "Validating webhook deliveries" guide
    body = b"Hello, World!"

    # When it is signed
    header = sign(body, SECRET)

    # Then the value is the one GitHub documents
    assert header == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_sign_accepts_str_bytes_and_secretstr_alike() -> None:
    assert sign(b"x", SECRET) == sign(b"x", SECRET.encode()) == sign(b"x", SecretStr(SECRET))


def test_verify_accepts_a_valid_signature_in_either_hex_case() -> None:
    body = b'{"flow": {"id": "f1"}}'
    verify(body, sign(body, SECRET), SECRET, header=SIGNATURE_HEADER)
    verify(
        body, "sha256=" + sign(body, SECRET).removeprefix("sha256=").upper(), SECRET, header=SIGNATURE_HEADER
    )


@pytest.mark.parametrize(
    ("header_value", "message"),
    [
        (None, "missing"),
        ("", "missing"),
        ("sha1=abc", "malformed"),
        ("sha256=" + "g" * 64, "malformed"),
        ("sha256=" + "a" * 63, "malformed"),
        ("sha256=" + "a" * 64, "does not match"),
    ],
)
def test_verify_refuses_missing_malformed_and_wrong_signatures(
    header_value: str | None, message: str
) -> None:
    # Given a body and a bad signature header
    # When it is verified
    with pytest.raises(SignatureError) as refused:
        verify(b"{}", header_value, SECRET, header=SIGNATURE_HEADER)

    # Then the refusal is a 401 that says what is wrong and names the header
    assert refused.value.status_code == 401
    assert message in refused.value.message
    assert SIGNATURE_HEADER in refused.value.message


def test_a_body_tampered_after_signing_fails_verification() -> None:
    # Given a signature over the original body
    signature = sign(b'{"environment": "test"}', SECRET)

    # When one byte of the body changes
    # Then verification fails
    with pytest.raises(SignatureError):
        verify(b'{"environment": "prod"}', signature, SECRET, header=SIGNATURE_HEADER)


def test_a_signature_made_with_another_secret_fails() -> None:
    with pytest.raises(SignatureError):
        verify(b"{}", sign(b"{}", "another secret"), SECRET, header=SIGNATURE_HEADER)


def test_bound_signature_changes_with_timestamp_and_delivery_id() -> None:
    # Given one body signed for two deliveries and two timestamps
    one = sign_bound(b"{}", SECRET, timestamp="100", delivery_id="a")
    # Then relabelling either the delivery id or the timestamp invalidates the signature
    assert one != sign_bound(b"{}", SECRET, timestamp="100", delivery_id="b")
    assert one != sign_bound(b"{}", SECRET, timestamp="101", delivery_id="a")
    # And the bound message cannot be confused with the body-only signature
    assert one != sign(b"{}", SECRET)


def test_signed_headers_carry_everything_a_publish_request_needs() -> None:
    headers = signed_headers(b"{}", SECRET, delivery_id="d-1", timestamp=1700000000)

    assert headers[SIGNATURE_HEADER] == sign(b"{}", SECRET)
    assert headers[BOUND_SIGNATURE_HEADER] == sign_bound(
        b"{}", SECRET, timestamp="1700000000", delivery_id="d-1"
    )
    assert headers[TIMESTAMP_HEADER] == "1700000000"
    assert SECRET not in repr(headers)


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=512), header_value=st.one_of(st.none(), st.text(max_size=80)))
def test_verify_only_ever_raises_signature_error(body: bytes, header_value: str | None) -> None:
    # Given arbitrary bodies and header values, verification either passes or raises SignatureError
    try:
        verify(body, header_value, SECRET, header=SIGNATURE_HEADER)
    except SignatureError:
        return
    assert header_value is not None and header_value.strip().lower() == sign(body, SECRET)
