"""Exporting one flow version as Architect YAML, retried the way real orgs need.

Export jobs fail under load: the Terraform provider retries them up to 5 times, and Archy's
backend reports a rate-limited export as "could not find the flow". A download can also come
back empty or cut short. So an export is: start a job, wait for its `downloadUrl`, download
(following the redirect to the signed URL), check the text, and on any of those failures start
a NEW job, up to `attempts` times within one time budget. What is never retried: a refused
permission or credentials (the same answer every time).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from flowops.bounded import FLOW_YAML_LIMITS, HostileInputError, load_bounded_yaml
from flowops.genesys.errors import (
    AuthenticationError,
    ConfigurationError,
    ForbiddenError,
    GenesysError,
)
from flowops.genesys.models import ExportJob, ExportJobRegistration
from flowops.genesys.waiting import WaitsUntil

logger = logging.getLogger(__name__)

EXPORT_ATTEMPTS = 5  # as the Terraform provider
EXPORT_BUDGET_SECONDS = 300.0
_BACKOFF_SECONDS = (2.0, 4.0, 8.0, 16.0)
_NOT_RETRIED = (ForbiddenError, AuthenticationError, ConfigurationError)

# A check of the downloaded text: None when usable, else what is wrong with it.
TextCheck = Callable[[str], str | None]


class ExportFailedError(GenesysError):
    """Every export attempt failed (job failure, no download, empty or unreadable YAML)."""

    asl_error_name = "Genesys.ExportFailed"

    def __init__(self, message: str, *, problems: list[str], **context: Any) -> None:
        super().__init__(message, **context)
        self.problems = problems


class ExportGenesys(WaitsUntil, Protocol):
    def start_export_job(
        self, flow_id: str, version: str, *, file_name: str | None = None, export_type: str = "Yaml"
    ) -> ExportJobRegistration: ...

    def get_export_job(self, job_id: str) -> ExportJob: ...

    def download_export(self, download_url: str) -> str: ...


def yaml_mapping_problem(text: str) -> str | None:
    """The minimum any flow export must be: non-blank YAML whose top level is a mapping."""
    import yaml

    if not text.strip():
        return "the export is empty"
    try:
        # Bounded: an export is input from outside like any other (size, depth, alias bombs).
        document = load_bounded_yaml(text, FLOW_YAML_LIMITS)
    except HostileInputError as exc:
        return f"the export is not a usable flow document ({exc})"
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        return f"the export is not readable YAML{where}"
    if not isinstance(document, dict) or not document:
        return "the export is not a flow document (no top-level mapping)"
    return None


def export_flow_yaml(
    genesys: ExportGenesys,
    flow_id: str,
    version: str,
    *,
    attempts: int = EXPORT_ATTEMPTS,
    budget_seconds: float = EXPORT_BUDGET_SECONDS,
    poll_interval_seconds: float = 1.0,
    check: TextCheck = yaml_mapping_problem,
) -> str:
    """The YAML of `flow_id` at `version`; `ExportFailedError` naming each attempt's problem."""
    # The client's clock when there is one (a local run's accelerated clock), for the budget and
    # the pauses between attempts; in-memory fakes have none and neither wait nor pause.
    clock = getattr(genesys, "clock", None)
    started_at = clock.monotonic() if clock is not None else 0.0
    problems: list[str] = []
    for attempt in range(1, attempts + 1):
        remaining = budget_seconds - ((clock.monotonic() - started_at) if clock is not None else 0.0)
        if remaining <= 0:
            problems.append(f"attempt {attempt}: not started, the {budget_seconds:.0f} s budget is spent")
            break
        try:
            text, problem = _attempt(genesys, flow_id, version, remaining, poll_interval_seconds, check)
        except _NOT_RETRIED:
            raise
        except GenesysError as error:
            text, problem = None, error.message
        if text is None:
            problems.append(f"attempt {attempt}: {problem}")
            logger.warning(
                "flow export failed, retrying",
                extra={
                    "flow_id": flow_id,
                    "version": version,
                    "attempt": attempt,
                    "problem": (problem or "")[:300],
                },
            )
            if attempt < attempts and clock is not None:
                clock.sleep(_BACKOFF_SECONDS[min(attempt - 1, len(_BACKOFF_SECONDS) - 1)])
            continue
        return text
    raise ExportFailedError(
        f"exporting flow {flow_id} version {version} failed {len(problems)} time(s): " + " | ".join(problems),
        problems=problems,
        operation="POST /api/v2/flows/export/jobs",
    )


def _attempt(
    genesys: ExportGenesys,
    flow_id: str,
    version: str,
    timeout_seconds: float,
    poll_interval_seconds: float,
    check: TextCheck,
) -> tuple[str | None, str | None]:
    """(the YAML, None) when usable, else (None, the problem)."""
    registration = genesys.start_export_job(flow_id, version)
    job = genesys.wait_until(
        lambda: genesys.get_export_job(registration.id),
        lambda job: bool(job.download_url) or job.status in ("Success", "Failure"),
        what=f"export job {registration.id} of flow {flow_id} version {version}",
        poll_interval_seconds=poll_interval_seconds,
        timeout_seconds=timeout_seconds,
    )
    if not job.download_url:
        texts = "; ".join(message.text or "" for message in job.messages if message.text)
        ended = f"export job {job.id} ended {job.status or 'without a status'}"
        return None, ended + (f": {texts}" if texts else "")
    text = genesys.download_export(job.download_url)
    problem = check(text)
    if problem is not None:
        return None, f"export job {job.id}: {problem}"
    return text, None
