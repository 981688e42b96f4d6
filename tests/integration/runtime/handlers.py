"""Test-only Lambda handlers, run in-process by LocalCloud inside real executions."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from typing import Any

from flowops.clock import process_clock
from flowops.stepfunctions import as_step_functions_error
from flowops.store import ArtifactStore, scan_artifact_key

_attempts: Counter[str] = Counter()
_attempts_lock = threading.Lock()


class TransientProbeError(Exception):
    asl_error_name = "Probe.Transient"


class PermanentProbeError(Exception):
    asl_error_name = "Probe.Permanent"


def flaky_step(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Fails `fail_times` times with Probe.Transient (or always with Probe.Permanent), then writes to S3.

    Errors are raised named after their `asl_error_name`, as every flowops handler does.
    """
    try:
        return _flaky_step(event, context)
    except (TransientProbeError, PermanentProbeError) as error:
        raise as_step_functions_error(error) from error


def _flaky_step(event: dict[str, Any], context: Any) -> dict[str, Any]:
    run_id = str(event["run_id"])
    with _attempts_lock:
        _attempts[run_id] += 1
        attempt = _attempts[run_id]
    if event.get("permanent"):
        raise PermanentProbeError(f"run {run_id} cannot succeed")
    if attempt <= int(event.get("fail_times", 0)):
        raise TransientProbeError(f"attempt {attempt} of run {run_id} failed")
    store = ArtifactStore(os.environ["ARTIFACTS_BUCKET"])
    key = scan_artifact_key(os.environ["FLOWOPS_ORG"], run_id, "probe.json")
    store.put_json(key, {"attempt": attempt, "request_id": context.aws_request_id}, immutable=True)
    return {"key": key, "attempts": attempt, "function": context.function_name}


def report_probe_value(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Returns the PROBE_VALUE of its own function's environment, read before AND after a pause."""
    before = os.environ["PROBE_VALUE"]
    time.sleep(0.05)  # let the parallel branch run meanwhile
    return {"before": before, "after": os.getenv("PROBE_VALUE"), "base_url": os.getenv("GENESYS_BASE_URL")}


def slow_step(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Computes for `compute_seconds` real seconds (work: Lambda runs it at 1x), then waits in small
    slices on the accelerated clock until its function's remaining time drops below `stop_with_ms`
    (a step that honours its budget), or forever (`stop_with_ms` absent: a hung step)."""
    first_remaining = context.get_remaining_time_in_millis()
    time.sleep(float(event.get("compute_seconds", 0)))  # not through the clock: compute
    after_compute = context.get_remaining_time_in_millis()
    clock = process_clock(float(os.environ.get("FLOWOPS_TIME_SCALE", "1")))
    stop_with_ms = event.get("stop_with_ms")
    while stop_with_ms is None or context.get_remaining_time_in_millis() > int(stop_with_ms):
        clock.sleep(0.1)
    return {
        "first_remaining_ms": first_remaining,
        "after_compute_ms": after_compute,
        "stopped_with_ms": context.get_remaining_time_in_millis(),
    }


received_events: list[dict[str, Any]] = []


def event_sink(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Keeps what an EventBridge rule delivered (the test reads `received_events`)."""
    received_events.append(event)
    return {"received": len(received_events)}
