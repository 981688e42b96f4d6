"""Files the CLI writes for the operator: whole or not at all, in one known folder.

`write_atomically` writes next to the target and renames, so an interrupted command never
leaves half a report or export behind. `artifacts_dir(kind)` is where local copies of
artifacts land, one folder per kind (`.flowops/reports/`, `.flowops/waterfalls/` of the
working directory, or under FLOWOPS_ARTIFACTS_DIR); commands print the paths they write.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ARTIFACTS_DIR_VARIABLE = "FLOWOPS_ARTIFACTS_DIR"
DEFAULT_ARTIFACTS_DIR = Path(".flowops")


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


def save_artifact(kind: str, name: str, data: bytes) -> Path:
    """A local copy of an artifact under `artifacts_dir(kind)`; its absolute path."""
    safe_name = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:200] or "artifact"
    return write_atomically(artifacts_dir(kind) / safe_name, data)


LOGS_KEPT = 20  # log files of earlier commands kept per kind


def logs_dir() -> Path:
    return artifacts_dir("logs")


@contextlib.contextmanager
def logs_to_file(kind: str, *, capture_stderr: bool = False) -> Iterator[Path]:
    """Send what the in-process handlers and servers print — Lambda-style JSON logs on stdout,
    moto/werkzeug request lines and library warnings through `logging` — to
    `.flowops/logs/<kind>-<time>.log` instead of the operator's terminal.

    The command's own output must use the streams it captured before entering (or stderr,
    unless `capture_stderr`). Only the newest LOGS_KEPT files of a kind are kept."""
    directory = logs_dir()
    path = directory / f"{kind}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"
    for old in sorted(directory.glob(f"{kind}-*.log"))[:-LOGS_KEPT]:
        old.unlink(missing_ok=True)
    root = logging.getLogger()
    with path.open("a", encoding="utf-8", buffering=1) as stream:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        previous_level = root.level
        root.addHandler(handler)
        if root.level > logging.INFO or root.level == logging.NOTSET:
            root.setLevel(logging.INFO)
        try:
            with contextlib.redirect_stdout(stream):
                if capture_stderr:
                    with contextlib.redirect_stderr(stream):
                        yield path.resolve()
                else:
                    yield path.resolve()
        finally:
            root.removeHandler(handler)
            root.setLevel(previous_level)
