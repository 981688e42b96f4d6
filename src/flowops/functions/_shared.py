"""What every step handler needs, wired the same way for scan, publish and trace.

- Settings are read inside each invocation, never at import time: the local runtime applies each
  function's environment per call as a per-thread overlay, and Map iterations run side by side
  in threads.
- boto3 clients come from a per-thread session (boto3's default session is not thread-safe).
- The Genesys client is kept per thread and per settings, so warm invocations reuse its token and
  a step's API-call count covers only its own requests. `lazy_genesys_client` reads the Genesys
  secret only when a step really calls Genesys, so steps that do not are not granted the secret.
- `step_errors` caps error messages for the state (`flowops.statepayload`) and re-raises
  domain errors as classes NAMED after their ASL error name: Lambda
  reports the exception's class name, which is what Retry/Catch match (the local runtime reads
  `asl_error_name` directly, so both behave alike). It also hands the invocation's remaining
  time (`context.get_remaining_time_in_millis()`) to the Genesys client, which stops retrying and
  raises a retryable `Genesys.*` error before Lambda would kill the step.

`deploy_stores` is the org and stores every publish and release step shares.

The per-workflow `_wiring.py` modules add only what is specific to their workflow.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

import boto3

from flowops.clock import process_clock
from flowops.config import GenesysSettings, StorageSettings, build_client_from_settings
from flowops.publish.lease import PublishLeaseStore
from flowops.statepayload import bound_error, bound_payload
from flowops.stepfunctions import as_step_functions_error
from flowops.store import ArtifactStore, AuditLog, LockPointerStore, RunStore, SharedRateSchedule

if TYPE_CHECKING:
    from flowops.genesys.client import GenesysClient

HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])

_per_thread = threading.local()


def storage_settings() -> StorageSettings:
    return StorageSettings()  # type: ignore[call-arg,unused-ignore]  # filled from the environment


def genesys_settings() -> GenesysSettings:
    return GenesysSettings()


def aws_client(service: str) -> Any:
    """A boto3 client from this thread's own session."""
    session: boto3.session.Session | None = getattr(_per_thread, "aws_session", None)
    if session is None:
        session = boto3.session.Session()
        _per_thread.aws_session = session
    return session.client(service)  # type: ignore[call-overload]


def genesys_client(settings: GenesysSettings | None = None) -> GenesysClient:
    """This thread's client for these settings (the environment's when None), built on first use."""
    settings = settings if settings is not None else genesys_settings()
    cache: dict[GenesysSettings, GenesysClient] | None = getattr(_per_thread, "genesys_clients", None)
    if cache is None:
        cache = {}
        _per_thread.genesys_clients = cache
    client = cache.get(settings)
    if client is None:
        client = build_client_from_settings(settings, rate_schedule=_rate_schedule(settings))
        cache[settings] = client
    client.remaining_seconds = getattr(_per_thread, "remaining_seconds", None)
    return client


def _rate_schedule(settings: GenesysSettings) -> SharedRateSchedule | None:
    """The org's shared schedule when its budget is shared (per client or org): the item
    `RATE#<org>` of the state table, the only item of it such a function may update."""
    if not settings.shares_rate_budget:
        return None
    storage = storage_settings()
    return SharedRateSchedule(
        storage.state_table,
        storage.flowops_org,
        aws_client("dynamodb"),
        clock=process_clock(settings.flowops_time_scale),
    )


def _remaining_seconds_of(context: Any) -> Callable[[], float] | None:
    remaining_millis = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining_millis):
        return None
    return lambda: float(remaining_millis()) / 1000.0


class LazyGenesysClient:
    """Stands in for `genesys_client(settings)` and builds it at the first Genesys call.

    Building a client reads the Genesys secret; a step that only records an outcome (and has no
    permission on that secret) can still be handed the full set of ports.
    """

    def __init__(self, settings: GenesysSettings) -> None:
        self._settings = settings

    def __getattr__(self, name: str) -> Any:
        return getattr(genesys_client(self._settings), name)

    def __repr__(self) -> str:
        return "LazyGenesysClient()"


def artifacts(settings: StorageSettings) -> ArtifactStore:
    return ArtifactStore(settings.artifacts_bucket, s3_client=aws_client("s3"))


def audit_log(settings: StorageSettings) -> AuditLog:
    return AuditLog(settings.audit_table, dynamodb_client=aws_client("dynamodb"))


def pointers(settings: StorageSettings) -> LockPointerStore:
    return LockPointerStore(settings.state_table, dynamodb_client=aws_client("dynamodb"))


def runs(settings: StorageSettings) -> RunStore:
    return RunStore(settings.state_table, dynamodb_client=aws_client("dynamodb"))


class DeployStores(TypedDict):
    """The org and the stores a publish or a release step works with: its ports' common fields."""

    org: str
    artifacts: ArtifactStore
    runs: RunStore
    audit: AuditLog
    pointers: LockPointerStore
    leases: PublishLeaseStore


def deploy_stores(settings: StorageSettings) -> DeployStores:
    """One publish or release step's stores, spread into its ports (`PublishPorts(**...)`)."""
    return DeployStores(
        org=settings.flowops_org,
        artifacts=artifacts(settings),
        runs=runs(settings),
        audit=audit_log(settings),
        pointers=pointers(settings),
        leases=PublishLeaseStore(settings.state_table, aws_client("dynamodb")),
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


def step_errors(handler: HandlerT) -> HandlerT:
    """Re-raise errors that carry an `asl_error_name` as classes named after it; give the Genesys
    client this invocation's remaining time."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        context = kwargs.get("context", args[1] if len(args) > 1 else None)
        _per_thread.remaining_seconds = _remaining_seconds_of(context)
        try:
            # Texts over the state's bounds are cut (their full text is not kept: no step of
            # scan, trace or release returns such texts unless an outside answer was huge).
            return bound_payload(handler(*args, **kwargs), lists=False)
        except Exception as error:
            # Its message becomes the Cause a Catch stores in the state: never over the state
            # limit (publish steps store the full text first, `src/flowops/functions/publish/_wiring.py`).
            bound_error(error)
            named = as_step_functions_error(error)
            if named is error:
                raise
            raise named from error
        finally:
            _per_thread.remaining_seconds = None

    return wrapper  # type: ignore[return-value]
