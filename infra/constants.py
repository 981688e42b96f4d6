"""The checkout's paths, and (re-exported) the names shared with the CLI and the local cloud."""

from __future__ import annotations

from pathlib import Path

# The shared names live in the wheel: the CLI and the local cloud use them without infra/.
from flowops.stacknames import *  # noqa: F403

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The `flowops` package has two source roots: the core (the Lambda layer, layers/flowops) and the
# rest (handlers, CLI, local cloud: src/flowops); the core's __init__ extends its path over both.
SOURCE_ROOT = PROJECT_ROOT / "src"
FUNCTIONS_SOURCE_DIR = SOURCE_ROOT / "flowops" / "functions"
LAYER_SOURCE_DIR = PROJECT_ROOT / "layers" / "flowops"
CACHE_DIR = PROJECT_ROOT / ".flowops" / "cache"


def handler_module_path(handler: str) -> Path:
    """`flowops.functions.scan.check_index.handler` → <root>/src/flowops/functions/scan/check_index.py.

    A handler outside the package (a test-only workflow's `tests.integration....`, which only
    the local cloud runs) is looked for from the checkout's root; the path under `src/` is
    returned when neither exists, for the error message."""
    module, _, _function = handler.rpartition(".")
    parts = module.split(".")
    candidates = [root.joinpath(*parts).with_suffix(".py") for root in (SOURCE_ROOT, PROJECT_ROOT)]
    return next((path for path in candidates if path.is_file()), candidates[0])
