"""State machine timeouts are derived from the step budgets, with margin, and cover every timing
a request may ask for: running out of time is a deadline the machine checks (caught, recorded,
notified), never the execution timeout nothing can catch."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from flowops.publish.models import PublishTiming
from flowops.trace.request import TraceRequest
from infra.constructs import publish_workflow, trace_workflow
from tests.infra.conftest import SynthesizedApp
from tests.infra.definitions import definition_of

# The audit's single-attempt worst case of a publish that rolls back (validate → record release,
# then rollback and its record), which the old 1-hour limit did not cover.
PUBLISH_SINGLE_ATTEMPT_SECONDS = 3_900


def _timeouts(app: SynthesizedApp) -> dict[str, int]:
    """Workflow (logical id stem) → its definition's TimeoutSeconds."""
    return {
        logical_id.split("StateMachine")[0]: int(
            definition_of(resource["Properties"]["DefinitionString"])["TimeoutSeconds"]
        )
        for logical_id, resource in app.template["Resources"].items()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
    }


def test_the_publish_limit_covers_its_worst_single_attempt_with_margin(
    synthesized_with_nag: SynthesizedApp,
) -> None:
    # Given the synthesized publish machine
    timeout = _timeouts(synthesized_with_nag)["PublishWorkflow"]
    # Then a publish that runs every step to its timeout and both jobs to their deadlines fits
    assert timeout >= 1.25 * PUBLISH_SINGLE_ATTEMPT_SECONDS
    # And the flow's publish lease outlives any run, so no second publish starts while one runs
    assert timeout < PublishTiming().lease_seconds


def test_the_trace_limit_exceeds_the_longest_job_deadline_a_request_may_give(
    synthesized_with_nag: SynthesizedApp,
) -> None:
    timeout = _timeouts(synthesized_with_nag)["TraceWorkflow"]
    assert timeout >= 1.25 * trace_workflow.MAX_JOB_DEADLINE_SECONDS


def test_requests_cannot_ask_for_more_time_than_the_machines_were_sized_for() -> None:
    # Given the limits the state machine timeouts were derived from
    # Then a request asking for longer job deadlines or polls is refused at its edge
    with pytest.raises(ValidationError):
        PublishTiming(publish_deadline_seconds=publish_workflow.JOB_DEADLINE_SECONDS + 1)
    with pytest.raises(ValidationError):
        PublishTiming(rollback_deadline_seconds=publish_workflow.JOB_DEADLINE_SECONDS + 1)
    with pytest.raises(ValidationError):
        PublishTiming(max_poll_seconds=publish_workflow.MAX_POLL_SECONDS + 1)
    assert TraceRequest.model_fields["deadline_seconds"].metadata
    limits = [getattr(m, "le", None) for m in TraceRequest.model_fields["deadline_seconds"].metadata]
    assert max(limit for limit in limits if limit is not None) <= trace_workflow.MAX_JOB_DEADLINE_SECONDS
