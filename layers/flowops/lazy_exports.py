"""A package's re-exports imported on first use (PEP 562), so importing one submodule does not
import its siblings.

A handler that needs `flowops.lock.models` should not build the pydantic models of
`flowops.lock.diff` and `flowops.lock.environments` at its cold start (issue 13:
`python -m bench.cold_start`). A package lists its exports by submodule once:

    __getattr__, __dir__ = lazy_exports(__name__, {"flowops.lock.models": ("Lockfile",)})

and imports them under `TYPE_CHECKING` as well, for the type checker, with `__all__` listing them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, tuple[str, ...]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """(`__getattr__`, `__dir__`) for `package` re-exporting `exports` (submodule -> its names)."""
    home = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(importlib.import_module(package), name, value)  # the next lookup is a plain one
        return value

    def __dir__() -> list[str]:
        return sorted({*home, *vars(importlib.import_module(package))})

    return __getattr__, __dir__
