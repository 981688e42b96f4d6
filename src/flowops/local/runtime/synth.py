"""Synthesize the CDK app in-process, once, and cache the template on disk.

Starting jsii (the Node runtime behind aws-cdk-lib) and synthesizing costs tens of seconds on
a busy machine, so the template of an environment is cached under `.flowops/cache/synth/`,
keyed by a hash of every `infra/**/*.py`, cdk.json and the aws-cdk-lib version: the CLI and
`make demo` synthesize only after an infra change. The layer is built `source-only` (no wheel
download): locally the handlers import `flowops` from the working tree anyway.

Installed from the wheel there is no CDK app to synthesize: `synth_template` returns the template
the wheel ships (flowops.local.packaged, written by `make templates`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowops.local.packaged import CHECKOUT_ROOT, packaged_template, state_root
from flowops.stacknames import CONTEXT_LAYER_MODE, CONTEXT_ONLY_ENVIRONMENT, LAYER_MODE_SOURCE_ONLY

if TYPE_CHECKING:
    from infra.stack import FlowopsStack

DEFAULT_ENVIRONMENT = "dev"
SYNTH_CACHE_DIR = state_root() / ".flowops" / "cache" / "synth"


def local_context(
    environment: str = DEFAULT_ENVIRONMENT, *, git: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """cdk.json's context for one environment; `git` (cdk.json's `git` entry of an environment,
    docs/git.md) adds the Git resources, which cdk.json's own environments do not configure."""
    context: dict[str, Any] = json.loads((_checkout() / "cdk.json").read_text())["context"]
    if git is not None:
        context["flowops:environments"][environment]["git"] = dict(git)
    context[CONTEXT_LAYER_MODE] = LAYER_MODE_SOURCE_ONLY
    context[CONTEXT_ONLY_ENVIRONMENT] = environment
    # Construct paths in resource metadata let LocalCloud find resources by "ScanWorkflow/StateMachine".
    context["aws:cdk:enable-path-metadata"] = True
    return context


def infra_fingerprint(environment: str = DEFAULT_ENVIRONMENT, extra_files: Sequence[Path] = ()) -> str:
    root = _checkout()
    digest = hashlib.sha256()
    digest.update(f"{environment}\n{metadata.version('aws-cdk-lib')}\n".encode())
    digest.update((root / "cdk.json").read_bytes())
    infra_sources = sorted((root / "infra").rglob("*.py"))
    for path in [*infra_sources, *_flowops_modules_imported_by(infra_sources), Path(__file__), *extra_files]:
        digest.update(str(path.relative_to(root) if path.is_relative_to(root) else path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


_FLOWOPS_IMPORT = re.compile(r"^\s*(?:from|import)\s+(flowops(?:\.\w+)+)", re.MULTILINE)


def _flowops_modules_imported_by(sources: Sequence[Path]) -> list[Path]:
    """The files of the flowops modules the CDK app imports (stack names, the scan's limits, ...):
    a change in them changes the template as much as a change in infra/ does."""
    files: set[Path] = set()
    for source in sources:
        for module in _FLOWOPS_IMPORT.findall(source.read_text()):
            spec = importlib.util.find_spec(module)
            if spec is not None and spec.origin and spec.origin.endswith(".py"):
                files.add(Path(spec.origin))
    return sorted(files)


def synthesize(
    environment: str = DEFAULT_ENVIRONMENT,
    *,
    extend: Callable[[FlowopsStack], None] | None = None,
    with_nag: bool = False,
    git: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Synthesize the stack of `environment` in-process (no cache); `extend` may add constructs."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault("JSII_DEPRECATED", "quiet")
    import aws_cdk as cdk

    from infra.app import build_stack, selected_environments
    from infra.nag import apply_aws_solutions_checks

    with tempfile.TemporaryDirectory(prefix="flowops-synth-") as outdir:
        app = cdk.App(context=local_context(environment, git=git), outdir=outdir)
        if with_nag:
            apply_aws_solutions_checks(app)
        (config,) = selected_environments(app)
        stack = build_stack(app, config)
        if extend is not None:
            extend(stack)
        assembly = app.synth()
        template: dict[str, Any] = assembly.get_stack_by_name(stack.stack_name).template
    return template


def synth_template(
    environment: str = DEFAULT_ENVIRONMENT,
    *,
    use_cache: bool = True,
    extend: Callable[[FlowopsStack], None] | None = None,
    extend_source: Sequence[Path] = (),
    git: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The environment's template, from the on-disk cache when infra/ and cdk.json are unchanged.

    With `extend` (e.g. a test-only state machine), pass the files defining it as
    `extend_source` so that they are part of the cache key. Outside a checkout: the packaged one.
    """
    if CHECKOUT_ROOT is None:
        if extend is not None:
            raise RuntimeError("extending the local stack needs a checkout with the CDK app (infra/)")
        return packaged_template(environment, git)
    if extend is not None and not extend_source:
        use_cache = False  # an extension we cannot fingerprint must not be served from cache
    label = environment if extend is None else f"{environment}-extended"
    fingerprint = infra_fingerprint(environment, extend_source)
    if git is not None:
        git_digest = hashlib.sha256(json.dumps(git, sort_keys=True).encode()).hexdigest()[:12]
        label, fingerprint = f"{label}-git", f"{fingerprint}-{git_digest}"
    cache_file = SYNTH_CACHE_DIR / f"{label}-{fingerprint}.json"
    if use_cache and cache_file.is_file():
        cached: dict[str, Any] = json.loads(cache_file.read_text())
        return cached
    template = synthesize(environment, extend=extend, git=git)
    if use_cache:
        _write_atomically(cache_file, json.dumps(template))
    return template


def _checkout() -> Path:
    if CHECKOUT_ROOT is None:
        raise RuntimeError("synthesizing needs a checkout with the CDK app (infra/) and aws-cdk-lib")
    return CHECKOUT_ROOT


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as handle:
        handle.write(text)
    os.replace(handle.name, path)
