"""With tracing off, a handler's cold start builds no X-Ray tracer (aws_xray_sdk is never
imported); with tracing on, it does. Each case in a fresh interpreter, as Lambda starts one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = "import sys, flowops.functions.publish.check_job; print('aws_xray_sdk' in sys.modules)"


def _xray_loaded(trace_disabled: str) -> bool:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers")]),
        "POWERTOOLS_TRACE_DISABLED": trace_disabled,
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return result.stdout.strip().splitlines()[-1] == "True"


def test_a_handler_imports_the_xray_sdk_only_when_tracing_is_on() -> None:
    # Given the same handler started with tracing off and with tracing on
    # Then only the traced start pays for the X-Ray SDK
    assert _xray_loaded("true") is False
    assert _xray_loaded("false") is True
