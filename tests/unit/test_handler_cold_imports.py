"""Handlers import at init only what every call needs: no handler that builds no graph loads a
heavy package its cold start would pay for before its first call (issue 13 §6).

Read from a fresh interpreter's `sys.modules`, with tracing off as `bench.cold_start` runs:
imported together, the handlers load a superset of what each loads alone, so one interpreter
checks them all; a failure re-checks them one by one to name the culprits.
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
    "requests",  # the Genesys client, the trace and commit-status posts: on first use
    "yaml",  # read and written by the functions that handle YAML
    "networkx",  # graph steps only
    "aws_xray_sdk",  # only with tracing on
)
GRAPH_STEPS = frozenset({"flowops.functions.scan.report"})  # renders the graph on every call

_PROBE = """
import json, sys
for module in sys.argv[2:]:
    __import__(module)
print(json.dumps([name for name in json.loads(sys.argv[1]) if name in sys.modules]))
"""


def _loaded_heavy(modules: list[str]) -> set[str]:
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
    return set(json.loads(completed.stdout.strip().splitlines()[-1]))


def test_handlers_that_build_no_graph_load_no_heavy_package_at_init() -> None:
    # Given every handler that builds no graph
    checked = [module for module in handler_modules() if module not in GRAPH_STEPS]
    assert len(checked) > 30  # the listing found the handlers
    # When they are all imported in one fresh interpreter
    loaded = _loaded_heavy(checked)
    # Then none of the heavy packages is loaded; otherwise name who loads what
    if loaded:
        culprits = {module: sorted(_loaded_heavy([module])) for module in checked}
        assert {module: found for module, found in culprits.items() if found} == {}
