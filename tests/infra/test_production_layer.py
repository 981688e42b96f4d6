"""Packaging: the `bundled` core layer, built Docker-free from PyPI wheels for Lambda arm64.

The build downloads manylinux2014 aarch64 / CPython 3.12 wheels of the LOCKED runtime closure
(uv.lock) and fits them next to the `flowops` package. The test is skipped, saying so, only when
the package registry cannot be reached; any other build failure fails it.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from infra.bundling import (
    CoreLayerBundling,
    LayerBuildError,
    locked_runtime_requirements,
    prune_layer_dependencies,
    requirement_name,
)
from infra.constants import FUNCTIONS_SOURCE_DIR, LAYER_MODE_BUNDLED, LAYER_SOURCE_DIR

MB = 1024 * 1024
LAMBDA_UNZIPPED_LIMIT = 250 * MB  # function code + all layers, unzipped
LAMBDA_ZIPPED_LIMIT = 50 * MB  # one direct-upload zip
FORBIDDEN_TOP_LEVEL = {
    *("local", "functions", "infra", "tests", "bin"),
    *("typer", "rich", "click", "moto", "aws_cdk", "boto3", "botocore", "s3transfer"),
}
_UNREACHABLE = (
    "NewConnectionError",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Connection refused",
    "ConnectTimeout",
)


def _tree_size(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def _zip_size(root: Path, archive: Path) -> int:
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                bundle.write(path, path.relative_to(root))
    return archive.stat().st_size


@pytest.fixture(scope="module")
def bundled_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The layer as CDK would stage it in `bundled` mode, built into a fresh cache (no reuse)."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import aws_cdk as cdk

    from infra.bundling import UNUSED_DOCKER_IMAGE

    work = tmp_path_factory.mktemp("layer")
    bundling = CoreLayerBundling(LAYER_SOURCE_DIR, LAYER_MODE_BUNDLED, cache_dir=work / "cache")
    output = work / "asset"
    output.mkdir()
    try:
        bundling.try_bundle(str(output), cdk.BundlingOptions(image=UNUSED_DOCKER_IMAGE))
    except LayerBuildError as error:
        if any(marker in str(error) for marker in _UNREACHABLE):
            pytest.skip(f"the package registry is unreachable, so the layer cannot be built: {error}")
        raise
    return output


@pytest.mark.slow
def test_bundled_layer_fits_lambda_limits_with_the_function_code(bundled_layer: Path, tmp_path: Path) -> None:
    # Given the bundled layer and the one functions asset
    layer_bytes = _tree_size(bundled_layer)
    functions_bytes = _tree_size(FUNCTIONS_SOURCE_DIR)
    # Then together they are under Lambda's unzipped limit, and the layer zip under the upload limit
    assert layer_bytes + functions_bytes < LAMBDA_UNZIPPED_LIMIT
    assert _zip_size(bundled_layer, tmp_path / "layer.zip") < LAMBDA_ZIPPED_LIMIT
    # and (a regression guard) it stays far below: today about 30 MB, botocore alone would add ~30 MB
    assert layer_bytes < 60 * MB, f"layer grew to {layer_bytes / MB:.1f} MB"


@pytest.mark.slow
def test_bundled_layer_ships_flowops_and_linux_arm64_wheels_but_no_dev_code(bundled_layer: Path) -> None:
    site = bundled_layer / "python"
    top_level = {path.name for path in site.iterdir()}
    # Then flowops and its runtime dependencies are importable from /opt/python
    assert {
        "flowops",
        "aws_lambda_powertools",
        "pydantic",
        "pydantic_core",
        "networkx",
        "yaml",
        "requests",
    } <= (top_level)
    # and native code is built for Lambda (CPython 3.12 on aarch64), not for this machine
    native = [path.name for path in site.rglob("*.so")]
    assert native and all("x86_64" not in name for name in native)
    assert any("cpython-312-aarch64-linux-gnu" in name for name in native)
    # and nothing of the CLI, simulator, tests or CDK, nor what the Lambda runtime already provides
    assert not (top_level & FORBIDDEN_TOP_LEVEL), top_level & FORBIDDEN_TOP_LEVEL
    assert not any(path.name == "__pycache__" for path in site.rglob("*"))
    assert not list((site / "flowops").rglob("test_*.py"))
    # and the flowops package is the core only (handlers, CLI and local cloud live in src/flowops)
    assert not {"cli", "local", "functions"} & {path.name for path in (site / "flowops").iterdir()}


def test_locked_requirements_are_pinned_and_leave_out_what_lambda_provides() -> None:
    # Given uv.lock, When the runtime closure is exported
    requirements = locked_runtime_requirements()
    if requirements is None:
        pytest.skip("uv is not installed here; the build falls back to pyproject ranges")
    names = {requirement_name(requirement) for requirement in requirements}
    # Then every requirement is an exact pin, the dev group is absent and boto3/botocore are not shipped
    assert all("==" in requirement for requirement in requirements)
    assert {"aws-lambda-powertools", "pydantic", "networkx", "aws-xray-sdk"} <= names
    assert not names & {"boto3", "botocore", "s3transfer", "moto", "aws-cdk-lib", "pytest"}
    # nor the CLI's own dependencies (the layer carries no CLI)
    assert not names & {"typer", "rich", "click", "shellingham", "pygments", "markdown-it-py"}


def test_pruning_removes_runtime_provided_distributions_scripts_and_bytecode(tmp_path: Path) -> None:
    # Given an installed tree with botocore (pulled in by aws-xray-sdk), a script and bytecode
    site = tmp_path / "python"
    (site / "botocore" / "data").mkdir(parents=True)
    (site / "botocore" / "__init__.py").write_text("")
    (site / "botocore-1.40.0.dist-info").mkdir()
    (site / "botocore-1.40.0.dist-info" / "RECORD").write_text(
        "botocore/__init__.py,sha256=x,0\nbotocore-1.40.0.dist-info/RECORD,,\n"
    )
    (site / "yaml").mkdir()
    (site / "yaml" / "__init__.py").write_text("")
    (site / "yaml" / "__pycache__").mkdir()
    (site / "bin").mkdir()
    (site / "bin" / "dotenv").write_text("#!/usr/bin/python3.11")
    # When it is pruned
    prune_layer_dependencies(site)
    # Then only the shipped package is left
    assert sorted(path.name for path in site.iterdir()) == ["yaml"]
    assert [path.name for path in (site / "yaml").iterdir()] == ["__init__.py"]
