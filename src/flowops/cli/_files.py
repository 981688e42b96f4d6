"""Reading user-given files with a size bound (flow YAML, lock files, options files).

A file is refused from its size before it is read, and read with a cap all the same (a FIFO
or `/dev/stdin` has no size), so a mistaken `--yaml /dev/zero` cannot exhaust memory.
"""

from __future__ import annotations

from pathlib import Path

from flowops.bounded import InputTooLargeError, read_capped


def read_bounded_bytes(path: Path, max_bytes: int, what: str) -> bytes:
    """The file's bytes; `OSError` when unreadable, `InputTooLargeError` when over `max_bytes`."""
    with path.open("rb") as stream:
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        if size > max_bytes:
            raise InputTooLargeError(f"{what} {path}", size, max_bytes)
        return read_capped(stream, max_bytes, f"{what} {path}")
