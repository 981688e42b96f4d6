"""Cold start: each handler under `src/flowops/functions/` against the floor of a Python Lambda, same run.

    python -m bench.cold_start                 # 5 samples per side, median reported
    python -m bench.cold_start --samples 3 --modules flowops.functions.scan.check_index

Per handler module:

- ms: a fresh interpreter that imports the handler module (its imports, decorators and the objects
  it builds at import time), then creates the boto3 clients its calls create (found with `ast`
  over what the handler can reach: `aws_client("s3")`, `boto3.client(...)`, `SecretsProvider()`)
  and does the imports written inside the functions it can reach (`import yaml` in the YAML
  reader, the Genesys client's `requests`): timed from outside, what a Lambda cold start plus the
  first call's set-up pays. Deferring an import to the first call does not take it out of `ms`;
  only not needing it does. Graph imports (networkx) are the exception: see "lazy imports";
- floor ms: a fresh interpreter that imports only boto3 and creates the SAME clients (a minimal
  Python Lambda doing the same AWS calls); handler and floor samples alternate, median of
  `--samples` each; ratio = ms / floor. Target: at most 1.5x for every handler that builds no
  graph; graph steps (networkx at init or on a path their calls reach) are measured, not held
  to it;
- init-time heavy imports: which of networkx / aws_xray_sdk / yaml / ... are in `sys.modules`
  once the module is imported (read from the interpreter itself, not parsed from a log);
- lazy imports: imports of networkx or `flowops.graph` written INSIDE a function (found with
  `ast`) that the handler can reach (by name, over the modules it loaded). Those are paid on the
  handler's first call, not at init, and are reported apart (`1st call +ms`, measured in a fresh
  interpreter) rather than in `ms`: they mark the graph steps;
- `python -X importtime`: the heaviest top-level packages (cumulative), from one more run.

On a machine shared with other work the absolute times move from run to run; the ratios, taken
from alternating samples of the same run, are the numbers to compare.
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
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers"
SOURCE = ROOT / "src"  # flowops.functions (the function code asset), flowops.cli, flowops.local
OWN_PACKAGES = frozenset({"flowops", "encodings", "site"})
HEAVY_PACKAGES = ("networkx", "aws_xray_sdk", "yaml", "pydantic_settings", "requests", "boto3")
# Packages worth flagging: only handlers that need them should pay for them (shared local-aws.md).
FLAGGED_PACKAGES = ("networkx", "aws_xray_sdk")
LAZY_TARGETS = ("networkx", "flowops.graph")
# Function-level imports no measured call reaches: the bench runs with tracing off, and only
# `get_tracer` with tracing on imports the Tracer (and aws_xray_sdk). Reachability is by name and
# cannot see that `if`.
OFF_THE_MEASURED_PATH = frozenset({"flowops.observability.get_tracer"})
_ENV = {
    # What the Lambda environment gives every function; the handlers read settings per call.
    # Tracing is disabled as outside Lambda (powertools' Tracer is a no-op there); creating the
    # Tracer still imports aws_xray_sdk, which the init-time column shows.
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_SERVICE_NAME": "flowops",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "PYTHONPATH": os.pathsep.join([str(ROOT), str(SOURCE), str(LAYER)]),
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

# A cold start as Lambda pays it, timed from outside: import the handler module (argv[1]; empty for
# the floor), then create the boto3 clients its first call creates, as it does, and do the imports
# written inside the functions its calls reach (argv[2]: {"clients": [...], "imports": [[module,
# [names]], ...]}, each import as `from module import names` does it).
_COLD_START = """
import json, sys
if sys.argv[1]:
    __import__(sys.argv[1])
first_call = json.loads(sys.argv[2])
import boto3
for service in first_call["clients"]:
    boto3.client(service)
for module, names in first_call["imports"]:
    __import__(module, fromlist=names)
