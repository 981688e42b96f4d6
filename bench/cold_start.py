"""Cold start: import + init time of every handler module under `functions/`, each in a fresh
interpreter, against a bare interpreter measured in the same run.

    python -m bench.cold_start                 # 3 samples per module, median reported
    python -m bench.cold_start --samples 5 --top 3

Per handler module:

- wall: a new `python -c "import <module>"` timed from outside (what a Lambda cold start pays for
  the handler's module, its decorators and the objects it builds at import time), median of
  `--samples`, beside `python -c "pass"` measured the same way ("over bare" = the handler's cost);
- init-time heavy imports: which of networkx / aws_xray_sdk / yaml / ... are in `sys.modules`
  once the module is imported (read from the interpreter itself, not parsed from a log);
- lazy imports: imports of networkx or `flowops.graph` written INSIDE a function (found with
  `ast`) that the handler's `handler` can reach (by name, over the modules it loaded). Those are
  paid on the handler's first call, not at init — the right place for a cost only some calls
  need. The extra import time that first call pays is measured in a fresh interpreter right
  after the handler import;
- `python -X importtime`: the heaviest top-level packages (cumulative), from one more run.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers"
OWN_PACKAGES = frozenset({"functions", "flowops", "encodings", "site"})
HEAVY_PACKAGES = ("networkx", "aws_xray_sdk", "yaml", "pydantic_settings", "requests", "boto3")
# Packages worth flagging: only handlers that need them should pay for them (shared local-aws.md).
FLAGGED_PACKAGES = ("networkx", "aws_xray_sdk")
LAZY_TARGETS = ("networkx", "flowops.graph")
# What every handler imports anyway: the second baseline, so that a loaded machine's noise cancels
# out of "over the common stack" better than out of "over a bare interpreter".
COMMON_STACK = "import boto3, requests, pydantic, pydantic_settings, aws_lambda_powertools"
_ENV = {
    # What the Lambda environment gives every function; the handlers read settings per call.
    # Tracing is disabled as outside Lambda (powertools' Tracer is a no-op there); creating the
    # Tracer still imports aws_xray_sdk, which the init-time column shows.
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_SERVICE_NAME": "flowops",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "PYTHONPATH": os.pathsep.join([str(ROOT), str(LAYER)]),
}

# Run in the fresh interpreter: import the handler, report what it loaded, then time the lazy
# imports its first call would add (argv[2:]).
_PROBE = """
import json, sys, time
started = time.perf_counter()
__import__(sys.argv[1])
init = time.perf_counter() - started
loaded = sorted(sys.modules)
lazy = {}
for name in sys.argv[2:]:
    started = time.perf_counter()
    __import__(name)
    lazy[name] = time.perf_counter() - started
