"""Docker-free asset bundling: the functions code asset and the core layer.

Both implement `ILocalBundling`, so CDK never tries Docker (there is none on CI or laptops here).
- `StagedPackage` copies a Python package directory under its own name (below `under`), so the
  asset root holds `flowops/functions/…` and the dotted handler path
  `flowops.functions.scan.check_index.handler` is the same in Lambda as in-process locally. The
  asset has no `flowops/__init__.py`: Lambda puts /var/task (the asset) before /opt/python (the
  layer) on sys.path, and the layer's `flowops/__init__.py` extends the package's path over both.
- `CoreLayerBundling` lays out `python/flowops/…` and, in `bundled` mode, the runtime
  dependencies as manylinux2014 aarch64 / CPython 3.12 wheels installed with
  `pip install --platform … --only-binary=:all: --target …`. That install is cached under
  `.flowops/cache/layer/<key>/` where the key hashes the requirement list and target platform,
  so only a dependency change pays for a download. `source-only` mode (tests, local runtime)
  skips the download entirely: the local runtime imports the layer from the working tree.

The layer's asset hash is computed from what the layer is made of (`layer_asset_hash`): every
file of the `flowops` package, uv.lock (or the pyproject dependencies when there is no lock), the
target platform and the build mode. CDK reuses a staged asset and skips an upload whose hash it
already has, so a hash of the source directory alone would ship a stale layer after a dependency
bump, or a source-only layer after a `-c flowops:layer=source-only` synth. A source-only layer
cannot run in Lambda at all (no powertools, pydantic, ...): `refuse_to_deploy_source_only`
adds a CloudFormation rule that fails every deployment of such a template before anything changes.

What is installed is the LOCKED closure of the runtime dependencies (`uv export` of uv.lock, so
Lambda runs the versions the tests ran), minus the CLI's own (typer, rich: the layer has no CLI)
and what the Lambda runtime already provides
(boto3, botocore, s3transfer: aws-xray-sdk pulls botocore in transitively, ~30 MB). Without uv
the pyproject ranges are installed and the runtime-provided packages pruned afterwards.
"""

from __future__ import annotations

import hashlib
import re
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
# boto3's own dependency s3transfer comes with the runtime too; the constant names the two roots.
RUNTIME_PROVIDED_PACKAGES = LAYER_EXCLUDED_PACKAGES | {"s3transfer"}
# Dependencies of the CLI only (flowops.cli is not in the layer): pruned from the layer's closure
# together with whatever only they need (click, pygments, ...).
CLI_ONLY_PACKAGES = frozenset({"typer", "rich"})
# Runtime dependencies only, pinned, one requirement per line (markers kept: pip evaluates them).
_UV_EXPORT_FLAGS = (
    *(flag for package in sorted(CLI_ONLY_PACKAGES) for flag in ("--prune", package)),
    "--frozen",
    "--no-dev",
    "--no-hashes",
    "--no-emit-project",
    "--no-header",
    "--no-annotate",
)
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
# Never used: every bundling here succeeds locally, but CDK requires an image to be named.
UNUSED_DOCKER_IMAGE = cdk.DockerImage.from_registry("flowops-local-bundling-only")


class LayerBuildError(RuntimeError):
    pass


