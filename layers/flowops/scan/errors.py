"""Scan errors. Each carries `asl_error_name` so the state machine can Catch it by name."""

from __future__ import annotations


class ScanError(Exception):
    """Base of every error the scan steps raise themselves."""

    asl_error_name = "Scan.Error"
    retryable = False


class MalformedFlowRecordError(ScanError):
    """Genesys returned a flow or dependency record the scan cannot use (missing id/type, ...).

    The scan stops rather than leave the record out: a lock that silently lacks a flow would
    report it as removed, and the previous lock stays current instead.
    """

    asl_error_name = "Scan.MalformedFlowRecord"


class PreviousLockUnreadableError(ScanError):
    """The lock the pointer names cannot be read back intact (missing or failing its checksum)."""

    asl_error_name = "Scan.PreviousLockUnreadable"


class PageResultMissingError(ScanError):
    """A page result the lock step needs is absent: the map did not finish every page."""

    asl_error_name = "Scan.PageResultMissing"


class MalformedDataActionRecordError(ScanError):
    """Genesys listed a data action the scan cannot use (no id, or a version that is no integer)."""

    asl_error_name = "Scan.MalformedDataActionRecord"


class EveryReadRefusedError(ScanError):
    """Every consumed-resources read of a page was refused as a bad request: that is flowops'
    request, not one flow (a lock of nothing but unread flows would report every edge removed)."""

    asl_error_name = "Scan.EveryReadRefused"


class FlowDependenciesUnreadable(Exception):
    """One flow's consumed resources cannot be read (404, 403, another 4xx for that flow alone).

    Raised by a `ScanSource`, caught by the page step, which records the flow as unread and
    goes on: one flow the platform cannot answer for must not cost the org its lock. Not a
    `ScanError`: it never reaches the state machine.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
