"""Per-thread environment overlay: concurrent in-process Lambda invocations each see their own env.

Lambda gives every function its own process environment. Locally, all handlers run in ONE
process and Step Functions Map iterations invoke them from several threads at once, so setting
`os.environ[...]` per call would leak one function's variables into another's. Instead,
`install()` replaces `os.environ` with `OverlayEnviron`, a mapping that reads (and writes) a
per-thread overlay first and the real environment otherwise. `applied(env)` activates an overlay
for the current thread for the duration of one invocation.

What sees the overlay: everything that looks up `os.environ` / `os.getenv` at call time —
the settings models (`flowops.config`), powertools, boto3. What does not: threads a handler starts
itself (a new thread starts without the overlay) and values captured at import time. Hence the
rule for handlers: read settings inside the handler call, in the handler's thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar

_DELETED = None
_overlay: ContextVar[dict[str, str | None] | None] = ContextVar("flowops_local_env_overlay", default=None)
_install_lock = threading.Lock()
_install_count = 0
_original_environ: MutableMapping[str, str] | None = None


class OverlayEnviron(MutableMapping[str, str]):
    """`os.environ` stand-in: the current thread's overlay over the real process environment."""

    def __init__(self, base: MutableMapping[str, str]) -> None:
        self._base = base

    def __getitem__(self, key: str) -> str:
        layer = _overlay.get()
        if layer is not None and key in layer:
            value = layer[key]
            if value is _DELETED:
                raise KeyError(key)
            return value
        return self._base[key]

    def __setitem__(self, key: str, value: str) -> None:
        layer = _overlay.get()
        if layer is not None:
            layer[key] = value
        else:
            self._base[key] = value

    def __delitem__(self, key: str) -> None:
        layer = _overlay.get()
        if layer is None:
            del self._base[key]
            return
        if key not in self:
            raise KeyError(key)
        layer[key] = _DELETED

    def __iter__(self) -> Iterator[str]:
        layer = _overlay.get()
        if layer is None:
            yield from self._base
            return
        for key in self._base:
            if key not in layer:
                yield key
        for key, value in layer.items():
            if value is not _DELETED:
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def copy(self) -> dict[str, str]:
        return dict(self)

    def __repr__(self) -> str:
        return f"OverlayEnviron({len(self)} variables)"


def install() -> None:
    """Replace os.environ with the overlay (reference counted; `uninstall` restores it)."""
    global _install_count, _original_environ
    with _install_lock:
        if _install_count == 0:
            _original_environ = os.environ
            # Deliberate: swap the mapping object, keep the real environment behind it.
            os.environ = OverlayEnviron(_original_environ)  # type: ignore[assignment]  # noqa: B003
        _install_count += 1


def uninstall() -> None:
    global _install_count, _original_environ
    with _install_lock:
        if _install_count == 0:
            return
        _install_count -= 1
        if _install_count == 0 and _original_environ is not None:
            os.environ = _original_environ  # type: ignore[assignment]  # noqa: B003
            _original_environ = None


@contextmanager
def applied(variables: Mapping[str, str]) -> Iterator[None]:
    """Within the block, the current thread sees `variables` on top of the process environment."""
    if not isinstance(os.environ, OverlayEnviron):
        raise RuntimeError("flowops.local.runtime.environment.install() must run before applied()")
    token = _overlay.set(dict(variables))
    try:
        yield
    finally:
        _overlay.reset(token)
