"""What `cdk deploy` ships as the core layer is what the sources and uv.lock say.

The layer asset's hash comes from its content (sources + uv.lock + build mode), so a dependency
bump or a mode change gives a new asset; a template with a source-only layer refuses to deploy.
The layer is synthesized alone (same `core_layer` as the stack) with its wheel download replaced
by an empty directory: the hash, not the download, is under test.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from infra.constants import LAYER_MODE_BUNDLED, LAYER_MODE_SOURCE_ONLY
from tests.infra.conftest import SynthesizedApp

LOCK_A = 'version = 1\n[[package]]\nname = "pydantic"\nversion = "2.11.0"\n'
LOCK_B = 'version = 1\n[[package]]\nname = "pydantic"\nversion = "2.12.0"\n'


def _synthesize_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, lock: str
) -> dict[str, Any]:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import aws_cdk as cdk

    import infra.bundling
    from infra.constructs.functions import core_layer

    root = Path(tempfile.mkdtemp(prefix=f"project-{mode}-", dir=tmp_path))
    (root / "uv.lock").write_text(lock)
    dependencies = root / "site-packages"
    dependencies.mkdir()
    monkeypatch.setattr(infra.bundling, "PROJECT_ROOT", root)
    monkeypatch.setattr(infra.bundling.CoreLayerBundling, "installed_dependencies", lambda self: dependencies)
    app = cdk.App(outdir=str(root / "cdk.out"))
    stack = cdk.Stack(app, "LayerOnly")
    core_layer(stack, mode, removal_policy=cdk.RemovalPolicy.DESTROY)
    return dict(app.synth().get_stack_by_name("LayerOnly").template)


def _layer_key(template: dict[str, Any]) -> str:
    (layer,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::LayerVersion"]
    return str(layer["Properties"]["Content"]["S3Key"])


def test_a_different_uv_lock_gives_a_different_layer_asset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the same layer sources with two different lock files, and the first lock again
    first = _synthesize_layer(tmp_path, monkeypatch, LAYER_MODE_BUNDLED, LOCK_A)
    bumped = _synthesize_layer(tmp_path, monkeypatch, LAYER_MODE_BUNDLED, LOCK_B)
    again = _synthesize_layer(tmp_path, monkeypatch, LAYER_MODE_BUNDLED, LOCK_A)
    # Then the dependency bump is a new asset, and the same content the same asset
    assert _layer_key(first) != _layer_key(bumped)
    assert _layer_key(first) == _layer_key(again)
    # And a deployable (bundled) template carries no refusal
    assert "RefuseSourceOnlyLayer" not in first.get("Rules", {})


def test_a_source_only_layer_is_a_different_asset_and_its_template_refuses_to_deploy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the same sources and lock synthesized bundled and source-only
    bundled = _synthesize_layer(tmp_path, monkeypatch, LAYER_MODE_BUNDLED, LOCK_A)
    source_only = _synthesize_layer(tmp_path, monkeypatch, LAYER_MODE_SOURCE_ONLY, LOCK_A)
    # Then they never share an asset
    assert _layer_key(bundled) != _layer_key(source_only)
    # And the source-only template holds a rule CloudFormation fails before changing anything
    rule = source_only["Rules"]["RefuseSourceOnlyLayer"]
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Equals": [LAYER_MODE_SOURCE_ONLY, LAYER_MODE_BUNDLED]}
    assert "source-only" in assertion["AssertDescription"]


def test_the_stack_synthesized_source_only_refuses_to_deploy(synthesized_with_nag: SynthesizedApp) -> None:
    # Given the whole stack as tests and the local runtime synthesize it (source-only layer)
    rules = synthesized_with_nag.template.get("Rules", {})
    # Then deploying that template is refused
    assert "RefuseSourceOnlyLayer" in rules
