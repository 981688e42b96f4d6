"""The function code asset and the core layer merge into one `flowops` package inside Lambda.

The asset holds `flowops/functions/…` WITHOUT a `flowops/__init__.py`; the layer holds the core
`flowops/` with its `__init__.py`, which extends the package's path over every `flowops`
directory on sys.path. Lambda puts /var/task (the asset) before /opt/python (the layer), so the
test stages both exactly as CDK does and imports a handler in a fresh interpreter that sees only
those two directories and the dependencies (no checkout, no editable install).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from infra.bundling import CoreLayerBundling, StagedPackage
from infra.constants import FUNCTIONS_SOURCE_DIR, LAYER_MODE_SOURCE_ONLY, LAYER_SOURCE_DIR

PROBE = """
import importlib, importlib.util, json, sys
import flowops
handler = importlib.import_module("flowops.functions.scan.check_index").handler
print(json.dumps({
    "flowops": flowops.__file__,
    "path": list(flowops.__path__),
    "handler": handler.__module__,
    "handler_file": sys.modules[handler.__module__].__file__,
    "cli": importlib.util.find_spec("flowops.cli") is not None,
    "local": importlib.util.find_spec("flowops.local") is not None,
}))
"""


@pytest.fixture(scope="module")
def lambda_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(/var/task, /opt) as Lambda mounts the function asset and the source-only core layer."""
    root = tmp_path_factory.mktemp("lambda")
    task, opt = root / "var" / "task", root / "opt"
    task.mkdir(parents=True)
    opt.mkdir()
    options = None  # neither bundling reads the options CDK passes
    StagedPackage(FUNCTIONS_SOURCE_DIR, under="flowops").try_bundle(str(task), options)  # type: ignore[arg-type]
    CoreLayerBundling(LAYER_SOURCE_DIR, LAYER_MODE_SOURCE_ONLY).try_bundle(str(opt), options)  # type: ignore[arg-type]
    return task, opt


def test_the_asset_is_flowops_functions_without_a_package_init(lambda_dirs: tuple[Path, Path]) -> None:
    task, _opt = lambda_dirs
    assert [path.name for path in task.iterdir()] == ["flowops"]
    assert [path.name for path in (task / "flowops").iterdir()] == ["functions"]
    assert (task / "flowops" / "functions" / "scan" / "check_index.py").is_file()


def test_the_layer_ships_only_the_core(lambda_dirs: tuple[Path, Path]) -> None:
    _task, opt = lambda_dirs
    package = opt / "python" / "flowops"
    assert (package / "__init__.py").is_file()
    assert not {"cli", "local", "functions"} & {path.name for path in package.iterdir()}


def test_a_handler_imports_from_the_asset_and_the_core_from_the_layer(
    lambda_dirs: tuple[Path, Path],
) -> None:
    # Given a fresh interpreter whose path is /var/task, /opt/python, then the dependencies only
    task, opt = lambda_dirs
    dependencies = sysconfig.get_paths()["purelib"]
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(task), str(opt / "python"), dependencies]),
        "AWS_DEFAULT_REGION": "eu-west-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    # When it imports a handler by its Lambda handler path (-S: no site, so no editable install)
    completed = subprocess.run(
        [sys.executable, "-S", "-c", PROBE],
        capture_output=True,
        text=True,
        env=environment,
        cwd=task,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    found = json.loads(completed.stdout.strip().splitlines()[-1])
    # Then flowops is the layer's package, extended over the asset's directory
    assert found["flowops"] == str(opt / "python" / "flowops" / "__init__.py")
    assert found["path"] == [str(opt / "python" / "flowops"), str(task / "flowops")]
    # and the handler comes from the asset, while nothing of the CLI or local cloud is reachable
    assert found["handler"] == "flowops.functions.scan.check_index"
    assert found["handler_file"] == str(task / "flowops" / "functions" / "scan" / "check_index.py")
    assert not found["cli"] and not found["local"]
