"""Release errors. `asl_error_name` is what the release state machine's Retry/Catch match."""

from __future__ import annotations


class ReleaseError(Exception):
    asl_error_name = "Release.Failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BundleError(ReleaseError):
    """The release directory or bundle cannot be read as a release (exit 2 in the CLI)."""

    asl_error_name = "Release.BundleInvalid"


class FlowPublishFailedError(ReleaseError):
    """One flow's deploy job failed, ran past its deadline, or its health check failed."""

    asl_error_name = "Release.FlowPublishFailed"


class FlowRollbackFailedError(ReleaseError):
    asl_error_name = "Release.FlowRollbackFailed"


class PromotionRefusedError(ReleaseError):
    asl_error_name = "Release.PromotionRefused"
