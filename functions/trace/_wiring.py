"""What every trace handler needs: settings, the Genesys source, the stores, named errors.

Settings are read inside each invocation (never at import time): the local runtime applies each
function's environment per call. A Genesys client is kept per thread and per settings so warm
invocations reuse their token.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import boto3
from flowops.config import GenesysSettings, StorageSettings, build_client_from_settings
from flowops.genesys.client import GenesysClient
from flowops.genesys.errors import GenesysError, as_step_functions_error
from flowops.store import ArtifactStore, AuditLog
from flowops.trace.delivery import WebhookEndpoint, parse_signing_secret
from flowops.trace.genesys_source import GenesysTraceSource
from flowops.trace.request import DeliveryFailedError
from flowops.trace.settings import TraceDeliverySettings

_local = threading.local()
_NAMED_ERRORS: dict[tuple[type[BaseException], str], type[BaseException]] = {}
HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


def storage_settings() -> StorageSettings:
    return StorageSettings()  # type: ignore[call-arg]  # filled from the environment


def delivery_settings() -> TraceDeliverySettings:
    return TraceDeliverySettings()


def trace_source() -> GenesysTraceSource:
    settings = GenesysSettings()
    cache: dict[GenesysSettings, GenesysClient] = getattr(_local, "clients", None) or {}
    _local.clients = cache
    client = cache.get(settings)
    if client is None:
        client = build_client_from_settings(settings)
        cache[settings] = client
    return GenesysTraceSource(client)


def aws_client(service: str) -> Any:
    # boto3's default session is not thread-safe: each thread builds clients from its own session.
    session: boto3.session.Session | None = getattr(_local, "aws_session", None)
    if session is None:
        session = boto3.session.Session()
        _local.aws_session = session
    return session.client(service)  # type: ignore[call-overload]


def artifacts(settings: StorageSettings) -> ArtifactStore:
    return ArtifactStore(settings.artifacts_bucket, s3_client=aws_client("s3"))


def audit_log(settings: StorageSettings) -> AuditLog:
    return AuditLog(settings.audit_table, dynamodb_client=aws_client("dynamodb"))


def webhook_endpoint(settings: TraceDeliverySettings) -> WebhookEndpoint | None:
    """The configured webhook with its signing secret, or None when no URL is configured."""
    if not settings.trace_webhook_url:
        return None
    if not settings.trace_webhook_secret_id:
        raise DeliveryFailedError("TRACE_WEBHOOK_URL is set but TRACE_WEBHOOK_SECRET_ID is not: cannot sign")
    try:
        secret_string = aws_client("secretsmanager").get_secret_value(
            SecretId=settings.trace_webhook_secret_id
        )["SecretString"]
    except Exception as error:
        raise DeliveryFailedError(
            f"cannot read the trace webhook secret {settings.trace_webhook_secret_id!r}: "
            f"{type(error).__name__}"
        ) from None
    return WebhookEndpoint(
        url=settings.trace_webhook_url,
        secret=parse_signing_secret(str(secret_string)),
        timeout_seconds=settings.trace_webhook_timeout_seconds,
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


def _named(error: BaseException) -> BaseException:
    """The same error as an instance of a class NAMED after its `asl_error_name`.

    Lambda reports the exception's class name as the error Step Functions matches in Retry and
    Catch; naming the class `Trace.UnknownFlow` makes the deployed behaviour match the local one.
    """
    if isinstance(error, GenesysError):
        return as_step_functions_error(error)
    name = getattr(type(error), "asl_error_name", None)
    if not isinstance(name, str) or type(error).__name__ == name:
        return error
    original = type(error)
    cls = _NAMED_ERRORS.get((original, name))
    if cls is None:
        cls = type(name, (original,), {"__module__": original.__module__})
        _NAMED_ERRORS[(original, name)] = cls
    converted = cls.__new__(cls)
    converted.__dict__.update(error.__dict__)
    converted.args = error.args
    return converted


def step_errors(handler: HandlerT) -> HandlerT:
    """Re-raise domain errors under their Step Functions error names."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except Exception as error:
            named = _named(error)
            if named is error:
                raise
            raise named from error

    return wrapper  # type: ignore[return-value]
