"""Logger, metrics and tracer, created once per process.

Every handler uses the same three objects so that log keys, metric namespace and service
name agree across functions. The tracer is built lazily: creating a powertools `Tracer`
imports aws_xray_sdk (~160 ms of cold start), and only handlers that trace pay for it.
"""

from __future__ import annotations

import os
from functools import lru_cache

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE_NAME = os.environ.get("POWERTOOLS_SERVICE_NAME", "flowops")
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "flowops")

logger = Logger(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)


@lru_cache(maxsize=1)
def get_tracer() -> Tracer:
    """The process-wide tracer (a no-op outside Lambda)."""
    return Tracer(service=SERVICE_NAME)
