"""The Git resources exist only for environments with `git` in cdk.json, with the permissions
docs/git.md lists (and cdk-nag and cfn-lint have nothing new to say about them)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import SynthesizedApp, synthesize_with_nag
from tests.infra.test_least_privilege import (
    GENESYS_SECRET,
    GIT_SECRET,
    OBJECTS_READ,
    OBJECTS_WRITE,
    RATE_SCHEDULE,
    STATE_READ,
    STATE_WRITE,
    access_by_function,
    assert_every_genesys_caller_follows_the_rate_model,
)
from tests.infra.test_production_stack import SynthesizedEnvironment

GIT = {
    "secretName": "flowops/dev/git",
    "repositories": [{"provider": "github", "repository": "acme/flows", "branches": {"main": "dev"}}],
    "runUrl": "https://console.example/releases",
}
# The stack under test counts its org's Genesys budget per org (docs/genesys-limits.md), so the
# Git functions that call Genesys share the org's rate schedule with every other caller.
SHARED_RATE_LIMIT = {"scope": "org", "requestsPerMinute": 180}
# What each Git function may touch (docs/git.md, "Configuration"); a wider grant fails here.
EXPECTED_ACCESS: dict[str, set[str]] = {
    # delivery log + status targets; release bundles; the Git secret
    "GitPush": {STATE_READ, STATE_WRITE, OBJECTS_WRITE, GIT_SECRET},
    # status targets and run records; pending mirrors; the export cache; exports from Genesys
    "GitReleaseStatus": {
        STATE_READ,
        STATE_WRITE,
        OBJECTS_READ,
        OBJECTS_WRITE,
        GIT_SECRET,
        GENESYS_SECRET,
        RATE_SCHEDULE,
    },
    # the scan's report; pending mirrors; the export cache; exports from Genesys
    "GitMirrorDrift": {
        STATE_READ,
        STATE_WRITE,
        OBJECTS_READ,
        OBJECTS_WRITE,
        GIT_SECRET,
        GENESYS_SECRET,
        RATE_SCHEDULE,
    },
}
EXPECTED_OBJECT_PREFIXES: dict[str, set[str]] = {
    "GitPush": {"releases/*"},
    "GitReleaseStatus": {"flows/*"},
    "GitMirrorDrift": {"scans/*", "flows/*"},
}
MIRROR_STEP = "Commit the changed flows to Git"


@pytest.fixture(scope="module")
def synthesized() -> SynthesizedApp:
    from flowops.local.runtime.synth import local_context

    context = local_context("dev", git=GIT)
    context["flowops:environments"]["dev"]["genesysRateLimit"] = SHARED_RATE_LIMIT
    return synthesize_with_nag(context)


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def function_id(template: dict[str, Any], name: str) -> str:
    (key,) = [
        k
        for k in of_type(template, "AWS::Lambda::Function")
        if re.fullmatch(f"Functions{name}[0-9A-F]{{8}}", k)
    ]
    return key


def scan_definition(template: dict[str, Any]) -> dict[str, Any]:
    (machine,) = [
        m
        for k, m in of_type(template, "AWS::StepFunctions::StateMachine").items()
        if k.startswith("ScanWorkflow")
    ]
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "ARN" for p in parts)
    return dict(json.loads(text))


def test_git_push_route_functions_and_release_rule(synthesized: SynthesizedApp) -> None:
    template, findings = synthesized.template, synthesized.unacknowledged_findings
    handlers = {f["Properties"]["Handler"]: f for f in of_type(template, "AWS::Lambda::Function").values()}
    push = handlers["flowops.functions.git.push.handler"]["Properties"]["Environment"]["Variables"]
    assert push["GIT_SECRET_ID"] == "flowops/dev/git"
    assert json.loads(push["GIT_ROUTING"]) == {"repositories": GIT["repositories"]}
    assert "flowops.functions.git.release_status.handler" in handlers
    assert any(
        r["Properties"]["PathPart"] == "push" for r in of_type(template, "AWS::ApiGateway::Resource").values()
    )
    status_function = function_id(template, "GitReleaseStatus")
    (release_status,) = [
        r["Properties"]["EventPattern"]
        for r in of_type(template, "AWS::Events::Rule").values()
        if status_function in json.dumps(r["Properties"].get("Targets", []))
    ]
    assert release_status["detail-type"] == ["Step Functions Execution Status Change"]
    # RUNNING too: GitLab's commit shows `running` while the release runs
    assert release_status["detail"]["status"] == ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]
    # and only for git-started releases (flowops.git.service names them git-…)
    assert release_status["detail"]["name"] == [{"prefix": "git-"}]
    assert [f for f in findings if "/Git" in f or "GitPush/" in f or "GitDriftMirror/" in f] == []


def test_the_scan_commits_changed_flows_to_git_after_its_report(synthesized: SynthesizedApp) -> None:
    # Given the scan machine of an environment with `git`
    states = scan_definition(synthesized.template)["States"]
    report = states["Report drift, metrics and audit"]
    # Then the report leads to a Choice that mirrors whenever there is a lock to compare with (its
    # drift, or a mirror an earlier scan failed, is committed); a first scan is a baseline
    choice = states[report["Next"]]
    assert choice["Type"] == "Choice" and choice["Default"] == "Scan complete"
    (rule,) = choice["Choices"]
    assert rule["Next"] == MIRROR_STEP
    assert rule == {"Variable": "$.outcome.drift.compared_with_sha", "IsString": True, "Next": MIRROR_STEP}
    # And the mirror step retries a refused push, then records it and the scan still succeeds
    mirror = states[MIRROR_STEP]
    assert mirror["ResultPath"] == "$.outcome.git_mirror" and mirror["Next"] == "Scan complete"
    assert any(r["ErrorEquals"] == ["Git.MirrorFailed"] for r in mirror["Retry"])
    (catch,) = mirror["Catch"]
    assert catch["ErrorEquals"] == ["States.ALL"] and catch["ResultPath"] == "$.outcome.git_mirror_error"
    assert states[catch["Next"]]["Next"] == "Scan complete"
    variables = synthesized.template["Resources"][function_id(synthesized.template, "GitMirrorDrift")][
        "Properties"
    ]["Environment"]["Variables"]
    assert variables["GIT_SECRET_ID"] == "flowops/dev/git"


def test_pending_mirrors_are_the_only_state_items_the_mirror_writes(synthesized: SynthesizedApp) -> None:
    from flowops.partitions import pending_mirror_partition

    template = synthesized.template
    for name in ("GitMirrorDrift", "GitReleaseStatus"):
        function = template["Resources"][function_id(template, name)]
        role = {"Ref": function["Properties"]["Role"]["Fn::GetAtt"][0]}
        writes = [
            statement
            for policy in of_type(template, "AWS::IAM::Policy").values()
            if role in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if "dynamodb:PutItem" in _as_list(statement["Action"])
        ]
        (write,) = writes
        assert set(_as_list(write["Action"])) == {
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:DeleteItem",
        }
        leading = write["Condition"]["ForAllValues:StringEquals"]["dynamodb:LeadingKeys"]
        assert leading == [pending_mirror_partition("dev")], name


def test_a_stack_without_the_mirror_has_no_mirror_step() -> None:
    from flowops.local.runtime.synth import local_context

    # Given `mirror: false`, the scan ends with its report
    app = synthesize_with_nag(local_context("dev", git={**GIT, "mirror": False}))
    states = scan_definition(app.template)["States"]
    assert states["Report drift, metrics and audit"]["Next"] == "Scan complete"
    assert MIRROR_STEP not in states


def _as_environment(synthesized: SynthesizedApp) -> SynthesizedEnvironment:
    return SynthesizedEnvironment(
        name="dev",
        template=synthesized.template,
        unacknowledged_findings=synthesized.unacknowledged_findings,
        acknowledged_findings=synthesized.acknowledged_findings,
    )


def test_git_functions_that_call_genesys_share_the_orgs_rate_schedule(synthesized: SynthesizedApp) -> None:
    # Given a Git stack whose org's budget is shared: the status and mirror functions are among
    # the Genesys callers told the model and granted the org's schedule item (and GitPush is not)
    callers = assert_every_genesys_caller_follows_the_rate_model(
        _as_environment(synthesized), scope="org", per_minute=180
    )
    git_callers = {key for key in callers if key.startswith("FunctionsGit")}
    assert git_callers == {
        function_id(synthesized.template, "GitReleaseStatus"),
        function_id(synthesized.template, "GitMirrorDrift"),
    }


def test_each_git_function_has_exactly_the_access_it_uses(synthesized: SynthesizedApp) -> None:
    access = access_by_function(_as_environment(synthesized))
    for name, expected in EXPECTED_ACCESS.items():
        assert access[function_id(synthesized.template, name)] == expected, name
    # And their object access is bounded to the prefixes they use; none may delete
    for name, prefixes in EXPECTED_OBJECT_PREFIXES.items():
        function = synthesized.template["Resources"][function_id(synthesized.template, name)]
        role = {"Ref": function["Properties"]["Role"]["Fn::GetAtt"][0]}
        statements = [
            statement
            for policy in of_type(synthesized.template, "AWS::IAM::Policy").values()
            if role in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if any(str(a).startswith("s3:") for a in _as_list(statement["Action"]))
        ]
        resources = [json.dumps(r) for s in statements for r in _as_list(s["Resource"])]
        assert {p for p in ("releases/*", "flows/*", "scans/*") if any(f"/{p}" in r for r in resources)} == (
            prefixes
        ), name
        assert not any('"/*"' in r for r in resources), f"{name} may touch every object of the bucket"
        assert not any(
            str(a).startswith("s3:DeleteObject") for s in statements for a in _as_list(s["Action"])
        )


def test_cfn_lint_finds_no_error_in_the_git_template(synthesized: SynthesizedApp, tmp_path: Path) -> None:
    template = tmp_path / "template.json"
    template.write_text(json.dumps(synthesized.template))
    result = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), "--format", "json", str(template)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    findings = json.loads(result.stdout or "[]")
    assert [f"{f['Rule']['Id']}: {f['Message']}" for f in findings if f["Level"] == "Error"] == []


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_git_config_no_git_resources() -> None:
    from infra.environment import EnvironmentConfig

    config = EnvironmentConfig.model_validate(
        {"name": "dev", "genesysRegion": "eu_west_1", "genesysSecretName": "s"}
    )
    assert config.git is None
