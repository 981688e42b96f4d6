"""What the publish handlers need beyond the shared wiring (functions/_shared.py): their ports.

Every publish step gets the same `PublishPorts`; the Genesys client in them is built at the
first Genesys call, so a step that never calls Genesys never reads (nor needs a grant on) the
Genesys secret.
"""

from __future__ import annotations

import time

from flowops.publish.lease import PublishLeaseStore
from flowops.publish.steps import PublishPorts

from functions._shared import (
    LazyGenesysClient,
    artifacts,
    audit_log,
    aws_client,
    genesys_settings,
    pointers,
    runs,
    step_errors,
    storage_settings,
)

named_errors = step_errors


def ports() -> PublishPorts:
    storage = storage_settings()
    genesys = genesys_settings()
    return PublishPorts(
        org=storage.flowops_org,
        genesys=LazyGenesysClient(genesys),
        artifacts=artifacts(storage),
        runs=runs(storage),
        audit=audit_log(storage),
        pointers=pointers(storage),
        leases=PublishLeaseStore(storage.state_table, aws_client("dynamodb")),
        time_scale=genesys.flowops_time_scale,
    )


def now() -> float:
    return time.time()


__all__ = ["named_errors", "now", "ports"]
