"""The GitHub Action (action.yml): its flowops step, run by bash exactly as the runner would
(inputs and github context substituted), against a `flowops local up` cloud."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.release.world import flow_yaml, write_release

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def action() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "action.yml").read_text()))


def flowops_step() -> dict[str, Any]:
    return next(step for step in action()["runs"]["steps"] if step.get("id") == "run")


def render(text: str, context: dict[str, str]) -> str:
    """GitHub's `${{ ... }}` substitution for the expressions the step uses."""

    def value(match: re.Match[str]) -> str:
        return context[match.group(1).strip()]

    return re.sub(r"\$\{\{([^}]*)\}\}", value, text)


def run_step(event: str, inputs: dict[str, str], tmp: Path, env: dict[str, str]) -> tuple[int, str, str]:
    defaults = {name: str(spec.get("default", "")) for name, spec in action()["inputs"].items()}
    context = {f"inputs.{k}": v for k, v in {**defaults, **inputs}.items()}
    context.update(
        {
            "github.event_name": event,
            "github.repository": "acme/flows",
            "github.sha": "a" * 40,
            "github.actor": "octocat",
        }
    )
    step = flowops_step()
    step_env = {name: render(str(value), context) for name, value in step["env"].items()}
    summary, output = tmp / f"summary-{event}.md", tmp / f"output-{event}.txt"
    done = subprocess.run(
        # How GitHub runs a `shell: bash` step: `bash --noprofile --norc -eo pipefail {0}`.
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", render(step["run"], context)],
        env={**env, **step_env, "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    written = output.read_text() if output.exists() else ""
    return (
        done.returncode,
        summary.read_text() if summary.exists() else "",
        written + done.stdout + done.stderr,
    )


def test_action_is_a_composite_that_installs_flowops_and_runs_it() -> None:
    spec = action()
    assert spec["runs"]["using"] == "composite"
    assert any("pip install" in str(step.get("run", "")) for step in spec["runs"]["steps"])
    assert spec["inputs"]["environment"]["required"] is True


def test_plan_on_pull_request_and_release_on_push_against_the_local_cloud(tmp_path: Path) -> None:
    from flowops.cli.local_cloud import ENDPOINTS_FILE_VARIABLE
    from flowops.cli.release import environment_cloud_process

    bin_dir = Path(sys.executable).parent
    with environment_cloud_process("dev", flows=6, seed=7, workdir=tmp_path / "cloud") as _connection:
        env = {
            **os.environ,
            ENDPOINTS_FILE_VARIABLE: str(tmp_path / "cloud" / "endpoints-dev.json"),
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        # Given a release directory with a new flow (no references: valid in any org)
        repo = write_release(
            tmp_path / "repo",
            {"inboundCall/git-action-line.yaml": flow_yaml("INBOUNDCALL", "Git Action Line")},
            {"dev": "substitutions: {}\n"},
        )
        inputs = {"environment": "dev", "directory": str(repo), "target": "local"}
        # When the action runs on a pull request, Then it plans (changes = exit 4, the job passes)
        code, summary, outputs = run_step("pull_request", inputs, tmp_path, env)
        assert code == 0, outputs
        assert "### flowops plan — dev" in summary
        assert "exit-code=4" in outputs and "Git Action Line" in summary
        # When it runs on the push of the merge, Then it releases (exit 0) and says so
        code, summary, outputs = run_step("push", inputs, tmp_path, env)
        assert code == 0, outputs
        assert "### flowops release — dev" in summary and "exit-code=0" in outputs
        # And a bad command input is one error line, exit 2
        code, _summary, outputs = run_step("push", {**inputs, "command": "deploy"}, tmp_path, env)
        assert code == 2 and "error: command must be plan or release" in outputs
