"""The Git push resources exist only for environments with `git` in cdk.json, with the
permissions docs/git.md lists (and cdk-nag has nothing new to say about them)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

GIT = {
    "secretName": "flowops/dev/git",
    "repositories": [{"provider": "github", "repository": "acme/flows", "branches": {"main": "dev"}}],
    "runUrl": "https://console.example/releases",
}


@pytest.fixture(scope="module")
def synthesized() -> tuple[dict[str, Any], list[str]]:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import aws_cdk as cdk

    from infra.app import build_stack, selected_environments
    from infra.nag import apply_aws_solutions_checks
    from local.runtime.synth import local_context

    context = local_context("dev")
    context["flowops:environments"]["dev"]["git"] = GIT
    with tempfile.TemporaryDirectory(prefix="flowops-git-infra-") as outdir:
        app = cdk.App(context=context, outdir=outdir)
        apply_aws_solutions_checks(app)
        (config,) = selected_environments(app)
        stack = build_stack(app, config)
        try:
            app.synth()
        except RuntimeError as error:
            if "ValidationFailed" not in str(error):
                raise
        template = json.loads((Path(outdir) / f"{stack.stack_name}.template.json").read_text())
        report = json.loads((Path(outdir) / "validation-report.json").read_text())
    findings = [
        f"{v['ruleName']} at {c['constructPath']}"
        for plugin in report.get("pluginReports", [])
        if plugin.get("pluginName") == "AwsSolutions"
        for v in plugin.get("violations", [])
        for c in v["violatingConstructs"]
    ]
    return template, findings


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_git_push_route_functions_and_release_rule(synthesized: tuple[dict[str, Any], list[str]]) -> None:
    template, findings = synthesized
    handlers = {f["Properties"]["Handler"]: f for f in of_type(template, "AWS::Lambda::Function").values()}
    push = handlers["functions.git.push.handler"]["Properties"]["Environment"]["Variables"]
    assert push["GIT_SECRET_ID"] == "flowops/dev/git"
    assert json.loads(push["GIT_ROUTING"]) == {"repositories": GIT["repositories"]}
    assert "functions.git.release_status.handler" in handlers
    assert any(
        r["Properties"]["PathPart"] == "push" for r in of_type(template, "AWS::ApiGateway::Resource").values()
    )
    rules = [r["Properties"].get("EventPattern", {}) for r in of_type(template, "AWS::Events::Rule").values()]
    assert any(p.get("detail-type") == ["Step Functions Execution Status Change"] for p in rules)
    assert [f for f in findings if "/Git" in f or "GitPush/" in f] == []


def test_no_git_config_no_git_resources() -> None:
    from infra.environment import EnvironmentConfig

    config = EnvironmentConfig.model_validate(
        {"name": "dev", "genesysRegion": "eu_west_1", "genesysSecretName": "s"}
    )
    assert config.git is None
