from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel


class SynthesizedApp(BaseModel):
    template: dict[str, Any]
    unacknowledged_findings: list[str]
    """`<rule> at <construct path>` for every AwsSolutions finding nobody acknowledged."""
    acknowledged_findings: list[str]


def synthesize_with_nag(context: dict[str, Any]) -> SynthesizedApp:
    """The dev stack, with this cdk `context`, synthesized with cdk-nag's AwsSolutions pack."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import aws_cdk as cdk

    from infra.app import build_stack, selected_environments
    from infra.nag import apply_aws_solutions_checks

    with tempfile.TemporaryDirectory(prefix="flowops-infra-test-") as outdir:
        app = cdk.App(context=context, outdir=outdir)
        apply_aws_solutions_checks(app)
        (config,) = selected_environments(app)
        stack = build_stack(app, config)
        try:
            app.synth()
        except RuntimeError as error:
            # cdk-nag v3 fails synthesis on unacknowledged findings; the report says which.
            if "ValidationFailed" not in str(error):
                raise
        template = json.loads((Path(outdir) / f"{stack.stack_name}.template.json").read_text())
        report = json.loads((Path(outdir) / "validation-report.json").read_text())
    open_findings, acknowledged = [], []
    for plugin in report.get("pluginReports", []):
        if plugin.get("pluginName") != "AwsSolutions":
            continue
        for violation in plugin.get("violations", []):
            open_findings += [
                f"{violation['ruleName']} at {c['constructPath']}" for c in violation["violatingConstructs"]
            ]
        for violation in plugin.get("suppressedViolations", []):
            acknowledged.append(f"{violation['ruleName']}: {violation.get('reason', '')}")
    return SynthesizedApp(
        template=template, unacknowledged_findings=open_findings, acknowledged_findings=acknowledged
    )


@pytest.fixture(scope="session")
def synthesized_with_nag() -> SynthesizedApp:
    """The dev stack synthesized ONCE with cdk-nag's AwsSolutions pack (source-only layer)."""
    from flowops.local.runtime.synth import local_context

    return synthesize_with_nag(local_context("dev"))
