"""Rewrite pre-namespace module and file paths (`local.*`, `functions.*`) to the flowops namespace.

The handlers, CLI and local cloud moved under `flowops` (src/flowops/); a branch that still adds
files importing the old names can fix them with

    .venv/bin/python scripts/namespace_rewrite.py FILE...   # prints the files it changed
    .venv/bin/ruff check --fix FILE... && .venv/bin/ruff format FILE...

Old -> new: local.cli -> flowops.cli; local.{runtime,simulator,gitserver,demo,webhook_server} ->
flowops.local.*; functions.* -> flowops.functions.* (Lambda handler strings too); file paths
local/cli/ -> src/flowops/cli/, local/<x> -> src/flowops/local/<x>, functions/<x> ->
src/flowops/functions/<x>. Idempotent: names already under flowops are left alone.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_NOT_AFTER = r"(?<![\w./-])"
RULES = [
    (re.compile(_NOT_AFTER + r"local\.cli\b"), "flowops.cli"),
    (
        re.compile(_NOT_AFTER + r"local\.(runtime|simulator|gitserver|demo|webhook_server)\b"),
        r"flowops.local.\1",
    ),
    (
        re.compile(_NOT_AFTER + r"functions\.(_shared|scan|publish|release|trace|git|webhook)\b"),
        r"flowops.functions.\1",
    ),
    (re.compile(r"\bfrom functions import\b"), "from flowops.functions import"),
    (re.compile(r"\bfrom local import\b"), "from flowops.local import"),
    (re.compile(_NOT_AFTER + r"local/cli\b"), "src/flowops/cli"),
    (re.compile(_NOT_AFTER + r"local/(runtime|simulator|gitserver)\b"), r"src/flowops/local/\1"),
    (re.compile(_NOT_AFTER + r"local/(demo|webhook_server)\.py\b"), r"src/flowops/local/\1.py"),
    (
        re.compile(_NOT_AFTER + r"functions/(_shared\.py|scan|publish|release|trace|git|webhook)\b"),
        r"src/flowops/functions/\1",
    ),
]


def rewrite(text: str) -> str:
    for pattern, replacement in RULES:
        text = pattern.sub(replacement, text)
    return text


def main(paths: list[str]) -> None:
    for name in paths:
        path = Path(name)
        text = path.read_text(encoding="utf-8")
        new = rewrite(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(name)


if __name__ == "__main__":
    main(sys.argv[1:])
