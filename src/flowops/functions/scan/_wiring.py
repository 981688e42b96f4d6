"""What the scan handlers need beyond the shared wiring (flowops.functions._shared): the Genesys source."""

from __future__ import annotations

from flowops.functions._shared import (
    artifacts,
    audit_log,
    genesys_client,
    pointers,
    step_errors,
    storage_settings,
    utc_now,
)
from flowops.scan.genesys_source import GenesysScanSource


def scan_source() -> GenesysScanSource:
    return GenesysScanSource(genesys_client())


__all__ = ["artifacts", "audit_log", "pointers", "scan_source", "step_errors", "storage_settings", "utc_now"]
