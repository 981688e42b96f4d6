"""Fixtures the end-to-end tests share."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def before_handler(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, Callable[[], None]], None]:
    """Run `action` once right before the real handler of module `flowops.functions.publish.<name>`.

    The local runtime resolves the dotted handler on every invocation, so the wrapper is what
    the state machine's Lambda calls: the test injects what happens in the org in between.
    """

    def install(module_name: str, action: Callable[[], None]) -> None:
        module = importlib.import_module(f"flowops.functions.publish.{module_name}")
        real = module.handler
        done = threading.Event()

        def wrapper(event: Any, context: Any) -> Any:
            if not done.is_set():
                done.set()
                action()
            return real(event, context)

        monkeypatch.setattr(module, "handler", wrapper)

    return install


@pytest.fixture
def before_health_check(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[[], None]], None]:
    """Run `action` once right before the publish health check (`flowops.publish.steps.health_check`),
    which the poll that sees the publish job end runs in the same invocation."""

    def install(action: Callable[[], None]) -> None:
        from flowops.publish import steps

        real = steps.health_check
        done = threading.Event()

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not done.is_set():
                done.set()
                action()
            return real(*args, **kwargs)

        monkeypatch.setattr(steps, "health_check", wrapper)

    return install
