"""The Git push resources exist only for environments with `git` in cdk.json, with the
permissions docs/git.md lists (and cdk-nag has nothing new to say about them)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.conftest import synthesize_with_nag

GIT = {
    "secretName": "flowops/dev/git",
    "repositories": [{"provider": "github", "repository": "acme/flows", "branches": {"main": "dev"}}],
    "runUrl": "https://console.example/releases",
}


@pytest.fixture(scope="module")
def synthesized() -> tuple[dict[str, Any], list[str]]:
    from flowops.local.runtime.synth import local_context

    context = local_context("dev")
    context["flowops:environments"]["dev"]["git"] = GIT
    app = synthesize_with_nag(context)
    return app.template, app.unacknowledged_findings


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_git_push_route_functions_and_release_rule(synthesized: tuple[dict[str, Any], list[str]]) -> None:
    template, findings = synthesized
    handlers = {f["Properties"]["Handler"]: f for f in of_type(template, "AWS::Lambda::Function").values()}
    push = handlers["flowops.functions.git.push.handler"]["Properties"]["Environment"]["Variables"]
    assert push["GIT_SECRET_ID"] == "flowops/dev/git"
    assert json.loads(push["GIT_ROUTING"]) == {"repositories": GIT["repositories"]}
    assert "flowops.functions.git.release_status.handler" in handlers
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
