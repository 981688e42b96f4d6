"""Docker-free asset bundling: the functions code asset and the core layer.

Both implement `ILocalBundling`, so CDK never tries Docker (there is none on CI or laptops here).
- `StagedPackage` copies a Python package directory under its own name, so the asset root holds
  `functions/…` and the dotted handler path `functions.scan.check_index.handler` is the same in
  Lambda as in-process locally.
- `CoreLayerBundling` lays out `python/flowops/…` and, in `bundled` mode, the runtime
  dependencies as manylinux2014 aarch64 / CPython 3.12 wheels installed with
  `pip install --platform … --only-binary=:all: --target …`. That install is cached under
  `.flowops/cache/layer/<key>/` where the key hashes the requirement list and target platform,
  so only a dependency change pays for a download. `source-only` mode (tests, local runtime)
  skips the download entirely: the local runtime imports the layer from the working tree.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import aws_cdk as cdk
import jsii

from infra.constants import (
    CACHE_DIR,
    LAYER_EXCLUDED_PACKAGES,
    LAYER_MODE_BUNDLED,
    LAYER_MODE_SOURCE_ONLY,
    PROJECT_ROOT,
)

LAMBDA_PYTHON_VERSION = "3.12"
LAMBDA_PLATFORM = "manylinux2014_aarch64"
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache")
# Never used: every bundling here succeeds locally, but CDK requires an image to be named.
UNUSED_DOCKER_IMAGE = cdk.DockerImage.from_registry("flowops-local-bundling-only")


class LayerBuildError(RuntimeError):
    pass


@jsii.implements(cdk.ILocalBundling)
class StagedPackage:
    def __init__(self, package_dir: Path) -> None:
        self.package_dir = package_dir

    def try_bundle(self, output_dir: str, options: cdk.BundlingOptions) -> bool:
        shutil.copytree(
            self.package_dir, Path(output_dir) / self.package_dir.name, ignore=_IGNORED, dirs_exist_ok=True
        )
        return True


@jsii.implements(cdk.ILocalBundling)
class CoreLayerBundling:
    def __init__(self, layer_dir: Path, mode: str, cache_dir: Path = CACHE_DIR / "layer") -> None:
        if mode not in {LAYER_MODE_BUNDLED, LAYER_MODE_SOURCE_ONLY}:
            raise ValueError(
                f"layer mode {mode!r} must be {LAYER_MODE_BUNDLED!r} or {LAYER_MODE_SOURCE_ONLY!r}"
            )
        self.layer_dir = layer_dir
        self.mode = mode
        self.cache_dir = cache_dir

    def try_bundle(self, output_dir: str, options: cdk.BundlingOptions) -> bool:
        python_dir = Path(output_dir) / "python"
        if self.mode == LAYER_MODE_BUNDLED:
            shutil.copytree(self.installed_dependencies(), python_dir, dirs_exist_ok=True)
        shutil.copytree(self.layer_dir, python_dir / self.layer_dir.name, ignore=_IGNORED, dirs_exist_ok=True)
        return True

    def installed_dependencies(self) -> Path:
        requirements = runtime_requirements()
        key = hashlib.sha256(
            "\n".join([LAMBDA_PLATFORM, LAMBDA_PYTHON_VERSION, *requirements]).encode()
        ).hexdigest()[:16]
        target = self.cache_dir / key
        done_marker = target / ".complete"
        if done_marker.exists():
            return target / "python"
        staging = self.cache_dir / f"{key}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        command = [*_install_command(staging / "python"), *requirements]
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900)
        if result.returncode != 0:
            raise LayerBuildError(
                f"building the layer's dependencies failed ({' '.join(command[:3])} …): "
                f"{result.stderr[-2000:]}\n"
                "Synthesize with `-c flowops:layer=source-only` to skip the download."
            )
        (staging / ".complete").write_text("\n".join(requirements))
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)  # atomic publish: a crashed build never looks complete
        return target / "python"


def runtime_requirements(pyproject: Path = PROJECT_ROOT / "pyproject.toml") -> list[str]:
    """`[project].dependencies` minus packages the Lambda runtime already ships."""
    dependencies: list[str] = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    kept = []
    for requirement in dependencies:
        name = (
            requirement.split("[")[0].split("=")[0].split(">")[0].split("<")[0].split("~")[0].strip().lower()
        )
        if name not in LAYER_EXCLUDED_PACKAGES:
            kept.append(requirement)
    return sorted(kept)


def _install_command(target: Path) -> list[str]:
    """pip (or uv, whose flags differ) installing Lambda-platform wheels only into `target`."""
    # The uv-managed venv has no pip module: use a pip on PATH, else `uv pip`.
    on_path = shutil.which("pip3") or shutil.which("pip")
    pip: list[str] | None = [on_path] if on_path else None
    if pip is None:
        probe = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True, check=False)
        pip = [sys.executable, "-m", "pip"] if probe.returncode == 0 else None
    if pip is not None:
        return [
            *pip,
            "install",
            "--quiet",
            "--platform",
            LAMBDA_PLATFORM,
            "--implementation",
            "cp",
            "--python-version",
            LAMBDA_PYTHON_VERSION,
            "--only-binary=:all:",
            "--target",
            str(target),
        ]
    uv = shutil.which("uv")
    if uv is not None:
        return [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python-platform",
            "aarch64-manylinux2014",
            "--python-version",
            LAMBDA_PYTHON_VERSION,
            "--only-binary",
            ":all:",
            "--target",
            str(target),
        ]
    raise LayerBuildError(
        "no pip or uv found to build the layer; install one or use -c flowops:layer=source-only"
    )
