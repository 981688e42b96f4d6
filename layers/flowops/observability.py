"""Logger, metrics and tracer, created once per process.

Every handler uses the same three objects so that log keys, metric namespace and service
name agree across functions. The tracer is built lazily: creating a powertools `Tracer`
imports aws_xray_sdk (~160 ms of cold start), and only handlers that trace pay for it.
"""

from __future__ import annotations

import logging
import os
import sys
from functools import lru_cache
from typing import TextIO

from aws_lambda_powertools import Logger, Metrics, Tracer

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


@lru_cache(maxsize=1)
def get_tracer() -> Tracer:
    """The process-wide tracer (a no-op outside Lambda)."""
    return Tracer(service=SERVICE_NAME)