"""
RATIO_TARGET = 1.5  # every handler that builds no graph: at most 1.5x its floor (issue 13)


@dataclass
class ModuleCost:
    module: str
    wall_seconds: float
    init_seconds: float  # in-process import time (no interpreter start-up)
    top_imports: list[tuple[str, float]]  # (package, cumulative seconds) from -X importtime
    init_heavy: list[str]  # heavy packages in sys.modules after the import
    lazy_sites: list[str]  # "module.function" that import a LAZY_TARGETS package inside a function
    first_call_seconds: float  # extra import time those lazy sites add on the first call
    clients: list[str] = field(default_factory=list)  # AWS services its calls create clients for
    floor_seconds: float = 0.0  # import boto3 + the same clients, fresh interpreter, same run
    # Modules the functions its calls reach import inside them (not at init), charged in `ms`.
    first_call_imports: list[str] = field(default_factory=list)

    @property
    def graph_step(self) -> bool:
        """Builds a graph: networkx at init or on a path its calls reach (not held to the target)."""
        return "networkx" in self.init_heavy or bool(self.lazy_sites)

    @property
    def ratio(self) -> float:
        return self.wall_seconds / self.floor_seconds if self.floor_seconds else float("nan")

    @property
    def flags(self) -> list[str]:
        return [package for package in FLAGGED_PACKAGES if package in self.init_heavy]


def handler_modules() -> list[str]:
    modules = []
    for path in sorted((SOURCE / "flowops" / "functions").rglob("*.py")):
        if path.name.startswith("_") or path.name == "events.py":
            continue
        source = path.read_text(encoding="utf-8")
        if "def handler(" in source:
            modules.append(".".join(path.relative_to(SOURCE).with_suffix("").parts))
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
    for base in (LAYER, SOURCE, ROOT):
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


Import = tuple[str, tuple[str, ...]]  # `from module import names` (names empty: `import module`)


@cache
def function_imports(module: str) -> dict[str, frozenset[Import]]:
    """`module.function` -> the imports written inside that function (absolute imports only)."""
    path = _module_file(module)
    if path is None:
        return {}
    imports: dict[str, set[Import]] = {}
    for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import):
                found = {(alias.name, ()) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found = {(node.module, tuple(alias.name for alias in node.names))}
            else:
                continue
            imports.setdefault(f"{module}.{function.name}", set()).update(found)
    return {site: frozenset(found) for site, found in imports.items()}


def _own_modules(modules: list[str]) -> list[str]:
    return [name for name in modules if name.split(".")[0] == "flowops"]


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

    def visit(node: ast.AST, enclosing: frozenset[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                # A class named in a call reaches its methods (`LazyGenesysClient(...)` then its
                # `__getattr__`): the class stands for everything its methods mention.
                parameters = {
                    name
                    for method in ast.walk(child)
                    if isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef)
                    for name in _parameters(method)
                }
                references.setdefault(child.name, set()).update(_identifiers(child) - enclosing - parameters)
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                # Parameters of the function and of every function around it (closures) are
                # local values there, not the module-level functions of the same name.
                local = enclosing | _parameters(child)
                references.setdefault(child.name, set()).update(_identifiers(child) - local)
                visit(child, local)
            else:
                visit(child, enclosing)

    visit(ast.parse(path.read_text(encoding="utf-8")), frozenset())
    return {name: frozenset(mentioned) for name, mentioned in references.items()}


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """The function's own parameter names: inside it they are local values, not the module-level
    functions of the same name (a decorator's `handler` parameter is not every `handler`)."""
    arguments = function.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    every += [argument for argument in (arguments.vararg, arguments.kwarg) if argument is not None]
    return {argument.arg for argument in every}


# Constructors that create a boto3 client without naming the service at the call.
_CLIENT_CONSTRUCTORS = {"SecretsProvider": "secretsmanager"}


@cache
def _clients_by_function(module: str) -> dict[str, frozenset[str]]:
    """Every function of `module` -> the AWS services it creates a boto3 client for
    (`boto3.client("s3")`, `session.client("s3")`, `aws_client("s3")`, `SecretsProvider()`)."""
    path = _module_file(module)
    if path is None:
        return {}
    clients: dict[str, set[str]] = {}
    for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if callee in ("client", "aws_client") and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    clients.setdefault(function.name, set()).add(first.value)
            elif callee in _CLIENT_CONSTRUCTORS:
                clients.setdefault(function.name, set()).add(_CLIENT_CONSTRUCTORS[callee])
    return {name: frozenset(services) for name, services in clients.items()}


def _reachable_names(handler_module: str, loaded_modules: list[str]) -> set[str]:
    """Names of the functions (of loaded flowops/functions modules) the handler can reach from its
    `handler` function, by name: over-approximates on name clashes, never misses a direct chain."""
    functions_named: dict[str, list[frozenset[str]]] = {}
    for module in _own_modules(loaded_modules):
        for name, mentioned in _references_by_function(module).items():
            functions_named.setdefault(name, []).append(mentioned)
    root = _module_file(handler_module)
    if root is None:
        return set()
    tree = ast.parse(root.read_text(encoding="utf-8"))
    # Every function of the handler module is a root: `handler` and what it dispatches to without
    # naming it (an API resolver's routes).
    pending = [
        identifier
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
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
    return seen


def first_call_clients(handler_module: str, loaded_modules: list[str]) -> list[str]:
    """The AWS services whose boto3 clients the handler's calls can create (reachable by name).

    An over-approximation costs nothing in the ratio: the floor creates the same clients."""
    seen = _reachable_names(handler_module, loaded_modules)
    services: set[str] = set()
    for module in [*_own_modules(loaded_modules), handler_module]:
        for name, created in _clients_by_function(module).items():
            if name in seen:
                services |= created
    return sorted(services)


def reachable_lazy_sites(handler_module: str, loaded_modules: list[str]) -> list[str]:
    """The lazy import sites the handler can reach from its `handler` function.

    A loaded module may hold a lazy import the handler never calls (every publish handler loads
    `flowops.publish.validate`, only Validate checks cycles). Reachability is by name over the
    functions of the loaded flowops/functions modules, starting from the handler's decorators and
    body: it over-approximates on name clashes, never misses a direct call chain.
    """
    own = _own_modules(loaded_modules)
    sites = {site.rsplit(".", 1)[1]: site for module in own for site in lazy_import_sites(module)}
    seen = _reachable_names(handler_module, loaded_modules)
    return sorted(site for name, site in sites.items() if name in seen)


def first_call_imports(handler_module: str, loaded_modules: list[str]) -> list[Import]:
    """The imports written inside the functions the handler can reach (by name), graph imports
    and the sites in OFF_THE_MEASURED_PATH aside: what its first call imports beyond its init."""
    seen = _reachable_names(handler_module, loaded_modules)
    found: set[Import] = set()
    for module in [*_own_modules(loaded_modules), handler_module]:
        for site, imports in function_imports(module).items():
            if site.rsplit(".", 1)[1] not in seen or site in OFF_THE_MEASURED_PATH:
                continue
            found |= {
                (name, names)
                for name, names in imports
                if not any(name == target or name.startswith(target + ".") for target in LAZY_TARGETS)
            }
    return sorted(found)


def measure(module: str, samples: int) -> ModuleCost:
    # One fresh interpreter first: what the handler loads, hence which clients its calls create.
    probe = json.loads(_run(["-c", _PROBE, module])[1])
    loaded = set(probe["modules"])
    clients = first_call_clients(module, probe["modules"])
    imports = first_call_imports(module, probe["modules"])
    handler_side = json.dumps({"clients": clients, "imports": imports})
    floor_side = json.dumps({"clients": clients, "imports": []})
    # Then `samples` pairs, handler and floor alternating so that a load spike on the shared
    # machine hits both sides alike: each a fresh interpreter timed from outside (start-up,
    # imports, module-level init, the boto3 clients and the function-level imports of the first call).
    walls, floors = [], []
    for _ in range(samples):
        walls.append(_run(["-c", _COLD_START, module, handler_side])[0])
        floors.append(_run(["-c", _COLD_START, "", floor_side])[0])
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
        init_seconds=probe["init"],
        top_imports=top_level_imports(log),
        init_heavy=[package for package in HEAVY_PACKAGES if package in loaded],
        lazy_sites=lazy_sites,
        first_call_seconds=first_call,
        clients=clients,
        floor_seconds=statistics.median(floors),
        first_call_imports=_packages_first_call_adds(module, imports, loaded) if imports else [],
    )


# Run in a fresh interpreter: the handler module (argv[1]), then its first call's function-level
# imports (argv[2]); print the top-level packages those imports loaded first.
_FIRST_CALL_PROBE = """
import json, sys
__import__(sys.argv[1])
before = {name.split(".")[0] for name in sys.modules}
for module, names in json.loads(sys.argv[2]):
    __import__(module, fromlist=names)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules} - before)))
"""


def _packages_first_call_adds(module: str, imports: list[Import], loaded: set[str]) -> list[str]:
    added = json.loads(_run(["-c", _FIRST_CALL_PROBE, module, json.dumps(imports)])[1])
    return [package for package in added if package not in OWN_PACKAGES and not package.startswith("_")]


def format_report(costs: list[ModuleCost], samples: int, top: int) -> str:
    header = (
        f"{'handler module':<38} {'ms':>6} {'floor ms':>8} {'ratio':>6} {'1st call +ms':>12}  "
        "clients | flags / heaviest imports (cumulative ms)"
    )
    lines = [
        "## cold start per handler: interpreter + import + init + the boto3 clients its calls create",
        "## + the imports inside the functions its calls reach (graph imports aside: 1st call +ms),",
        "## against the floor (a handler importing only boto3 and creating the same clients);",
        f"## median of {samples} fresh interpreters each, alternating, same run "
        f"(python {sys.version.split()[0]})",
        "",
        header,
        "-" * len(header),
    ]
    for cost in sorted(costs, key=lambda item: -item.ratio):
        heaviest = ", ".join(f"{name} {seconds * 1000:.0f}" for name, seconds in cost.top_imports[:top])
        flags = "".join(f"[{flag}] " for flag in cost.flags)
        if cost.first_call_imports:
            flags += f"(1st call imports {', '.join(cost.first_call_imports)}) "
        first_call = f"{cost.first_call_seconds * 1000:.0f}" if cost.lazy_sites else "-"
        lines.append(
            f"{cost.module:<38} {cost.wall_seconds * 1000:>6.0f} {cost.floor_seconds * 1000:>8.0f} "
            f"{cost.ratio:>5.2f}x {first_call:>12}  {','.join(cost.clients) or '-'} | {flags}{heaviest}"
        )
    lines.append("")
    lines.append(
        "ratio = handler / floor; 1st call +ms = imports a lazy site adds on the handler's first call"
        "\n(networkx via flowops.graph); [pkg] = imported at init; (1st call imports ...) = third-party"
        "\npackages the functions its calls reach import inside them, included in ms."
    )
    graph_free = [cost for cost in costs if not cost.graph_step]
    if graph_free:
        worst = max(graph_free, key=lambda item: item.ratio)
        over = [cost.module for cost in graph_free if cost.ratio > RATIO_TARGET]
        lines.append(
            f"\nhandlers that build no graph: worst ratio {worst.ratio:.2f}x ({worst.module}); "
            f"{len(over)} of {len(graph_free)} over the {RATIO_TARGET}x target"
            + (f": {', '.join(over)}" if over else "")
        )
    graph_steps = [cost for cost in costs if cost.graph_step]
    if graph_steps:
        lines.append(
            "graph steps (measured, not held to the target): "
            + ", ".join(f"{cost.module} {cost.ratio:.2f}x" for cost in graph_steps)
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
    parser.add_argument(
        "--samples", type=int, default=5, help="fresh interpreters per side and module (median)"
    )
    parser.add_argument("--top", type=int, default=3, help="heaviest top-level imports listed per module")
    parser.add_argument(
        "--modules", help="comma-separated handler modules (default: all under src/flowops/functions/)"
    )
    arguments = parser.parse_args(argv)
    modules = arguments.modules.split(",") if arguments.modules else handler_modules()
    costs = [measure(module, arguments.samples) for module in modules]
    print(format_report(costs, arguments.samples, arguments.top))
    return costs


if __name__ == "__main__":
    main()
