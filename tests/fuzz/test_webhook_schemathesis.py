"""schemathesis against docs/openapi/webhook.yaml, sent to the running local webhook endpoint.

Cases are generated from the OpenAPI description (positive: valid by the schema; negative: each
breaks it somewhere) and sent over real HTTP to 127.0.0.1. Every answer must be: no 5xx, a
documented status, a documented content type, and a body valid against that status's schema.

Unsigned cases stop at the signature check (401) or at API Gateway's validator (400). Signed
cases are signed the way a CI system signs them (both HMACs, a fresh delivery id and timestamp,
over the exact bytes sent), so they reach the body parser, the flow lookup and the environment
check; the targeted variant also points valid bodies at a flow of the scanned org and the local
environment, so the 202 path (an execution started) is fuzzed too.

Bounded: a fixed number of examples per variant, a per-example deadline, derandomized (the same
cases every run, so a failure reproduces), no example database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.local_webhook.endpoint import (
    ENVIRONMENT,
    OPENAPI_FILE,
    WebhookEndpoint,
    running_webhook_endpoint,
)

pytestmark = pytest.mark.slow  # one LocalCloud + scan for the module; each variant is bounded

SCHEMA = schemathesis.openapi.from_path(OPENAPI_FILE)
PUBLISH = SCHEMA["/publish"]["POST"]
RESPONSE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def bounded(max_examples: int) -> Any:
    return settings(
        max_examples=max_examples,
        deadline=timedelta(seconds=15),  # one request through the local Lambda service
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


@pytest.fixture(scope="module")
def endpoint() -> Iterator[WebhookEndpoint]:
    with running_webhook_endpoint() as running:
        yield running


def body_bytes(case: Any) -> bytes:
    """The generated body as the bytes that are sent (and signed); negative cases may be raw bytes."""
    if case.body is NOT_SET:
        return b""
    if isinstance(case.body, bytes):
        return bytes(case.body)
    return json.dumps(case.body).encode()


def send_and_validate(
    endpoint: WebhookEndpoint, case: Any, *, sign: bool, checks: list[Any] | None = None
) -> int:
    body = body_bytes(case)
    headers = {name: str(value) for name, value in (case.headers or {}).items()}
    if sign:
        headers.update(endpoint.signed_headers(body))
    headers.setdefault("Content-Type", "application/json")
    response = case.call(base_url=endpoint.server.url, data=body, headers=headers, timeout=30)
    case.validate_response(
        response,
        checks=checks or RESPONSE_CHECKS,
        headers=headers,
        transport_kwargs={"base_url": endpoint.server.url, "data": body, "headers": headers},
    )
    event(f"HTTP {response.status_code}")  # `pytest --hypothesis-show-statistics` shows the spread
    return int(response.status_code)


@bounded(max_examples=40)
@given(case=PUBLISH.as_strategy(GenerationMode.POSITIVE))
def test_unsigned_requests_never_get_past_the_signature_check(endpoint: WebhookEndpoint, case: Any) -> None:
    # Given: a schema-valid request whose signatures were generated, not computed
    executions = len(endpoint.executions())

    # When: it is sent
    status = send_and_validate(endpoint, case, sign=False)

    # Then: refused (the checks above ran too), and nothing started
    assert status in {400, 401}
    assert len(endpoint.executions()) == executions


@bounded(max_examples=60)
@given(case=PUBLISH.as_strategy(GenerationMode.POSITIVE))
def test_signed_schema_valid_requests_get_documented_answers(endpoint: WebhookEndpoint, case: Any) -> None:
    # When: a schema-valid body is signed and sent
    status = send_and_validate(endpoint, case, sign=True)

    # Then: past the signature: the flow is not in the lock (random ids and names), or 202/409
    assert status in {202, 404, 409}


@bounded(max_examples=60)
@given(case=PUBLISH.as_strategy(GenerationMode.NEGATIVE))
def test_signed_schema_invalid_requests_are_rejected(endpoint: WebhookEndpoint, case: Any) -> None:
    # When: a request that breaks the schema somewhere is signed and sent
    status = send_and_validate(endpoint, case, sign=True, checks=[*RESPONSE_CHECKS, negative_data_rejection])

    # Then: a documented client error, never a start (negative_data_rejection checked the body's part)
    assert 400 <= status < 500


@bounded(max_examples=15)
@given(case=PUBLISH.as_strategy(GenerationMode.POSITIVE), data=st.data())
def test_signed_requests_for_a_known_flow_reach_the_start(
    endpoint: WebhookEndpoint, case: Any, data: st.DataObject
) -> None:
    # Given: a schema-valid body pointed at a flow of the scanned org and the local environment
    target = data.draw(
        st.sampled_from([{"id": endpoint.flow_id}, {"name": endpoint.flow_name, "type": endpoint.flow_type}]),
        label="flow",
    )
    case.body = {**case.body, "flow": target, "environment": ENVIRONMENT}

    # When: it is signed and sent
    status = send_and_validate(endpoint, case, sign=True)

    # Then: accepted (an execution started), or refused for a documented reason
    assert status in {202, 409}
