"""Every Lambda task of every state machine retries Lambda's own errors (AWS best practice).

A throttle (`Lambda.TooManyRequestsException`), a transient Lambda service error, or a killed
function (`Lambda.Unknown`: timeout or out of memory) must be retried before any Catch turns it
into a failure or a rollback.
"""

from __future__ import annotations

from typing import Any

from tests.infra.conftest import SynthesizedApp
from tests.infra.definitions import all_states, is_lambda_task, state_machines

LAMBDA_SERVICE_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}


def _retried_errors(state: dict[str, Any]) -> set[str]:
    return {
        error
        for rule in state.get("Retry", [])
        if rule.get("MaxAttempts", 3) > 0
        for error in rule["ErrorEquals"]
    }


def test_every_lambda_task_of_every_state_machine_retries_lambda_service_errors(
    synthesized_with_nag: SynthesizedApp,
) -> None:
    # Given every state machine of the synthesized stack
    machines = state_machines(synthesized_with_nag.template)
    assert len(machines) >= 3

    # When each Lambda task's Retry rules are collected
    lambda_tasks = {
        f"{logical_id}{path}": state
        for logical_id, definition in machines.items()
        for path, state in all_states(definition)
        if is_lambda_task(state)
    }

    # Then there are Lambda tasks in every machine, including the scan's page Map
    assert {path.split("/")[0] for path in lambda_tasks} == set(machines)
    assert any(path.count("/") > 1 for path in lambda_tasks), "no Lambda task inside a Map was found"
    # And each retries Lambda's service errors and throttling, and a killed function
    missing = {
        path: sorted((LAMBDA_SERVICE_ERRORS | {"Lambda.Unknown"}) - _retried_errors(state))
        for path, state in lambda_tasks.items()
    }
    assert {path: errors for path, errors in missing.items() if errors} == {}


def test_lambda_errors_are_retried_before_anything_catches_them(synthesized_with_nag: SynthesizedApp) -> None:
    # Given every Lambda task that has a catch-all
    for logical_id, definition in state_machines(synthesized_with_nag.template).items():
        for path, state in all_states(definition):
            if not is_lambda_task(state):
                continue
            rules = state.get("Retry", [])
            # Then no earlier Retry rule shadows the Lambda rules with a catch-all that gives up sooner
            first_lambda_rule = next(
                i for i, rule in enumerate(rules) if "Lambda.Unknown" in rule["ErrorEquals"]
            )
            shadowing = [
                rule
                for rule in rules[:first_lambda_rule]
                if {"States.ALL", "States.TaskFailed"} & set(rule["ErrorEquals"])
            ]
            assert shadowing == [], f"{logical_id}{path}"
