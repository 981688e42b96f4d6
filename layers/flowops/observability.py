"""Logger, metrics and tracer, created once per process.

Every handler uses the same three objects so that log keys, metric namespace and service
name agree across functions. The tracer is built lazily: creating a powertools `Tracer`
imports aws_xray_sdk (0.2 to 0.4 s of cold start), and only handlers that trace pay for it. When
tracing is off (`POWERTOOLS_TRACE_DISABLED`, set by the stack for an environment with
`tracing: false`) no Tracer is built at all: `get_tracer` returns a stand-in whose decorators
leave the handler as it is.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Protocol, TextIO

from aws_lambda_powertools import Logger, Metrics

SERVICE_NAME = os.environ.get("POWERTOOLS_SERVICE_NAME", "flowops")
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "flowops")


class CurrentStdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stdout` is when a record is emitted.

    In Lambda that is stdout, as usual. Locally the handlers run inside the `flowops` CLI,
    which sends their log lines to stderr (`contextlib.redirect_stdout`) so that `--json`
    output stays one clean document; a handler bound to the stdout of import time could not.
    """

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, value: TextIO) -> None:
        """The stream is always the current stdout; assignments are ignored."""


logger = Logger(service=SERVICE_NAME, logger_handler=CurrentStdoutHandler())
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)


class HandlerTracer(Protocol):
    """What handlers use of a tracer."""

    def capture_lambda_handler(
        self,
        lambda_handler: Callable[..., Any] | None = None,
        capture_response: bool | None = None,
        capture_error: bool | None = None,
    ) -> Any: ...


class TracingDisabled:
    """Stands in for powertools' Tracer when tracing is off, without importing aws_xray_sdk."""

    def capture_lambda_handler(
        self,
        lambda_handler: Callable[..., Any] | None = None,
        capture_response: bool | None = None,
        capture_error: bool | None = None,
    ) -> Any:
        if lambda_handler is not None:
            return lambda_handler
        return lambda handler: handler


def tracing_disabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in {"1", "true", "yes"}


@lru_cache(maxsize=1)
def get_tracer() -> HandlerTracer:
    """The process-wide tracer (a no-op outside Lambda); no X-Ray SDK when tracing is off."""
    if tracing_disabled():
        return TracingDisabled()
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE_NAME)
