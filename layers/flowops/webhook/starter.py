"""Starting publish executions: the `ExecutionStarter` interface and its Step Functions version."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions.client import SFNClient


class ExecutionNameTakenError(Exception):
    """The name belongs to an execution started before `not_before`: another run's, not ours."""

    def __init__(self, name: str) -> None:
        super().__init__(f"execution name {name} belongs to an earlier execution")
        self.name = name


class ExecutionStarter(Protocol):
    def execution_arn(self, name: str) -> str:
        """The ARN an execution called `name` has (known before it is started)."""
        ...

    def start(self, name: str, input_json: str, *, not_before: float | None = None) -> str:
        """Start execution `name`; if it already exists, return its ARN without starting another.

        With `not_before` (epoch seconds), an existing execution that started earlier is not
        ours: raise `ExecutionNameTakenError` instead of answering with its ARN.
        """
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

    def start(self, name: str, input_json: str, *, not_before: float | None = None) -> str:
        try:
            response = self._client.start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=input_json
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                raise
            # Names are unique per state machine for 90 days: an execution of this name exists.
            # Started by this claim (a racing or crashed twin) it is the one we wanted; started
            # before the claim existed, it is an earlier use's run, never to be reported as ours.
            arn = self.execution_arn(name)
            if not_before is not None:
                started = self._client.describe_execution(executionArn=arn)["startDate"]
                if started.timestamp() < not_before:
                    raise ExecutionNameTakenError(name) from None
            return arn
        return response["executionArn"]
