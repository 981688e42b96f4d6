"""A process-wide cache of botocore's parsed data files, for the local runtime.

Every local handler invocation builds its boto3 clients from a fresh `boto3.session.Session()`
(boto3's default session is not thread-safe, and Map iterations invoke handlers from several
threads), and every new session's `botocore.loaders.Loader` re-reads and parses the service
model JSON from disk: about a second of CPU per handler call. Inside one process those files
never change, so one parsed copy per (loader method, search paths, arguments) serves every
session. botocore itself already shares one parsed copy between the clients of a session
(`Loader` caches per instance); this widens that to the process.

`install()` / `uninstall()` are reference-counted (LocalCloud installs it on start, a benchmark
may hold it around several clouds); the last `uninstall()` restores botocore's own methods.
Lambda never needs this: a real container builds its sessions once per cold start.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_CACHED_METHODS = ("load_service_model", "load_data", "load_data_with_path", "list_available_services")

_lock = threading.Lock()
_install_count = 0
_originals: dict[str, Callable[..., Any]] = {}
_cache: dict[tuple[Any, ...], Any] = {}


def install() -> None:
    """Share parsed botocore data between all sessions of this process (until `uninstall`)."""
    global _install_count
    import botocore.loaders

    with _lock:
        _install_count += 1
        if _install_count > 1:
            return
        for name in _CACHED_METHODS:
            original = getattr(botocore.loaders.Loader, name)
            _originals[name] = original
            setattr(botocore.loaders.Loader, name, _cached(name, original))


def uninstall() -> None:
    """Undo one `install()`; the last one restores botocore's methods and drops the cache."""
    global _install_count
    import botocore.loaders

    with _lock:
        if _install_count == 0:
            return
        _install_count -= 1
        if _install_count > 0:
            return
        for name, original in _originals.items():
            setattr(botocore.loaders.Loader, name, original)
        _originals.clear()
        _cache.clear()


def installed() -> bool:
    with _lock:
        return _install_count > 0


@contextmanager
def shared_botocore_loader_cache() -> Iterator[None]:
    """`install()` for the duration of a block."""
    install()
    try:
        yield
    finally:
        uninstall()


def _cached(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def load(self: Any, *args: Any, **kwargs: Any) -> Any:
        # Loaders with other search paths (custom data directories) keep separate entries.
        key = (name, tuple(getattr(self, "search_paths", ())), args, tuple(sorted(kwargs.items())))
        with _lock:
            if key in _cache:
                return _cache[key]
        # Parsed outside the lock: two threads may both parse once; the first result is kept.
        value = original(self, *args, **kwargs)
        with _lock:
            return _cache.setdefault(key, value)

    load.__name__ = name
    load.__doc__ = getattr(original, "__doc__", None)
    return load