print(json.dumps({"init": init, "modules": loaded, "lazy": lazy}))
"""


@dataclass
class ModuleCost:
    module: str
    wall_seconds: float
    init_seconds: float  # in-process import time (no interpreter start-up)
    top_imports: list[tuple[str, float]]  # (package, cumulative seconds) from -X importtime
    init_heavy: list[str]  # heavy packages in sys.modules after the import
    lazy_sites: list[str]  # "module.function" that import a LAZY_TARGETS package inside a function
    first_call_seconds: float  # extra import time those lazy sites add on the first call

    @property
    def flags(self) -> list[str]:
        return [package for package in FLAGGED_PACKAGES if package in self.init_heavy]


def handler_modules() -> list[str]:
    modules = []
    for path in sorted((ROOT / "functions").rglob("*.py")):
        if path.name.startswith("_") or path.name == "events.py":
            continue
        source = path.read_text(encoding="utf-8")
        if "def handler(" in source:
            modules.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return modules


def _run(arguments: list[str], importtime: bool = False) -> tuple[float, str, str]:
    command = [sys.executable, *(["-X", "importtime"] if importtime else []), *arguments]
    started = time.perf_counter()
    completed = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **_ENV}, cwd=ROOT, check=False
    )
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"{arguments!r} failed: {completed.stderr[-2000:]}")
    return elapsed, completed.stdout, completed.stderr


def top_level_imports(importtime_log: str) -> list[tuple[str, float]]:
    """Cumulative seconds of each package whose root module the import pulled in (at any depth:
    a root module's cumulative time includes everything it imported first)."""
    totals: dict[str, float] = {}
    for line in importtime_log.splitlines():
        if not line.startswith("import time:") or line.count("|") < 2:
            continue
        _, cumulative, name_part = line.removeprefix("import time:").split("|", 2)
        name = name_part.strip()
        if "." in name or name.startswith("_") or name in OWN_PACKAGES or not cumulative.strip().isdigit():
            continue
        totals[name] = max(totals.get(name, 0.0), int(cumulative) / 1e6)
    return sorted(totals.items(), key=lambda item: -item[1])


def _module_file(module: str) -> Path | None:
    parts = module.split(".")
    base = LAYER if parts[0] == "flowops" else ROOT
    for candidate in (base.joinpath(*parts).with_suffix(".py"), base.joinpath(*parts, "__init__.py")):
        if candidate.is_file():
            return candidate
    return None


def _imported_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return [node.module or ""]


@cache
def lazy_import_sites(module: str) -> tuple[str, ...]:
    """`module.function` for every function of `module` that imports a LAZY_TARGETS package."""
    path = _module_file(module)
    if path is None:
        return ()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    sites = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import | ast.ImportFrom) and any(
                name == target or name.startswith(target + ".")
                for name in _imported_names(node)
                for target in LAZY_TARGETS
            ):
                sites.append(f"{module}.{function.name}")
                break
    return tuple(sites)


def _own_modules(modules: list[str]) -> list[str]:
    return [name for name in modules if name.split(".")[0] in ("flowops", "functions")]


