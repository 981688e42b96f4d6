"""`flowops runs list|show|watch` against executions of real state machines in the local cloud."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from flowops.cli import app, exit_codes
from flowops.cli.runs import RunsError, build_state_runs, follow_execution
from tests.cli.conftest import run_probe_machine

RETRY_CATCH_CHOICE = {
    "StartAt": "Prepare the request",
    "States": {
        "Prepare the request": {
            "Type": "Pass",
            "Result": {"mode": "give-up", "report_key": "scans/dev/s1/report.json"},
            "ResultPath": "$.prepared",
            "Next": "Read the missing report",
        },
        "Read the missing report": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
            "Parameters": {"Bucket": "no-such-bucket-for-runs-test", "Key": "x"},
            "Retry": [
                {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 2}
            ],
            "Catch": [
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Decide what to do"}
            ],
            "Next": "Done",
        },
        "Decide what to do": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.prepared.mode", "StringEquals": "give-up", "Next": "Give up"}],
            "Default": "Done",
        },
        "Give up": {"Type": "Fail", "Error": "Probe.GaveUp", "Cause": "the report could not be read"},
        "Done": {"Type": "Succeed"},
    },
}
MAP_OVER_PAGES = {
    "StartAt": "Plan pages",
    "States": {
        "Plan pages": {
            "Type": "Pass",
            "Result": [1, 2, 3],
            "ResultPath": "$.pages",
            "Next": "Read every page",
        },
        "Read every page": {
            "Type": "Map",
            "ItemsPath": "$.pages",
            "MaxConcurrency": 1,
            "Iterator": {
                "StartAt": "Read one page",
                "States": {
                    "Read one page": {
                        "Type": "Pass",
                        "Parameters": {"key.$": "States.Format('scans/dev/s2/pages/{}.json', $)"},
                        "End": True,
                    }
                },
            },
            "End": True,
        },
    },
}


def test_show_renders_retries_backoff_catch_branch_error_and_artifacts(cli_cloud: Any) -> None:
    # Given a finished execution that retried a task twice, caught its error, branched and failed
    run_probe_machine(cli_cloud, "ProbeWorkflow", RETRY_CATCH_CHOICE, "probe-1")

    # When it is shown as JSON, by its name
    result = CliRunner().invoke(app, ["runs", "show", "probe-1", "--json"])

    # Then the exit code says the execution failed, and every state is there in order
    assert result.exit_code == exit_codes.FAILED, result.output
    document = json.loads(result.stdout)
    assert document["status"] == "FAILED"
    assert [state["name"] for state in document["states"]] == [
        "Prepare the request",
        "Read the missing report",
        "Decide what to do",
        "Give up",
    ]
    task = document["states"][1]
    # And the retries carry the configured backoff (2 s, then 2 * 3 s) and the error
    assert len(task["attempts"]) == 3
    assert [retry["configured_backoff_seconds"] for retry in task["retries"]] == [2.0, 6.0]
    assert task["error"] == "s3.NoSuchBucketException" and task["status"] == "failed"
    # And the catch target and the branch taken are named
    assert task["next_state"] == "Decide what to do"
    assert document["states"][2]["next_state"] == "Give up"
    # And the execution's error, and the artifact keys from the outputs
    assert document["error"] == "Probe.GaveUp" and document["cause"] == "the report could not be read"
    assert document["artifacts"] == ["scans/dev/s1/report.json"]


def test_show_text_reads_like_the_console(cli_cloud: Any) -> None:
    # Given the same failed execution
    run_probe_machine(cli_cloud, "ProbeWorkflow", RETRY_CATCH_CHOICE, "probe-text")

    # When it is shown as text
    result = CliRunner().invoke(app, ["runs", "show", "probe-text"])

    # Then the lines a person scans for are there, in order, and no traceback
    assert result.exit_code == exit_codes.FAILED
    output = result.stdout
    assert "status   FAILED" in output
    assert "retry after attempt 1: s3.NoSuchBucketException" in output and "configured 2.0s" in output
    assert "caught, went to → Decide what to do" in output
    assert "branch → Give up" in output
    positions = [output.index(name) for name in ("Prepare the request", "Read the missing report", "Give up")]
    assert positions == sorted(positions)
    assert "scans/dev/s1/report.json" in output
    assert "Traceback" not in result.output


def test_map_iterations_are_numbered_and_list_and_watch_find_the_run(cli_cloud: Any) -> None:
    # Given a succeeded execution that mapped over three pages
    execution_arn = run_probe_machine(cli_cloud, "PagesWorkflow", MAP_OVER_PAGES, "pages-1")

    # When it is shown
    shown = CliRunner().invoke(app, ["runs", "show", execution_arn, "--json"])

    # Then each iteration's state carries its index, and each page key is an artifact
    assert shown.exit_code == exit_codes.OK, shown.output
    document = json.loads(shown.stdout)
    inner = [state for state in document["states"] if state["name"] == "Read one page"]
    assert sorted(state["iteration"] for state in inner) == [0, 1, 2]
    assert {state["map_state"] for state in inner} == {"Read every page"}
    assert [state["name"] for state in document["states"] if state["iteration"] is None] == [
        "Plan pages",
        "Read every page",
    ]
    assert sorted(document["artifacts"]) == [f"scans/dev/s2/pages/{n}.json" for n in (1, 2, 3)]

    # When the runs are listed, filtered by state machine name
    listed = CliRunner().invoke(app, ["runs", "list", "--machine", "pages", "--json"])
    assert listed.exit_code == exit_codes.OK, listed.output
    rows = json.loads(listed.stdout)["executions"]
    assert [(row["name"], row["status"]) for row in rows] == [("pages-1", "SUCCEEDED")]

    # When it is watched (it has already finished): every state is reported and the end
    watched = CliRunner().invoke(app, ["runs", "watch", "pages-1", "--interval", "0.05"])
    assert watched.exit_code == exit_codes.OK, watched.output
    assert "▶ Plan pages" in watched.stdout and "✓ Read one page [2]" in watched.stdout
    lines = watched.stdout.strip().splitlines()
    assert any(line.startswith("execution SUCCEEDED after ") for line in lines)
    assert lines[-1].startswith("artifact scans/dev/s2/pages/")


def test_unknown_execution_is_a_usage_error_without_traceback(cli_cloud: Any) -> None:
    result = CliRunner().invoke(app, ["runs", "show", "never-ran"])
    assert result.exit_code == exit_codes.USAGE_ERROR
    assert "no execution named 'never-ran'" in result.stderr
    assert "Traceback" not in result.output


def test_no_cloud_is_unreachable(no_cloud: None) -> None:
    for arguments in (["runs", "list"], ["runs", "show", "x"], ["runs", "watch", "x"]):
        result = CliRunner().invoke(app, arguments)
        assert result.exit_code == exit_codes.UNREACHABLE, arguments
        assert "flowops local up" in result.stderr


def test_bad_status_filter_is_a_usage_error(no_cloud: None) -> None:
    result = CliRunner().invoke(app, ["runs", "list", "--status", "BROKEN"])
    assert result.exit_code == exit_codes.USAGE_ERROR and "--status" in result.stderr


# --- watch, live, against a history that grows between polls (no cloud needed) ---------------

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def _event(event_id: int, previous: int, kind: str, seconds: float, **details: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": event_id,
        "previousEventId": previous,
        "type": kind,
        "timestamp": T0 + timedelta(seconds=seconds),
    }
    if details:
        key = {"StateEntered": "stateEnteredEventDetails", "StateExited": "stateExitedEventDetails"}
        suffix = next((s for s in key if kind.endswith(s)), None)
        event[key[suffix] if suffix else "lambdaFunctionFailedEventDetails"] = details
    return event


GROWING_HISTORY = [
    _event(1, 0, "ExecutionStarted", 0),
    _event(2, 1, "TaskStateEntered", 0, name="Start publish"),
    _event(3, 2, "LambdaFunctionScheduled", 0),
    _event(4, 3, "LambdaFunctionFailed", 1, error="Genesys.ServerError", cause="503"),
    _event(5, 4, "LambdaFunctionScheduled", 5),
    _event(6, 5, "LambdaFunctionSucceeded", 6),
    _event(7, 6, "TaskStateExited", 6, name="Start publish", output='{"job_key": "publish/dev/j1.json"}'),
]


class GrowingExecution:
    """A fake Step Functions client: each describe shows a few more events of the history."""

    def __init__(self, visible_per_poll: list[int], final_status: str = "SUCCEEDED") -> None:
        self.visible_per_poll = visible_per_poll
        self.final_status = final_status
        self.polls = 0

    def _visible(self) -> int:
        return self.visible_per_poll[min(self.polls, len(self.visible_per_poll) - 1)]

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        self.polls += 1
        done = self.polls >= len(self.visible_per_poll)
        return {
            "executionArn": executionArn,
            "stateMachineArn": "arn:aws:states:eu-west-1:1:stateMachine:PublishWorkflow",
            "name": "publish-1",
            "status": self.final_status if done else "RUNNING",
            "startDate": T0,
            "stopDate": T0 + timedelta(seconds=7) if done else None,
        }

    def get_execution_history(self, **_: Any) -> dict[str, Any]:
        return {"events": GROWING_HISTORY[: self._visible()]}

    def describe_state_machine(self, **_: Any) -> dict[str, Any]:
        return {"definition": json.dumps({"States": {"Start publish": {"Type": "Task"}}})}


def test_watch_prints_states_and_retries_as_they_happen() -> None:
    # Given an execution whose history grows over three polls
    sfn = GrowingExecution([2, 5, 7])
    sleeps: list[float] = []

    # When it is followed
    lines = list(follow_execution(sfn, "arn:exec", interval=0.5, timeout=60, sleep=sleeps.append))

    # Then each fact is printed once, in the order it happened, with the observed backoff
    assert lines[:3] == [
        "▶ Start publish",
        "  ↻ Start publish: attempt 1 failed with Genesys.ServerError, retrying after 4.0s",
        "✓ Start publish  6.0s",
    ]
    assert lines[3] == "execution SUCCEEDED after 7.0s"
    assert lines[-1] == "artifact publish/dev/j1.json"
    assert sleeps == [0.5, 0.5]


def test_watch_gives_up_at_its_timeout() -> None:
    sfn = GrowingExecution([2] * 1000)
    with pytest.raises(RunsError, match="still RUNNING") as raised:
        list(follow_execution(sfn, "arn:exec", interval=0.0, timeout=0.0, sleep=lambda _: None))
    assert raised.value.exit_code == exit_codes.FAILURE_FOUND


def test_a_retried_task_that_succeeds_in_the_end_is_succeeded() -> None:
    runs = build_state_runs(GROWING_HISTORY)
    assert [(run.name, run.status, len(run.attempts), len(run.retries)) for run in runs] == [
        ("Start publish", "succeeded", 2, 1)
    ]
    assert runs[0].retries[0].observed_backoff_seconds == 4.0
    assert runs[0].artifacts == ["publish/dev/j1.json"]
