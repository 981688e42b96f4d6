"""Child executions (`states:startExecution.sync:2`) as Step Functions runs them.

moto's ASL interpreter calls the Step Functions API with the task's parameters as written in the
definition (`StateMachineArn`, `Input`, `Name`) where the API takes `stateMachineArn`, `input`,
`name`, so every such task fails with `States.Runtime`; and it hands the API's camelCase
response (`executionArn`, `output`, `error`) to code and definitions that expect what AWS returns
to a state machine: `ExecutionArn`, `Output`, `Error`, `Cause`. `install()` translates both ways
for the Step Functions integration only; the child then runs as any execution does (its own
history, 256 KB checks, timeout), named with a UUID when the task gives no name, as in AWS.
A private moto API (moto is pinned); `uninstall()` restores it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

_originals: dict[str, Any] = {}


def _camel(key: str) -> str:
    return key[:1].lower() + key[1:]


def _pascal(key: str) -> str:
    return key[:1].upper() + key[1:]


def install(on_child_started: Callable[[str, str], None] | None = None) -> None:
    """`on_child_started(parent_arn, child_arn)` is told of every child execution started."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
        StateTaskServiceSfn,
    )

    if _originals:
        return
    normalise_parameters = StateTaskServiceSfn._normalise_parameters
    normalise_response = StateTaskServiceSfn._normalise_response

    def to_api(
        task: Any,
        parameters: dict[str, Any],
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        normalise_parameters(task, parameters, boto_service_name, service_action_name)
        for key in list(parameters):
            parameters[_camel(key)] = parameters.pop(key)
        # AWS names an unnamed child with a UUID; moto would name every one "None" (and collide).
        parameters.setdefault("name", str(uuid.uuid4()))

    def from_api(
        task: Any,
        response: Any,
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        normalise_response(task, response, boto_service_name, service_action_name)
        if isinstance(response, dict):
            for key in list(response):
                response[_pascal(key)] = response.pop(key)

    def eval_service_task(task: Any, env: Any, *args: Any, **kwargs: Any) -> None:
        # The submission (startExecution's response) is read as `ExecutionArn` by the resolvers.
        _originals["_eval_service_task"](task, env, *args, **kwargs)
        if env.stack and isinstance(env.stack[-1], dict):
            from_api(task, env.stack[-1])
            child_arn = env.stack[-1].get("ExecutionArn")
            parent_arn = env.states.context_object.context_object_data.get("Execution", {}).get("Id")
            if on_child_started is not None and child_arn and parent_arn:
                on_child_started(str(parent_arn), str(child_arn))

    _originals.update(
        _normalise_parameters=normalise_parameters,
        _normalise_response=normalise_response,
        _eval_service_task=StateTaskServiceSfn._eval_service_task,
    )
    StateTaskServiceSfn._normalise_parameters = to_api  # type: ignore[method-assign]
    StateTaskServiceSfn._normalise_response = from_api  # type: ignore[method-assign]
    StateTaskServiceSfn._eval_service_task = eval_service_task  # type: ignore[method-assign]


def uninstall() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
        StateTaskServiceSfn,
    )

    for name, original in _originals.items():
        setattr(StateTaskServiceSfn, name, original)
    _originals.clear()
