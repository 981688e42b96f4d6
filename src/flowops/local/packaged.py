"""What the local cloud needs from the project when it runs from an installed wheel.

In a checkout the CDK app (infra/) is synthesized in-process and cdk.json is read where it is.
The wheel ships neither infra/ nor aws-cdk-lib (nor node), so it carries:
- `templates/<environment>[-git-<digest>].json`: the synthesized local template of every stack
  the local cloud runs (`packaged_variants`: each environment, and dev with `local up`'s Git
  resources; the digest is of the Git configuration). `make templates` writes them;
  tests/packaging/test_templates.py fails when a fresh synthesis differs, so they cannot go
  stale. Asset hashes are replaced by `ASSET_KEY`: they change with every source edit, and the
  local cloud never reads the code from S3;
- `templates/cdk.json`: a copy of the project's cdk.json (promotion chain, approvals), also
  written by `make templates` and checked by the same test.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve()
# The repository when running from a checkout (editable install): it has the CDK app to synthesize.
_REPOSITORY = _HERE.parents[3]
CHECKOUT_ROOT: Path | None = (
    _REPOSITORY
    if (_REPOSITORY / "cdk.json").is_file() and (_REPOSITORY / "infra" / "app.py").is_file()
    else None
)
PACKAGED_ENVIRONMENTS = ("dev",)
ASSET_KEY = "packaged-asset.zip"
_ASSET_HASH = re.compile(r"^[0-9a-f]{64}\.zip$")


class PackagedTemplateError(RuntimeError):
    pass


def state_root() -> Path:
    """Where `.flowops/` (local endpoints, caches, reports) lives: the checkout, else the current
    directory, like a tool's project folder."""
    return CHECKOUT_ROOT if CHECKOUT_ROOT is not None else Path.cwd()


def cdk_context() -> dict[str, Any]:
    """cdk.json's `context`: the checkout's file, else the copy the wheel ships."""
    if CHECKOUT_ROOT is not None:
        text = (CHECKOUT_ROOT / "cdk.json").read_text(encoding="utf-8")
    else:
        text = resources.files("flowops.local").joinpath("templates", "cdk.json").read_text(encoding="utf-8")
    context: dict[str, Any] = json.loads(text).get("context", {})
    return context


def normalized(template: dict[str, Any]) -> dict[str, Any]:
    """`template` with every asset's content hash (an S3Key like `<sha256>.zip`) as `ASSET_KEY`."""

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: ASSET_KEY
                if key == "S3Key" and isinstance(item, str) and _ASSET_HASH.match(item)
                else walk(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    result: dict[str, Any] = walk(template)
    return result


def template_text(template: dict[str, Any]) -> str:
    """The committed form of a template: normalized, sorted keys, one key per line (readable diffs)."""
    return json.dumps(normalized(template), indent=1, sort_keys=True) + "\n"


def packaged_variants() -> list[tuple[str, Mapping[str, Any] | None]]:
    """(environment, Git configuration) of every template the wheel ships."""
    from flowops.local.gitserver.hosting import LOCAL_GIT_STACK

    return [*((environment, None) for environment in PACKAGED_ENVIRONMENTS), ("dev", LOCAL_GIT_STACK)]


def packaged_name(environment: str, git: Mapping[str, Any] | None = None) -> str:
    if git is None:
        return f"{environment}.json"
    digest = hashlib.sha256(json.dumps(git, sort_keys=True).encode()).hexdigest()[:12]
    return f"{environment}-git-{digest}.json"


def packaged_template(environment: str, git: Mapping[str, Any] | None = None) -> dict[str, Any]:
    resource = resources.files("flowops.local").joinpath("templates", packaged_name(environment, git))
    if not resource.is_file():
        raise PackagedTemplateError(
            f"this installation carries no local template for environment {environment!r}"
            f"{' with that Git configuration' if git is not None else ''}"
        )
    template: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return template
