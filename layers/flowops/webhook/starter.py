"""Starting publish executions: the `ExecutionStarter` interface and its Step Functions version."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions.client import SFNClient


class ExecutionStarter(Protocol):
    def execution_arn(self, name: str) -> str:
        """The ARN an execution called `name` has (known before it is started)."""
        ...

    def start(self, name: str, input_json: str) -> str:
        """Start execution `name`; if it already exists, return its ARN without starting another."""
        ...


def execution_arn_from(state_machine_arn: str, name: str) -> str:
    """`arn:…:stateMachine:<machine>` → `arn:…:execution:<machine>:<name>` (the documented ARN form)."""
    prefix, separator, machine = state_machine_arn.rpartition(":stateMachine:")
    if not separator:
        raise ValueError(f"not a state machine ARN: {state_machine_arn!r}")
    return f"{prefix}:execution:{machine}:{name}"


class StepFunctionsExecutionStarter:
    """`ExecutionStarter` on `states:StartExecution` for one state machine."""

    def __init__(self, state_machine_arn: str, *, client: SFNClient) -> None:
        self.state_machine_arn = state_machine_arn
        self._client = client

    def execution_arn(self, name: str) -> str:
        return execution_arn_from(self.state_machine_arn, name)

    def start(self, name: str, input_json: str) -> str:
        try:
            response = self._client.start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=input_json
            )
        except ClientError as error:
            # Names are unique per state machine for 90 days: the execution we wanted exists.
            if error.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                return self.execution_arn(name)
            raise
        return response["executionArn"]
