"""Per-environment state for what handlers keep per process, so that invocations run side by side.

In Lambda each concurrent invocation has an execution environment (a process) of its own; a
warm environment runs one invocation at a time and keeps its module state between them. Locally
every handler runs in ONE process, each invocation on a worker thread that stands for one
environment (`flowops.local.runtime.lambdas`). What a handler keeps per process must therefore be
kept per worker thread here:

- the thread-local clients and sessions of `flowops.functions._shared` already are;
- the environment variables are, through the per-thread overlay (`flowops.local.runtime.environment`);
- powertools' `Logger` keeps the keys `inject_lambda_context` appends (request id, cold start, ...)
  on its formatter, and `Metrics` keeps the metric, dimension and metadata sets of the running
  invocation (on the instance and its provider, which share the same dicts). `isolate_module`
  gives these attributes one value per thread: the first access in a thread gets a deep copy of
  the values they had when isolated (copied together, so dicts shared between the instance and
  its provider stay shared), so each environment starts as a freshly imported module would.

What cannot be made per thread this way is state powertools keeps on a CLASS: the event
handler resolvers store the current event and context on `BaseRouter` itself.
`holds_class_state(module)` tells the runner which handler modules do; it runs their invocations
one at a time among themselves. No flowops handler does today (the webhook and Git push handlers
route with `flowops.functions._http.Router`, which keeps no per-request state).
"""

from __future__ import annotations

import copy
import sys
import threading
from types import ModuleType
from typing import Any

_lock = threading.Lock()
_isolated: dict[int, _IsolatedGroup] = {}
"""id(object) of every isolated object -> its group (an object is isolated once)."""

METRICS_ATTRIBUTES = ("metric_set", "metadata_set", "default_dimensions", "dimension_set")
METRICS_PROVIDER_ATTRIBUTES = (*METRICS_ATTRIBUTES, "dimension_sets", "timestamp")
LOGGER_FORMATTER_ATTRIBUTES = ("log_format",)


class _IsolatedGroup:
    """Objects whose named attributes are per thread, copied together from one snapshot."""

    def __init__(self, members: list[tuple[Any, tuple[str, ...]]]) -> None:
        self.members = [(obj, tuple(name for name in names if name in vars(obj))) for obj, names in members]
        self.initial = {(id(obj), name): vars(obj)[name] for obj, names in self.members for name in names}
        self.local = threading.local()
        self.original_classes: list[tuple[Any, type]] = []

    def values(self) -> dict[tuple[int, str], Any]:
        state: dict[tuple[int, str], Any] | None = getattr(self.local, "values", None)
        if state is None:
            state = copy.deepcopy(self.initial)  # one memo: aliased dicts stay aliased
            self.local.values = state
        return state

    def install(self) -> None:
        for obj, names in self.members:
            original = type(obj)
            properties = {name: _per_thread_property(self, name) for name in names}
            namespace = {**properties, "__module__": original.__module__}
            obj.__class__ = type(original.__name__, (original,), namespace)
            self.original_classes.append((obj, original))

    def uninstall(self) -> None:
        while self.original_classes:
            obj, original = self.original_classes.pop()
            obj.__class__ = original


def _per_thread_property(group: _IsolatedGroup, name: str) -> property:
    def get(self: Any) -> Any:
        return group.values()[(id(self), name)]

    def set_(self: Any, value: Any) -> None:
        group.values()[(id(self), name)] = value

    return property(get, set_)


def _groups_of(value: Any) -> list[list[tuple[Any, tuple[str, ...]]]]:
    """The per-process powertools state `value` holds, as groups of (object, attribute names)."""
    logging_module = sys.modules.get("aws_lambda_powertools.logging.logger")
    metrics_module = sys.modules.get("aws_lambda_powertools.metrics.metrics")
    if logging_module is not None and isinstance(value, logging_module.Logger):
        formatter = getattr(value.registered_handler, "formatter", None)
        # A second Logger of the same service shares the first one's handler and formatter.
        return [[(formatter, LOGGER_FORMATTER_ATTRIBUTES)]] if hasattr(formatter, "__dict__") else []
    if metrics_module is not None and isinstance(value, metrics_module.Metrics):
        return [[(value, METRICS_ATTRIBUTES), (value.provider, METRICS_PROVIDER_ATTRIBUTES)]]
    return []


def isolate_module(module: ModuleType) -> None:
    """Give the powertools Logger and Metrics objects `module` holds per-thread state (once)."""
    with _lock:
        for value in list(vars(module).values()):
            for members in _groups_of(value):
                if any(id(obj) in _isolated for obj, _ in members):
                    continue
                group = _IsolatedGroup(members)
                group.install()
                for obj, _ in members:
                    _isolated[id(obj)] = group


def holds_class_state(module: ModuleType) -> bool:
    """True when `module` holds a powertools event-handler resolver (its state is on the class)."""
    api_gateway = sys.modules.get("aws_lambda_powertools.event_handler.api_gateway")
    if api_gateway is None:
        return False
    return any(isinstance(value, api_gateway.BaseRouter) for value in vars(module).values())


def uninstall() -> None:
    """Give every isolated object its own class back (its attributes as they were when isolated)."""
    with _lock:
        groups = {id(group): group for group in _isolated.values()}
        _isolated.clear()
    for group in groups.values():
        group.uninstall()
