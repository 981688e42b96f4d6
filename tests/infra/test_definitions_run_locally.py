"""The state machines the local runtime executes are exactly the ones CDK synthesizes.

For each of the scan, publish and trace state machines, the definition registered in the local
cloud must equal the template's `DefinitionString` everywhere except where the template holds a
reference (`Ref`, `Fn::GetAtt`, ...) that the local cloud resolves to a local ARN or name. The
template's literal parts are turned into a pattern with one wildcard per reference, so a state,
a Retry, a Catch or a name that differed would not match.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

pytestmark = pytest.mark.slow

WORKFLOWS = ("ScanWorkflow/StateMachine", "PublishWorkflow/StateMachine", "TraceWorkflow/StateMachine")


def _pattern_of(definition_string: Any) -> re.Pattern[str]:
    """A regex of the synthesized definition: literal text exact, each reference a wildcard."""
    if isinstance(definition_string, str):
        parts: list[Any] = [definition_string]
    else:
        ((function, argument),) = definition_string.items()
        assert function == "Fn::Join" and argument[0] == "", function
        parts = argument[1]
    return re.compile(
        "".join(re.escape(part) if isinstance(part, str) else r"[^\"]+" for part in parts), re.DOTALL
    )


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_the_local_definition_is_the_synthesized_one_with_only_references_resolved(
    local_cloud: Any, synthesized_template: dict[str, Any], workflow: str
) -> None:
    # Given the synthesized template and a local cloud created from it
    machine = local_cloud.resources.state_machine(workflow)
    synthesized = synthesized_template["Resources"][machine.logical_id]["Properties"]["DefinitionString"]

    # When the local cloud is asked which definition it runs
    arn = local_cloud.state_machine_arn(workflow)
    local_definition = local_cloud.sfn.describe_state_machine(stateMachineArn=arn)["definition"]

    # Then it is the synthesized text, references aside, and it is valid ASL JSON with states
    assert _pattern_of(synthesized).fullmatch(local_definition), workflow
    parsed = json.loads(local_definition)
    assert parsed["StartAt"] in parsed["States"]
    # And no unresolved CloudFormation token is left in it
    assert "Fn::" not in local_definition and "${Token" not in local_definition
