"""What every publish handler needs: settings, the Genesys client, the stores, error naming.

Settings are read inside each invocation (the local runtime overlays env per call and per
thread). The Genesys client is kept per thread and settings so warm invocations reuse its token.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import boto3
from flowops.config import GenesysSettings, StorageSettings, build_client_from_settings
from flowops.genesys.client import GenesysClient
from flowops.publish.errors import as_step_functions_error
from flowops.publish.lease import PublishLeaseStore
from flowops.publish.steps import PublishPorts
from flowops.store import ArtifactStore, AuditLog, LockPointerStore, RunStore

_local = threading.local()
F = TypeVar("F", bound=Callable[..., Any])


def _aws_client(service: str) -> Any:
    # boto3's default session is not thread-safe: each thread builds clients from its own session.
    session: boto3.session.Session | None = getattr(_local, "aws_session", None)
    if session is None:
        session = boto3.session.Session()
        _local.aws_session = session
    return session.client(service)  # type: ignore[call-overload]


def genesys_client(settings: GenesysSettings) -> GenesysClient:
    cache: dict[GenesysSettings, GenesysClient] = getattr(_local, "clients", None) or {}
    _local.clients = cache
    client = cache.get(settings)
    if client is None:
        client = build_client_from_settings(settings)
        cache[settings] = client
    return client


def ports() -> PublishPorts:
    storage = StorageSettings()  # type: ignore[call-arg]  # filled from the environment
    genesys_settings = GenesysSettings()
    dynamodb = _aws_client("dynamodb")
    return PublishPorts(
        org=storage.flowops_org,
        genesys=genesys_client(genesys_settings),
        artifacts=ArtifactStore(storage.artifacts_bucket, s3_client=_aws_client("s3")),
        runs=RunStore(storage.state_table, dynamodb_client=dynamodb),
        audit=AuditLog(storage.audit_table, dynamodb_client=dynamodb),
        pointers=LockPointerStore(storage.state_table, dynamodb_client=dynamodb),
        leases=PublishLeaseStore(storage.state_table, dynamodb),
        time_scale=genesys_settings.flowops_time_scale,
    )


def now() -> float:
    return time.time()


def named_errors(handler: F) -> F:
    """Re-raise typed errors as classes named after their ASL error name (what Lambda reports)."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except Exception as error:
            converted = as_step_functions_error(error)
            if converted is error:
                raise
            raise converted from error

    return wrapper  # type: ignore[return-value]