def layer_asset_hash(layer_dir: Path, mode: str, project_root: Path | None = None) -> str:
    """sha256 of everything that decides the layer's content: sources, lock file, platform, mode."""
    project_root = project_root or PROJECT_ROOT
    digest = hashlib.sha256()
    digest.update(f"mode={mode}\nplatform={LAMBDA_PLATFORM}\npython={LAMBDA_PYTHON_VERSION}\n".encode())
    for path in sorted(layer_dir.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(f"file={path.relative_to(layer_dir).as_posix()}\n".encode())
            digest.update(path.read_bytes())
    if mode == LAYER_MODE_BUNDLED:
        lock = project_root / "uv.lock"
        dependencies = lock if lock.is_file() else project_root / "pyproject.toml"
        digest.update(f"dependencies={dependencies.name}\n".encode())
        digest.update(dependencies.read_bytes())
    return digest.hexdigest()


SOURCE_ONLY_REFUSAL = (
    "This template's Lambda layer was synthesized with -c flowops:layer=source-only (the flowops "
    "package without its dependencies: every function would fail to import). Synthesize and deploy "
    "without that option."
)


def refuse_to_deploy(
    stack: cdk.Stack, rule_id: str, reason: str, *, never: tuple[str, str] = ("refused", "deployable")
) -> None:
    """A template rule that always fails with `reason` (`never` holds two values that differ):
    CloudFormation evaluates rules before any change, so the stack synthesizes (and runs locally)
    but never deploys."""
    cdk.CfnRule(
        stack,
        rule_id,
        assertions=[cdk.CfnRuleAssertion(assert_=cdk.Fn.condition_equals(*never), assert_description=reason)],
    )


def refuse_to_deploy_source_only(stack: cdk.Stack) -> None:
    refuse_to_deploy(
        stack,
        "RefuseSourceOnlyLayer",
        SOURCE_ONLY_REFUSAL,
        never=(LAYER_MODE_SOURCE_ONLY, LAYER_MODE_BUNDLED),
    )


@jsii.implements(cdk.ILocalBundling)
class StagedPackage:
    def __init__(self, package_dir: Path, under: str = "") -> None:
        self.package_dir = package_dir
        self.under = under

    def try_bundle(self, output_dir: str, options: cdk.BundlingOptions) -> bool:
        target = Path(output_dir) / self.under / self.package_dir.name
        shutil.copytree(self.package_dir, target, ignore=_IGNORED, dirs_exist_ok=True)
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
        locked = locked_runtime_requirements()
        requirements = locked if locked is not None else runtime_requirements()
        key = hashlib.sha256(
            "\n".join(
                [LAMBDA_PLATFORM, LAMBDA_PYTHON_VERSION, f"locked={locked is not None}", *requirements]
            ).encode()
        ).hexdigest()[:16]
        target = self.cache_dir / key
        done_marker = target / ".complete"
        if done_marker.exists():
            return target / "python"
        staging = self.cache_dir / f"{key}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        # A locked list is the complete closure: `--no-deps` keeps pip from re-resolving it (and
        # from pulling botocore back in through aws-xray-sdk).
        no_deps = ["--no-deps"] if locked is not None else []
        command = [*_install_command(staging / "python"), *no_deps, *requirements]
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900)
        if result.returncode != 0:
            raise LayerBuildError(
                f"building the layer's dependencies failed ({' '.join(command[:3])} …): "
                f"{result.stderr[-2000:]}\n"
                "Synthesize with `-c flowops:layer=source-only` to skip the download."
            )
        prune_layer_dependencies(staging / "python")
        (staging / ".complete").write_text("\n".join(requirements))
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)  # atomic publish: a crashed build never looks complete
        return target / "python"


def requirement_name(requirement: str) -> str:
    """The normalized distribution name of a requirement line (PEP 503: `Foo_Bar` → `foo-bar`)."""
    match = _REQUIREMENT_NAME.match(requirement)
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def _is_shipped(requirement: str) -> bool:
    return requirement_name(requirement) not in RUNTIME_PROVIDED_PACKAGES | CLI_ONLY_PACKAGES


def runtime_requirements(pyproject: Path = PROJECT_ROOT / "pyproject.toml") -> list[str]:
    """`[project].dependencies` minus packages the Lambda runtime already ships and the CLI's."""
    dependencies: list[str] = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    return sorted(requirement for requirement in dependencies if _is_shipped(requirement))


def locked_runtime_requirements(project_root: Path = PROJECT_ROOT) -> list[str] | None:
    """The pinned runtime closure from uv.lock (no dev group), minus runtime-provided packages.

    None when uv or the lock file is missing; the caller then falls back to the pyproject ranges.
    """
    uv = shutil.which("uv") or next(
        (str(path) for path in (project_root / ".tools" / "bin" / "uv",) if path.is_file()), None
    )
    if uv is None or not (project_root / "uv.lock").is_file():
        return None
    result = subprocess.run(
        [uv, "export", *_UV_EXPORT_FLAGS],
        cwd=project_root,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise LayerBuildError(f"`uv export` of uv.lock failed: {result.stderr[-2000:]}")
    lines = [line.strip() for line in result.stdout.splitlines()]
    return sorted(line for line in lines if line and not line.startswith(("#", "-")) and _is_shipped(line))


def prune_layer_dependencies(site_dir: Path) -> None:
    """Remove what must not ship: runtime-provided packages, console scripts, foreign bytecode."""
    for dist_info in site_dir.glob("*.dist-info"):
        name = re.sub(r"[-_.]+", "-", dist_info.name.split("-")[0]).lower()
        if name not in RUNTIME_PROVIDED_PACKAGES:
            continue
        record = dist_info / "RECORD"
        top_levels = (
            {line.split(",")[0].split("/")[0] for line in record.read_text().splitlines() if line}
            if record.is_file()
            else set()
        )
        for top_level in top_levels - {dist_info.name}:
            target = site_dir / top_level
            if target.is_dir():
                shutil.rmtree(target)
            elif target.is_file():
                target.unlink()
        shutil.rmtree(dist_info)
    # Console scripts point at the build machine's interpreter; bytecode was compiled by it.
    shutil.rmtree(site_dir / "bin", ignore_errors=True)
    for cache in list(site_dir.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)


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
            "--no-compile",
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
