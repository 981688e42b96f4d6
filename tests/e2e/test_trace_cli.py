"""`flowops trace` and the demo entry point, end to end against the embedded local cloud."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from flowops.cli import app
from flowops.cli.local_cloud import CloudConnection
from flowops.cli.trace import run_demo_trace
from tests.e2e.test_trace_workflow import TraceWorld, world_factory  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow


def connection_of(world: TraceWorld) -> CloudConnection:
    env = world.env("AnalyzeExecutions")
    return CloudConnection(
        region=world.cloud.region,
        org=env["FLOWOPS_ORG"],
        artifacts_bucket=env["ARTIFACTS_BUCKET"],
        state_table=env["STATE_TABLE"],
        audit_table=env["AUDIT_TABLE"],
        genesys_base_url=world.sim.url,
    )


def test_the_demo_traces_the_busiest_flow_of_the_simulator(world_factory: Callable[..., TraceWorld]) -> None:  # noqa: F811
    # Given a simulator with execution data and the stack in the local cloud
    world = world_factory(runs=30)
    # When the demo trace runs
    document = run_demo_trace(connection_of(world))
    # Then a real execution reported on a flow with runs, with the bottleneck table in its summary
    assert document["status"] == "REPORTED" and document["runs_analyzed"] > 0
    assert document["execution_arn"].split(":")[-1].startswith("demo-trace-")
    assert "Bottlenecks by total time" in document["summary"]
    assert document["bottlenecks"] and document["coverage"]["documents"] == document["runs_analyzed"]


def test_the_cli_runs_a_trace_and_prints_json_or_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, aws_credentials: None
) -> None:
    # Given no running or deployed cloud (the command starts an embedded one)
    for name in ("ARTIFACTS_BUCKET", "STATE_TABLE", "AUDIT_TABLE", "FLOWOPS_TRACE_STATE_MACHINE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("flowops.cli.trace.connect", _no_cloud)
    runner = CliRunner()
    # When a trace of the busiest flow over 9 days is asked for as JSON
    result = runner.invoke(app, ["trace", "--since", "9d", "--flows", "30", "--seed", "4", "--json"])
    # Then it prints the execution's document
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout[result.stdout.index("{\n") :])
    assert document["status"] == "REPORTED" and document["bottlenecks"]
    # When a flow that does not exist is asked for
    missing = runner.invoke(app, ["trace", "--flow", "No Such Flow", "--flows", "30", "--seed", "4"])
    # Then the exit code says "usage" and the message names the flow
    assert missing.exit_code == 2
    assert "No Such Flow" in missing.output and "Trace.UnknownFlow" in missing.output


def _no_cloud() -> Any:
    from flowops.cli.local_cloud import CloudUnavailableError

    raise CloudUnavailableError("none in tests")
