"""The read-only Step Functions client that answers `flowops runs` from kept embedded runs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, OperationNotPageableError

from flowops.cli.embedded_state import KeptStepFunctions

MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:Scan"


def kept_run(name: str, status: str, started: int) -> dict[str, Any]:
    arn = f"arn:aws:states:eu-west-1:123456789012:execution:Scan:{name}"
    return {
        "description": {
            "executionArn": arn,
            "stateMachineArn": MACHINE,
            "name": name,
            "status": status,
            "startDate": datetime(2026, 12, 2, 10, started, tzinfo=UTC),
        },
        "events": [{"id": 1, "type": "ExecutionStarted"}],
        "machine": {"stateMachineArn": MACHINE, "name": "Scan", "definition": "{}"},
    }


@pytest.fixture
def sfn() -> KeptStepFunctions:
    return KeptStepFunctions([kept_run("scan-2", "FAILED", 2), kept_run("scan-1", "SUCCEEDED", 1)])


def test_every_pageable_call_it_answers_pages_like_boto3(sfn: KeptStepFunctions) -> None:
    # When each pageable operation is paginated as boto3 code does
    machines = [p for p in sfn.get_paginator("list_state_machines").paginate()]
    failed = list(
        sfn.get_paginator("list_executions").paginate(stateMachineArn=MACHINE, statusFilter="FAILED")
    )
    arn = "arn:aws:states:eu-west-1:123456789012:execution:Scan:scan-1"
    history = list(sfn.get_paginator("get_execution_history").paginate(executionArn=arn))
    # Then each gives one page with the kept records, filtered as asked
    assert machines == [{"stateMachines": [{"name": "Scan", "stateMachineArn": MACHINE}]}]
    assert [e["name"] for page in failed for e in page["executions"]] == ["scan-2"]
    assert history == [{"events": [{"id": 1, "type": "ExecutionStarted"}]}]


def test_an_operation_it_cannot_page_raises_what_boto3_raises(sfn: KeptStepFunctions) -> None:
    with pytest.raises(OperationNotPageableError):
        sfn.get_paginator("list_activities")


def test_an_unknown_machine_is_the_aws_error(sfn: KeptStepFunctions) -> None:
    with pytest.raises(ClientError, match="StateMachineDoesNotExist"):
        sfn.describe_state_machine(stateMachineArn=MACHINE + "-gone")
