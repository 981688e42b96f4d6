"""Files the CLI writes for the operator: whole or not at all, in one known folder.

`write_atomically` writes next to the target and renames, so an interrupted command never
leaves half a report or export behind. `artifacts_dir()` is where local artifacts land
(reports, waterfalls): `.flowops/artifacts/` of the working directory, or FLOWOPS_ARTIFACTS_DIR.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ARTIFACTS_DIR_VARIABLE = "FLOWOPS_ARTIFACTS_DIR"
DEFAULT_ARTIFACTS_DIR = Path(".flowops") / "artifacts"


def write_atomically(path: Path, data: str | bytes) -> Path:
    """Write `data` to `path` (created or replaced whole); its absolute path."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path = path.expanduser()
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path.resolve()


def artifacts_dir(kind: str) -> Path:
    """The local folder for artifacts of `kind` (reports, waterfalls), created on demand."""
    root = Path(os.environ.get(ARTIFACTS_DIR_VARIABLE) or DEFAULT_ARTIFACTS_DIR)
    directory = (root / kind).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    return directory
