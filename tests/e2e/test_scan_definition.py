"""The scan state machine and schedule as synthesized by CDK (what every e2e test executes)."""

from __future__ import annotations

import json
from typing import Any

import pytest

GENESYS_ERRORS = ["Genesys.RateLimited", "Genesys.ServerError", "Genesys.Unavailable"]


def resources_of(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {lid: res for lid, res in template["Resources"].items() if res["Type"] == resource_type}


@pytest.fixture(scope="module")
def scan_definition(synthesized_template: dict[str, Any]) -> dict[str, Any]:
    machines = {
        lid: res
        for lid, res in resources_of(synthesized_template, "AWS::StepFunctions::StateMachine").items()
        if lid.startswith("ScanWorkflow")
    }
    assert len(machines) == 1
    (machine,) = machines.values()
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    # Resource ARNs are intrinsics; a placeholder keeps the JSON parseable for inspection.
    return json.loads("".join(part if isinstance(part, str) else "ARN" for part in parts))


def all_states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    states = dict(definition["States"])
    for state in definition["States"].values():
        if state["Type"] == "Map":
            states |= all_states(state["ItemProcessor"])
    return states


def test_every_genesys_calling_task_retries_genesys_errors_with_full_jitter(
    scan_definition: dict[str, Any],
) -> None:
    states = all_states(scan_definition)
    genesys_tasks = [
        "Check the dependency index",
        "List the pages of flows",
        "Read one page of flows and their dependencies",
    ]
    for name in genesys_tasks:
        retry = next(rule for rule in states[name]["Retry"] if rule["ErrorEquals"] == GENESYS_ERRORS)
        assert retry["JitterStrategy"] == "FULL" and retry["BackoffRate"] == 2
        assert retry["MaxAttempts"] >= 3


def test_every_task_is_caught_into_a_fail_state_that_keeps_the_previous_lock(
    scan_definition: dict[str, Any],
) -> None:
    states = scan_definition["States"]
    for name, state in states.items():
        if state["Type"] in {"Task", "Map"} and name != "Report drift, metrics and audit":
            assert state["Catch"][0]["Next"] == "Scan failed, the previous lock is still current", name
    # The report runs after the pointer step: its failure names the lock the pointer now holds
    choice = states[states["Report drift, metrics and audit"]["Catch"][0]["Next"]]
    assert choice["Type"] == "Choice"
    assert states[choice["Choices"][0]["Next"]]["Type"] == "Fail"
    assert choice["Choices"][0]["Next"] == "Scan report failed, this scan's lock is current"
    assert choice["Default"] == "Scan report failed, another scan's lock is current"
    assert states["Scan failed, the previous lock is still current"]["CausePath"] == "$.error.Cause"
    assert (
        states["Dependency index did not become operational in time"]["Error"]
        == "DependencyIndexNotOperational"
    )


def test_pages_are_read_with_bounded_concurrency_and_only_keys_travel_in_state(
    scan_definition: dict[str, Any],
) -> None:
    read_pages = scan_definition["States"]["Read every page of flows"]
    assert read_pages["MaxConcurrency"] == 4
    assert read_pages["ItemsPath"] == "$.plan.pages"
    assert (
        scan_definition["States"]["Wait for the dependency index to rebuild"]["SecondsPath"]
        == "$.index.wait_seconds"
    )


def test_schedule_rule_starts_the_scan_state_machine_at_the_configured_rate(
    synthesized_template: dict[str, Any],
) -> None:
    rules = resources_of(synthesized_template, "AWS::Events::Rule")
    scan_rules = [rule for lid, rule in rules.items() if lid.startswith("ScanSchedule")]
    assert len(scan_rules) == 1
    properties = scan_rules[0]["Properties"]
    assert properties["ScheduleExpression"] == "rate(6 hours)"  # cdk.json, environment dev
    (target,) = properties["Targets"]
    assert target["Arn"]["Ref"].startswith("ScanWorkflowStateMachine")
    assert json.loads(target["Input"]) == {"trigger": "schedule", "full": False}
