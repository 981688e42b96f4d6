"""What every scan handler needs: settings, the Genesys source and the stores.

Settings are read inside each invocation (never at import time): the local runtime applies
each function's environment per call, and Map iterations run side by side in threads. A
Genesys client is kept per thread and per location so warm invocations reuse its token,
and so the API-call difference a step reports counts only its own requests.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import boto3
from flowops.config import GenesysSettings, StorageSettings, build_client_from_settings
from flowops.genesys.client import GenesysClient
from flowops.scan.genesys_source import GenesysScanSource
from flowops.store import ArtifactStore, AuditLog, LockPointerStore

_clients = threading.local()


def storage_settings() -> StorageSettings:
    return StorageSettings()  # type: ignore[call-arg]  # filled from the environment


def scan_source() -> GenesysScanSource:
    settings = GenesysSettings()
    cache: dict[GenesysSettings, GenesysClient] = getattr(_clients, "by_settings", None) or {}
    _clients.by_settings = cache
    client = cache.get(settings)
    if client is None:
        client = build_client_from_settings(settings)
        cache[settings] = client
    return GenesysScanSource(client)


def _aws_client(service: str) -> Any:
    # boto3's default session is not thread-safe: each thread builds clients from its own session.
    sessions: boto3.session.Session | None = getattr(_clients, "aws_session", None)
    if sessions is None:
        sessions = boto3.session.Session()
        _clients.aws_session = sessions
    return sessions.client(service)  # type: ignore[call-overload]


def artifacts(settings: StorageSettings) -> ArtifactStore:
    return ArtifactStore(settings.artifacts_bucket, s3_client=_aws_client("s3"))


def pointers(settings: StorageSettings) -> LockPointerStore:
    return LockPointerStore(settings.state_table, dynamodb_client=_aws_client("dynamodb"))


def audit_log(settings: StorageSettings) -> AuditLog:
    return AuditLog(settings.audit_table, dynamodb_client=_aws_client("dynamodb"))


def utc_now() -> datetime:
    return datetime.now(UTC)