def _identifiers(tree: ast.AST) -> set[str]:
    """Names and attribute names mentioned anywhere in `tree` (calls, callbacks, decorators)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
    return names


@cache
def _references_by_function(module: str) -> dict[str, frozenset[str]]:
    """Every function of `module` (methods and nested ones too) -> the identifiers it mentions."""
    path = _module_file(module)
    if path is None:
        return {}
    references: dict[str, set[str]] = {}
    for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            references.setdefault(function.name, set()).update(_identifiers(function))
    return {name: frozenset(mentioned) for name, mentioned in references.items()}


def reachable_lazy_sites(handler_module: str, loaded_modules: list[str]) -> list[str]:
    """The lazy import sites the handler can reach from its `handler` function.

    A loaded module may hold a lazy import the handler never calls (every publish handler loads
    `flowops.publish.validate`, only Validate checks cycles). Reachability is by name over the
    functions of the loaded flowops/functions modules, starting from the handler's decorators and
    body: it over-approximates on name clashes, never misses a direct call chain.
    """
    own = _own_modules(loaded_modules)
    functions_named: dict[str, list[frozenset[str]]] = {}
    for module in own:
        for name, mentioned in _references_by_function(module).items():
            functions_named.setdefault(name, []).append(mentioned)
    sites = {site.rsplit(".", 1)[1]: site for module in own for site in lazy_import_sites(module)}
    root = _module_file(handler_module)
    if root is None:
        return []
    tree = ast.parse(root.read_text(encoding="utf-8"))
    pending = [
        identifier
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == "handler"
        for identifier in _identifiers(node)
    ]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for mentioned in functions_named.get(name, []):
            pending.extend(mentioned - seen)
    return sorted(site for name, site in sites.items() if name in seen)


def measure(module: str, samples: int) -> ModuleCost:
    # Each sample is one fresh interpreter: its wall time from outside, its init time and loaded
    # modules from inside (listing sys.modules after the import costs well under a millisecond).
    runs = [_run(["-c", _PROBE, module]) for _ in range(samples)]
    walls = [wall for wall, _, _ in runs]
    probes = [json.loads(stdout) for _, stdout, _ in runs]
    probe = probes[0]
    loaded = set(probe["modules"])
    lazy_sites = reachable_lazy_sites(module, probe["modules"])
    first_call = 0.0
    if lazy_sites:
        # A fresh interpreter again: the first call imports what the lazy sites import.
        lazy_probe = json.loads(_run(["-c", _PROBE, module, *LAZY_TARGETS])[1])
        first_call = sum(lazy_probe["lazy"].values())
    _, _, log = _run(["-c", f"import {module}"], importtime=True)
    return ModuleCost(
        module=module,
        wall_seconds=statistics.median(walls),
        init_seconds=statistics.median(sample["init"] for sample in probes),
        top_imports=top_level_imports(log),
        init_heavy=[package for package in HEAVY_PACKAGES if package in loaded],
        lazy_sites=lazy_sites,
        first_call_seconds=first_call,
    )


def format_report(costs: list[ModuleCost], bare: float, common: float, samples: int, top: int) -> str:
    header = (
        f"{'handler module':<38} {'wall ms':>8} {'over bare':>9} {'over stack':>10} {'init ms':>8} "
        f"{'1st call +ms':>12}  flags / heaviest imports (cumulative ms)"
    )
    lines = [
        f"## cold start: import + init of each handler module (median of {samples} fresh interpreters)",
        f"bare interpreter: {bare * 1000:.0f} ms  (python {sys.version.split()[0]}); common stack "
        f"(boto3, requests, pydantic, pydantic_settings, powertools): {common * 1000:.0f} ms",
        "",
        header,
        "-" * len(header),
    ]
    for cost in sorted(costs, key=lambda item: -item.wall_seconds):
        heaviest = ", ".join(f"{name} {seconds * 1000:.0f}" for name, seconds in cost.top_imports[:top])
        flags = "".join(f"[{flag}] " for flag in cost.flags)
        first_call = f"{cost.first_call_seconds * 1000:.0f}" if cost.lazy_sites else "-"
        lines.append(
            f"{cost.module:<38} {cost.wall_seconds * 1000:>8.0f} {(cost.wall_seconds - bare) * 1000:>9.0f} "
            f"{(cost.wall_seconds - common) * 1000:>10.0f} {cost.init_seconds * 1000:>8.0f} "
            f"{first_call:>12}  "
            f"{flags}{heaviest}"
        )
    lines.append("")
    lines.append(
        "over stack = wall minus the common stack's wall (what the handler adds to what every handler"
        "\nimports); init ms = the import timed inside the interpreter; 1st call +ms = imports a lazy"
        "\nsite adds on the handler's first call (networkx via flowops.graph); [pkg] = imported at init."
    )
    for package in FLAGGED_PACKAGES:
        at_init = [cost.module for cost in costs if package in cost.init_heavy]
        lines.append(
            f"\n{package}: imported at init by {len(at_init)} of {len(costs)} handlers"
            + (f": {', '.join(at_init)}" if 0 < len(at_init) < len(costs) else "")
        )
    lazy = [cost for cost in costs if cost.lazy_sites and "networkx" not in cost.init_heavy]
    if lazy:
        lines.append("networkx imported lazily on the first call (not at init) by:")
        for cost in lazy:
            first_call_ms = cost.first_call_seconds * 1000
            lines.append(f"  {cost.module:<36} +{first_call_ms:.0f} ms  via {', '.join(cost.lazy_sites)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[ModuleCost]:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=3, help="fresh interpreters per module (median)")
    parser.add_argument("--top", type=int, default=3, help="heaviest top-level imports listed per module")
    parser.add_argument("--modules", help="comma-separated handler modules (default: all under functions/)")
    arguments = parser.parse_args(argv)
    modules = arguments.modules.split(",") if arguments.modules else handler_modules()

    bare = statistics.median(_run(["-c", "pass"])[0] for _ in range(arguments.samples))
    common = statistics.median(_run(["-c", COMMON_STACK])[0] for _ in range(arguments.samples))
    costs = [measure(module, arguments.samples) for module in modules]
    print(format_report(costs, bare, common, arguments.samples, arguments.top))
    return costs


if __name__ == "__main__":
    main()
