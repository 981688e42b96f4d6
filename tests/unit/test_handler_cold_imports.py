"""Handlers import at init only what every call needs: no handler that builds no graph loads a
heavy package its cold start would pay for before its first call (issue 13 §6).

Read from a fresh interpreter's `sys.modules`, with tracing off as `bench.cold_start` runs:
imported together, the handlers load a superset of what each loads alone, so one interpreter
checks them all, naming for each heavy package the first handler whose import loaded it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.cold_start import handler_modules

ROOT = Path(__file__).resolve().parents[2]

# Imported at init by no handler that builds no graph (what each costs: `python -m bench.cold_start`).
HEAVY_AT_INIT = (
    "pydantic_settings",  # settings come from flowops.config.EnvironmentSettings
    "aws_lambda_powertools.utilities.parser",  # events: flowops.lambda_event.parse_event
    "aws_lambda_powertools.event_handler",  # API handlers route with flowops.functions._http
    "requests",  # the Genesys client, the trace and commit-status posts: on first use
    "yaml",  # read and written by the functions that handle YAML
    "networkx",  # graph steps only
    "aws_xray_sdk",  # only with tracing on
)
GRAPH_STEPS = frozenset({"flowops.functions.scan.report"})  # renders the graph on every call

_PROBE = """
import json, sys
heavy = json.loads(sys.argv[1])
first_loaded_by = {}
for module in sys.argv[2:]:
    __import__(module)
    for name in heavy:
        if name in sys.modules:
            first_loaded_by.setdefault(name, module)
print(json.dumps(first_loaded_by))
"""


def _loaded_heavy(modules: list[str]) -> dict[str, str]:
    """Heavy package -> the first of `modules` whose import loaded it."""
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers"), str(ROOT / "src")]),
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(HEAVY_AT_INIT), *modules],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    loaded: dict[str, str] = json.loads(completed.stdout.strip().splitlines()[-1])
    return loaded


def test_handlers_that_build_no_graph_load_no_heavy_package_at_init() -> None:
    # Given every handler that builds no graph
    checked = [module for module in handler_modules() if module not in GRAPH_STEPS]
    assert len(checked) > 30  # the listing found the handlers
    # When they are all imported in one fresh interpreter
    # Then none of the heavy packages is loaded (a failure names the handler that loaded it)
    assert _loaded_heavy(checked) == {}
