"""Property: whatever arrives, the handler answers with a clean status, never a 5xx or a crash."""

from __future__ import annotations

import json
import time
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from flowops.webhook.signature import signed_headers
from tests.integration.webhook.conftest import WEBHOOK_SECRET, WebhookCloud
from tests.integration.webhook.events import rest_event

HEADER_NAMES = st.sampled_from(
    [
        "X-Hub-Signature-256",
        "X-Flowops-Signature-256",
        "X-Flowops-Timestamp",
        "X-Flowops-Delivery",
        "X-GitHub-Delivery",
        "Content-Type",
        "x-hub-signature-256",
    ]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
# Request-shaped documents with some fields wrong: these pass the signature and reach validation.
REQUEST_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "flow": st.one_of(
            JSON_VALUES,
            st.fixed_dictionaries({}, optional={"id": JSON_VALUES, "name": JSON_VALUES, "type": JSON_VALUES}),
        ),
        "environment": JSON_VALUES,
        "yaml": JSON_VALUES,
        "yaml_s3_key": JSON_VALUES,
        "version": JSON_VALUES,
        "requester": JSON_VALUES,
        "reason": JSON_VALUES,
        "force_unlock": JSON_VALUES,
    },
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(st.binary(max_size=300), REQUEST_LIKE.map(lambda doc: json.dumps(doc).encode())),
    sign_it=st.booleans(),
    delivery_id=st.text(max_size=40),
    extra_headers=st.dictionaries(HEADER_NAMES, st.text(max_size=70), max_size=3),
    base64_encoded=st.booleans(),
)
def test_arbitrary_requests_get_a_clean_answer(
    webhook_cloud: WebhookCloud,
    body: bytes,
    sign_it: bool,
    delivery_id: str,
    extra_headers: dict[str, str],
    base64_encoded: bool,
) -> None:
    # Given arbitrary bytes, signed or not, with arbitrary (possibly conflicting) headers
    headers: dict[str, str] = {}
    if sign_it and delivery_id.strip():
        headers = signed_headers(body, WEBHOOK_SECRET, delivery_id=delivery_id, timestamp=int(time.time()))
    headers.update(extra_headers)
    # API Gateway delivers non-binary bodies as text; undecodable bytes only come base64-encoded.
    if not base64_encoded:
        body = body.decode("utf-8", errors="replace").encode()
    event: dict[str, Any] = rest_event(body, headers, base64_encoded=base64_encoded)

    # When the handler receives it
    response = webhook_cloud.handle(event)

    # Then the answer is an accepted run or a 4xx with a JSON message, never an error
    assert response["statusCode"] in {202, 400, 401, 404, 409, 413}, response["body"]
    answer = json.loads(response["body"])
    assert ("executionArn" in answer) if response["statusCode"] == 202 else ("message" in answer)
    assert WEBHOOK_SECRET not in response["body"]
