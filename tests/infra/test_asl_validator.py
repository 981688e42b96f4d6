"""Every synthesized state machine passes asl-validator (the npm package, pinned in package.json).

cfn-lint checks the template; asl-validator checks each definition against the Amazon States
Language schema (state types and fields, Retry/Catch shapes, JSONPath expressions, Resource ARNs).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.infra.conftest import SynthesizedApp
from tests.infra.definitions import resolved_definition

ROOT = Path(__file__).resolve().parents[2]
ASL_VALIDATOR = ROOT / "node_modules" / ".bin" / "asl-validator"


@pytest.mark.skipif(
    not ASL_VALIDATOR.exists(), reason="node_modules/.bin/asl-validator is absent: run `make setup` (npm ci)"
)
def test_every_synthesized_state_machine_passes_asl_validator(
    synthesized_with_nag: SynthesizedApp, tmp_path: Path
) -> None:
    # Given every state machine of the synthesized stack, references resolved to placeholder ARNs
    machines = {
        logical_id: resolved_definition(resource["Properties"]["DefinitionString"])
        for logical_id, resource in synthesized_with_nag.template["Resources"].items()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
    }
    assert len(machines) >= 3
    arguments = []
    for logical_id, definition in sorted(machines.items()):
        path = tmp_path / f"{logical_id}.asl.json"
        path.write_text(json.dumps(definition), encoding="utf-8")
        arguments += ["--json-path", str(path)]

    # When asl-validator checks them all
    completed = subprocess.run(
        [str(ASL_VALIDATOR), *arguments], capture_output=True, text=True, timeout=120, check=False
    )

    # Then it reports every definition valid
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.count("is valid") == len(machines), completed.stdout


def test_references_resolve_to_placeholders_a_deployment_would_hold() -> None:
    # Given a definition joined from literals, a pseudo parameter and a function's ARN
    joined = {
        "Fn::Join": [
            "",
            [
                '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"',
                {"Fn::GetAtt": ["Fn", "Arn"]},
                '","Comment":"arn:',
                {"Ref": "AWS::Partition"},
                '","End":true}}}',
            ],
        ]
    }
    # When it is resolved
    definition = resolved_definition(joined)
    # Then the function reference is an ARN and the pseudo parameter its value
    assert definition["States"]["A"]["Resource"].startswith("arn:aws:lambda:")
    assert definition["States"]["A"]["Comment"] == "arn:aws"
