"""Genesys' validate job on one flow version: what the health checks of publish and release ask.

Validate jobs are a preview API: an org without them answers 404 or 403, which is reported as
"unavailable" (None), never as a failed check.

Starting the job and reading its end are separate (`start_validation`, `validation_errors`) so a
health check can run its other Genesys job (the content export) while Genesys validates: the
two jobs overlap instead of following each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from flowops.genesys.errors import ForbiddenError, NotFoundError
from flowops.genesys.models import ValidateJob
from flowops.genesys.waiting import WaitsUntil

VALIDATE_POLL_SECONDS = 1.0
VALIDATE_TIMEOUT_SECONDS = 120.0


class ValidateJobClient(WaitsUntil, Protocol):
    def start_validate_job(self, flows: Sequence[tuple[str, str | None]]) -> ValidateJob: ...

    def get_validate_job(self, job_id: str) -> ValidateJob: ...


def start_validation(genesys: ValidateJobClient, flow_id: str, version: str) -> str | None:
    """Start a validate job on `flow_id` version `version`: its id, None when the org has none."""
    try:
        return genesys.start_validate_job([(flow_id, version)]).id
    except (NotFoundError, ForbiddenError):
        return None


def validation_errors(genesys: ValidateJobClient, job_id: str) -> list[str] | None:
    """Wait for the validate job `job_id` to end: its error messages (empty: it passed); None when
    the org no longer answers for validate jobs."""
    try:
        job = genesys.wait_until(
            lambda: genesys.get_validate_job(job_id),
            lambda job: job.status in ("Success", "Failure"),
            what=f"validate job {job_id}",
            poll_interval_seconds=VALIDATE_POLL_SECONDS,
            timeout_seconds=VALIDATE_TIMEOUT_SECONDS,
        )
    except (NotFoundError, ForbiddenError):
        return None
    return [message.text or "" for message in job.messages if (message.type or "").lower() == "error"]


def validate_job_errors(genesys: ValidateJobClient, flow_id: str, version: str) -> list[str] | None:
    """The error messages of a validate job on `flow_id` version `version` (empty: it passed);
    None when the org has no validate jobs."""
    job_id = start_validation(genesys, flow_id, version)
    return None if job_id is None else validation_errors(genesys, job_id)
