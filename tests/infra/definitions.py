"""The state machines of a synthesized template as plain ASL, for tests that reason about them.

`Fn::Join` parts that are references (`Ref`, `Fn::GetAtt`, ...) become the placeholder `REF`, so
the definition parses as JSON and every literal (state names, Retry, Catch, timeouts) stays exact.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

REF = "REF"


def definition_of(definition_string: Any) -> dict[str, Any]:
    if isinstance(definition_string, str):
        return json.loads(definition_string)  # type: ignore[no-any-return]
    ((function, argument),) = definition_string.items()
    assert function == "Fn::Join" and argument[0] == "", function
    return json.loads("".join(part if isinstance(part, str) else REF for part in argument[1]))  # type: ignore[no-any-return]


def state_machines(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Logical id → parsed definition, for every AWS::StepFunctions::StateMachine."""
    return {
        logical_id: definition_of(resource["Properties"]["DefinitionString"])
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
    }


def all_states(definition: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, state) for every state, nested Map item processors and Parallel branches included."""
    for name, state in definition["States"].items():
        here = f"{path}/{name}"
        yield here, state
        for nested in (state.get("ItemProcessor"), state.get("Iterator")):
            if nested:
                yield from all_states(nested, here)
        for index, branch in enumerate(state.get("Branches", [])):
            yield from all_states(branch, f"{here}[{index}]")


def is_lambda_task(state: dict[str, Any]) -> bool:
    """A Task that invokes a Lambda: by function ARN (a `REF` here) or through lambda:invoke."""
    if state.get("Type") != "Task":
        return False
    resource = str(state.get("Resource", ""))
    return resource == REF or ":lambda:" in resource or "lambda:invoke" in resource


# What each CloudFormation reference stands for in a deployed definition, for validators that
# check ARNs and paths: pseudo parameters by value, any other reference as a Lambda function ARN
# (the only resource a Task's `Resource` references directly; elsewhere it is just a string).
PLACEHOLDERS = {"AWS::Partition": "aws", "AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012"}
PLACEHOLDER_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:placeholder"


def resolved_definition(definition_string: Any) -> dict[str, Any]:
    """The definition with every reference replaced by a placeholder value a deployment would hold."""
    if isinstance(definition_string, str):
        return json.loads(definition_string)  # type: ignore[no-any-return]
    ((function, argument),) = definition_string.items()
    assert function == "Fn::Join" and argument[0] == "", function
    parts = []
    for part in argument[1]:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict) and part.get("Ref") in PLACEHOLDERS:
            parts.append(PLACEHOLDERS[part["Ref"]])
        else:
            parts.append(PLACEHOLDER_ARN)
    return json.loads("".join(parts))  # type: ignore[no-any-return]
