"""The built wheel is an installable tool: `flowops` works from a clean venv, outside the checkout.

Builds the wheel (`uv build`), installs it into a fresh venv (from uv's cache, else the package
registry), and runs the commands from an empty directory with nothing of the checkout on sys.path:
`flowops --help`, `doctor` against AWS without credentials (one `error:` line, exit 2/3), a local
command without the `local` extra (says how to add it), then with `flowops[local]` a `local up`
and a `scan` against it. Skipped, saying so, only when the registry cannot be reached.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCAL_UP_READY_SECONDS = 240
_UNREACHABLE = ("Failed to fetch", "failed to lookup address", "Connection refused", "dns error", "timed out")

pytestmark = pytest.mark.slow


def _uv() -> str:
    found = shutil.which("uv") or str(PROJECT_ROOT / ".tools" / "bin" / "uv")
    if not Path(found).is_file():
        pytest.skip("uv is not installed (make setup installs it under .tools/)")
    return found


def _clean_environment(home: Path) -> dict[str, str]:
    """This process's environment without anything pointing at the checkout, a venv, a cloud or AWS."""
    dropped = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in dropped and not name.startswith(("FLOWOPS_", "AWS_", "ARTIFACTS_", "GENESYS_"))
    }
    environment.update(
        {
            "AWS_CONFIG_FILE": str(home / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_COLOR": "1",
        }
    )
    for variable in ("STATE_TABLE", "AUDIT_TABLE"):
        environment.pop(variable, None)
    return environment


def _install(uv: str, venv: Path, requirement: str, environment: dict[str, str]) -> None:
    completed = subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), requirement],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
        check=False,
    )
    if completed.returncode != 0:
        if any(marker in completed.stderr for marker in _UNREACHABLE):
            pytest.skip(f"the package registry is unreachable: {completed.stderr[-500:]}")
        raise AssertionError(f"installing {requirement} failed: {completed.stderr[-2000:]}")


def _assert_one_error_line(completed: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert "Traceback" not in completed.stderr + completed.stdout
    assert len(lines) == 1 and lines[0].startswith("error: "), completed.stderr
    return lines[0]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    completed = subprocess.run(
        [_uv(), "build", "--wheel", "--out-dir", str(dist)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    (built,) = dist.glob("flowops-*.whl")
    return built


def test_the_wheel_holds_one_flowops_package_and_no_other_top_level(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    # Then everything importable lives under flowops (no local, functions, infra, tests)
    assert {name for name in top_level if not name.endswith(".dist-info")} == {"flowops"}
    # and both source roots are in it, with the local cloud's packaged stack and cdk.json
    for expected in (
        "flowops/__init__.py",
        "flowops/genesys/client.py",
        "flowops/cli/__init__.py",
        "flowops/functions/scan/check_index.py",
        "flowops/local/runtime/cloud.py",
        "flowops/local/templates/dev.json",
        "flowops/local/templates/cdk.json",
    ):
        assert expected in names, expected
    (entry_points,) = [name for name in names if name.endswith(".dist-info/entry_points.txt")]
    assert b"flowops = flowops.cli:main" in zipfile.ZipFile(wheel).read(entry_points)


def test_the_installed_tool_runs_outside_the_checkout_and_local_mode_with_the_extra(
    wheel: Path, tmp_path: Path
) -> None:
    # Given a clean venv with the wheel installed, and an empty working directory
    uv = _uv()
    environment = _clean_environment(tmp_path)
    venv = tmp_path / "venv"
    created = subprocess.run(
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    _install(uv, venv, str(wheel), environment)
    work = tmp_path / "work"
    work.mkdir()
    flowops = str(venv / "bin" / "flowops")

    def run(*arguments: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [flowops, *arguments],
            cwd=work,
            capture_output=True,
            text=True,
            env=environment,
            timeout=timeout,
            check=False,
        )

    # Then flowops is imported from the venv only (nothing of the checkout on sys.path)
    probe = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import flowops, json; print(json.dumps(list(flowops.__path__)))",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    assert all(Path(path).is_relative_to(venv) for path in json.loads(probe.stdout)), probe.stdout

    # and `flowops --help` answers
    helped = run("--help")
    assert helped.returncode == 0, helped.stderr
    assert "Usage: flowops" in helped.stdout and "scan" in helped.stdout

    # and doctor against AWS is one error line with a documented code, never a traceback
    misplaced = run("doctor", "--target", "aws")
    assert misplaced.returncode == 2
    assert "--target" in _assert_one_error_line(misplaced)
    without_credentials = run("--target", "aws", "--region", "eu-west-1", "doctor", timeout=180)
    assert without_credentials.returncode in (2, 3), without_credentials.stderr
    _assert_one_error_line(without_credentials)

    # and the local cloud without the extra says how to install it
    no_extra = run("local", "up")
    assert no_extra.returncode == 2
    assert "flowops[local]" in _assert_one_error_line(no_extra)

    # When the `local` extra is installed and `local up` runs in the background
    _install(uv, venv, f"flowops[local] @ {wheel.as_uri()}", environment)
    endpoints = work / ".flowops" / "local" / "endpoints.json"
    with (work / "up.out").open("w") as out, (work / "up.err").open("w") as err:
        up = subprocess.Popen(
            # Lambda timeouts are 1/time-scale real time: 5 (not 60) keeps a loaded machine's cold
            # imports inside them.
            [flowops, "local", "up", "--flows", "5", "--time-scale", "5"],
            cwd=work,
            stdout=out,
            stderr=err,
            env=environment,
        )
    try:
        deadline = time.monotonic() + LOCAL_UP_READY_SECONDS
        while not endpoints.is_file() and up.poll() is None and time.monotonic() < deadline:
            time.sleep(1)
        assert endpoints.is_file(), (
            f"local up not ready (exit {up.poll()}): {(work / 'up.err').read_text()[-2000:]}"
        )
        # Then a scan against it reads the generated org and writes its lock and report
        scanned = run("scan", timeout=600)
        assert scanned.returncode == 0, scanned.stderr[-2000:]
        assert "scanned 5 flows" in scanned.stdout
        assert "Traceback" not in scanned.stderr
        # And a second scan, incremental against the first one's lock, reuses every flow; its
        # stack is the shipped one with Git, so it ends with the live/<env> mirror step (nothing
        # changed, so nothing to commit)
        again = run("scan", timeout=600)
        assert again.returncode == 0, again.stderr[-2000:]
        assert "0 flows read, 5 reused from the previous lock" in again.stdout, again.stdout
        assert "git      no flow's published content changed" in again.stdout, again.stdout
    finally:
        up.send_signal(signal.SIGTERM)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
            up.wait(timeout=30)
    assert "Traceback" not in (work / "up.err").read_text()
