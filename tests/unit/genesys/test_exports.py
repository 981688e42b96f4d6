"""Exports are retried like Terraform does, and never hand back an empty or unreadable YAML."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from flowops.genesys import ForbiddenError
from flowops.genesys.exports import EXPORT_ATTEMPTS, ExportFailedError, export_flow_yaml
from flowops.genesys.models import ExportJob, ExportJobRegistration

from .fakes import FakeClock

T = TypeVar("T")
GOOD = "inboundCall:\n  name: Main IVR\n"


class ScriptedExports:
    """Each export job plays the next outcome: 'fail', 'empty', 'garbage', 'forbidden' or YAML."""

    def __init__(self, *outcomes: str) -> None:
        self.outcomes = list(outcomes)
        self.started = 0
        self.clock = FakeClock()
        self._jobs: dict[str, str] = {}

    def start_export_job(self, flow_id: str, version: str, **_: Any) -> ExportJobRegistration:
        outcome = self.outcomes[min(self.started, len(self.outcomes) - 1)]
        if outcome == "forbidden":
            raise ForbiddenError("no", missing_permission="architect:jobExport:create", status=403)
        self.started += 1
        job_id = f"e{self.started}"
        self._jobs[job_id] = outcome
        return ExportJobRegistration(id=job_id)

    def get_export_job(self, job_id: str) -> ExportJob:
        if self._jobs[job_id] == "fail":
            return ExportJob.model_validate(
                {
                    "id": job_id,
                    "status": "Failure",
                    "messages": [{"type": "Error", "text": "Could not find the flow."}],
                }
            )
        return ExportJob(id=job_id, status="Success", download_url=f"/api/v2/downloads/{job_id}")

    def download_export(self, download_url: str) -> str:
        outcome = self._jobs[download_url.rsplit("/", 1)[1]]
        return {"empty": "", "garbage": "inboundCall: [unclosed\n"}.get(outcome, outcome)

    def wait_until(self, fetch: Callable[[], T], done: Callable[[T], bool], **_: Any) -> T:
        result = fetch()
        assert done(result)
        return result


def test_a_failed_then_empty_export_is_retried_until_the_real_yaml() -> None:
    # Given an org whose first export job fails ("could not find the flow", a rate limit in
    # disguise) and whose second download is empty
    genesys = ScriptedExports("fail", "empty", GOOD)
    # When the version is exported
    text = export_flow_yaml(genesys, "f1", "2.0")
    # Then the third job's YAML comes back, after pauses between attempts
    assert text == GOOD
    assert genesys.started == 3
    assert genesys.clock.sleeps[:2] == [2.0, 4.0]


def test_an_export_that_never_works_fails_naming_every_attempt() -> None:
    genesys = ScriptedExports("fail", "empty", "garbage")
    with pytest.raises(ExportFailedError) as caught:
        export_flow_yaml(genesys, "f1", "2.0")
    assert genesys.started == EXPORT_ATTEMPTS
    problems = caught.value.problems
    assert len(problems) == EXPORT_ATTEMPTS
    assert "Could not find the flow." in problems[0]
    assert "empty" in problems[1]
    assert "not readable YAML" in problems[2]
    assert caught.value.asl_error_name == "Genesys.ExportFailed"


def test_a_refused_permission_is_not_retried() -> None:
    genesys = ScriptedExports("forbidden")
    with pytest.raises(ForbiddenError) as caught:
        export_flow_yaml(genesys, "f1", "2.0")
    assert caught.value.missing_permission == "architect:jobExport:create"
    assert genesys.started == 0


def test_the_time_budget_bounds_the_attempts() -> None:
    # Given exports that always fail and a budget smaller than the pauses between them
    genesys = ScriptedExports("fail")
    with pytest.raises(ExportFailedError) as caught:
        export_flow_yaml(genesys, "f1", "2.0", budget_seconds=5.0)
    # Then it stops once the budget is spent
    assert genesys.started < EXPORT_ATTEMPTS
    assert "budget" in caught.value.problems[-1]
