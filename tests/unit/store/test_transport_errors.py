"""Every store operation classifies AWS transport failures and server errors as the retryable
`Store.Unavailable` (or `Store.Throttled`), never as a raw botocore error the state machine's
Retry does not match (issue 12: 8 of 11 store operations leaked them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from flowops.publish.lease import PublishLeaseStore
from flowops.store import (
    ArtifactStore,
    AuditLog,
    LockPointerStore,
    RunStore,
    StoreThrottledError,
    StoreUnavailableError,
)

URL = "https://example.invalid"
FAILURES: dict[str, Callable[[], Exception]] = {
    "endpoint unreachable": lambda: EndpointConnectionError(endpoint_url=URL),
    "connection reset": lambda: ConnectionClosedError(endpoint_url=URL),
    "read timeout": lambda: ReadTimeoutError(endpoint_url=URL),
    "body cut short": lambda: ResponseStreamingError(error="IncompleteRead"),
    "S3 500": lambda: ClientError(
        {"Error": {"Code": "InternalError"}, "ResponseMetadata": {"HTTPStatusCode": 500}}, "op"
    ),
    "DynamoDB 500": lambda: ClientError(
        {"Error": {"Code": "InternalServerError"}, "ResponseMetadata": {"HTTPStatusCode": 500}}, "op"
    ),
    "S3 RequestTimeout": lambda: ClientError(
        {"Error": {"Code": "RequestTimeout"}, "ResponseMetadata": {"HTTPStatusCode": 400}}, "op"
    ),
}


class FailingClient:
    """A boto3 client whose every API call fails with `failure()`."""

    def __init__(self, failure: Callable[[], Exception]) -> None:
        self._failure = failure

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            raise self._failure()

        return call


def _operations(client: Any) -> dict[str, Callable[[], Any]]:
    artifacts = ArtifactStore("bucket", client)
    runs = RunStore("state", client)
    pointers = LockPointerStore("state", client)
    audit = AuditLog("audit", client)
    leases = PublishLeaseStore("state", client)
    return {
        "artifacts.put_immutable": lambda: artifacts.put_immutable("flows/o/f/1.0.yaml", b"x"),
        "artifacts.put_bytes": lambda: artifacts.put_bytes("reports/x.json", b"{}"),
        "artifacts.get_bytes": lambda: artifacts.get_bytes("flows/o/f/1.0.yaml"),
        "artifacts.exists": lambda: artifacts.exists("flows/o/f/1.0.yaml"),
        "artifacts.list_keys": lambda: artifacts.list_keys("flows/"),
        "runs.create": lambda: runs.create("r1", "publish", org="o"),
        "runs.get": lambda: runs.get("r1"),
        "runs.transition": lambda: runs.transition("r1", "PENDING", "RUNNING"),
        "pointer.get_current": lambda: pointers.get_current("o"),
        "pointer.advance": lambda: pointers.advance("o", "b" * 64, None, key="locks/o/x.json"),
        "audit.append": lambda: audit.append("o", "k", actor="a", subject="s", event_id="e1"),
        "audit.list_events": lambda: list(audit.list_events("o")),
        "lease.acquire": lambda: leases.acquire("o", "f", "r1", now=0, ttl_seconds=60),
        "lease.holder": lambda: leases.holder("o", "f"),
        "lease.release": lambda: leases.release("o", "f", "r1"),
    }


OPERATION_NAMES = sorted(_operations(FailingClient(lambda: RuntimeError())))


@pytest.mark.parametrize("failure", sorted(FAILURES))
@pytest.mark.parametrize("operation", OPERATION_NAMES)
def test_a_transient_aws_failure_is_the_retryable_store_error(operation: str, failure: str) -> None:
    # Given a store whose AWS client fails with a transient error
    call = _operations(FailingClient(FAILURES[failure]))[operation]
    # When the operation runs
    # Then it raises the retryable store error (Step Functions retries Store.Unavailable)
    with pytest.raises(StoreUnavailableError) as raised:
        call()
    assert raised.value.retryable and raised.value.asl_error_name == "Store.Unavailable"


@pytest.mark.parametrize("operation", OPERATION_NAMES)
def test_throttling_is_the_retryable_throttled_error(operation: str) -> None:
    # Given a store whose client is throttled
    throttled = ClientError(
        {"Error": {"Code": "SlowDown"}, "ResponseMetadata": {"HTTPStatusCode": 503}}, "op"
    )
    call = _operations(FailingClient(lambda: throttled))[operation]
    # When / Then: the throttled store error, retryable
    with pytest.raises(StoreThrottledError):
        call()
