"""The local templates the wheel ships are what the CDK app synthesizes today."""

from __future__ import annotations

import json
from pathlib import Path

from flowops.local.packaged import (
    normalized,
    packaged_name,
    packaged_template,
    packaged_variants,
    template_text,
)
from flowops.local.runtime.synth import synth_template

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "src" / "flowops" / "local" / "templates"


def test_the_packaged_templates_equal_a_fresh_synthesis() -> None:
    variants = packaged_variants()
    # The shipped files are exactly the variants (and cdk.json)
    assert {path.name for path in TEMPLATES_DIR.glob("*.json")} == {
        "cdk.json",
        *(packaged_name(environment, git) for environment, git in variants),
    }, "src/flowops/local/templates/ holds other files: regenerate with `make templates`"
    for environment, git in variants:
        # Given the committed template and the app's synthesis (cached per infra/ and cdk.json)
        committed_file = TEMPLATES_DIR / packaged_name(environment, git)
        fresh = template_text(synth_template(environment, git=git))
        committed = committed_file.read_text(encoding="utf-8") if committed_file.is_file() else ""
        # Then they are the same, else the wheel would run yesterday's stack
        if fresh != committed:
            old = json.loads(committed or "{}").get("Resources", {})
            new = json.loads(fresh)["Resources"]
            changed = sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))
            raise AssertionError(
                f"{committed_file.relative_to(TEMPLATES_DIR.parents[3])} is stale "
                f"({len(changed)} resources differ, e.g. {changed[:5]}): regenerate with `make templates`"
            )


def test_the_packaged_cdk_json_is_the_projects() -> None:
    project = (TEMPLATES_DIR.parents[3] / "cdk.json").read_text(encoding="utf-8")
    packaged = TEMPLATES_DIR / "cdk.json"
    assert packaged.is_file() and packaged.read_text(encoding="utf-8") == project, (
        "src/flowops/local/templates/cdk.json is stale: regenerate with `make templates`"
    )


def test_asset_hashes_are_normalized_so_source_edits_do_not_stale_the_templates() -> None:
    template = {"Resources": {"Fn": {"Properties": {"Code": {"S3Key": "ab" * 32 + ".zip", "S3Bucket": "b"}}}}}
    assert normalized(template)["Resources"]["Fn"]["Properties"]["Code"] == {
        "S3Key": "packaged-asset.zip",
        "S3Bucket": "b",
    }
    assert packaged_template("dev")["Resources"]  # readable as package data
