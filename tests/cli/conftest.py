"""CLI test fixtures: the commands see a LocalCloud as if it were a deployed stack.

`cli_cloud` starts the stack's resources in an in-process moto (`local_cloud`) and points the
CLI's connection at them through the deployed-stack environment variables (ARTIFACTS_BUCKET,
STATE_TABLE, AUDIT_TABLE, AWS_REGION), with no `local up` endpoints file, so the commands take
exactly the boto3 code path they take against AWS.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from flowops.cli.local_cloud import ENDPOINTS_FILE_VARIABLE

STACK_VARIABLES = ("ARTIFACTS_BUCKET", "STATE_TABLE", "AUDIT_TABLE", "FLOWOPS_SCAN_STATE_MACHINE_ARN")
GENESYS_VARIABLES = ("GENESYS_REGION", "GENESYS_BASE_URL", "GENESYS_SECRET_ID")


@pytest.fixture
def no_cloud(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing running locally, no deployed stack configured, no Genesys settings."""
    monkeypatch.setenv(ENDPOINTS_FILE_VARIABLE, str(tmp_path / "no-local-cloud.json"))
    for name in (*STACK_VARIABLES, *GENESYS_VARIABLES):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def cli_cloud(local_cloud: Any, no_cloud: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    environment = local_cloud.function_environment("CheckDependencyIndex")
    for name in ("ARTIFACTS_BUCKET", "STATE_TABLE", "AUDIT_TABLE"):
        monkeypatch.setenv(name, environment[name])
    monkeypatch.setenv("FLOWOPS_ORG", environment.get("FLOWOPS_ORG", "dev"))
    monkeypatch.setenv("AWS_REGION", local_cloud.region)
    monkeypatch.setenv("AWS_DEFAULT_REGION", local_cloud.region)
    return local_cloud


def run_probe_machine(cloud: Any, name: str, definition: dict[str, Any], execution: str) -> str:
    """Create a small '<name>Workflow' state machine in the local cloud, run it to the end."""
    sfn = cloud.sfn
    machine_arn = sfn.create_state_machine(
        name=name,
        definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::123456789012:role/{name}-role",
    )["stateMachineArn"]
    started = sfn.start_execution(stateMachineArn=machine_arn, name=execution, input="{}")
    execution_arn = started["executionArn"]
    deadline = time.monotonic() + 30
    while sfn.describe_execution(executionArn=execution_arn)["status"] == "RUNNING":
        assert time.monotonic() < deadline, "probe execution did not finish"
        time.sleep(0.05)
    return str(execution_arn)
