"""Cold start: import + init time of every handler module under `functions/`, each in a fresh
interpreter, against a bare interpreter measured in the same run.

    python -m bench.cold_start                 # 3 samples per module, median reported
    python -m bench.cold_start --samples 5 --top 3

For each module a new `python -X importtime -c "import <module>"` is started (what a Lambda cold
start pays for the handler's module, its decorators and the objects it builds at import time).
Wall time is measured around the subprocess; the bare baseline is `python -c "pass"` measured
the same way, so the reported "over bare" column is what the handler itself costs on this
machine. `-X importtime` gives each imported package's cumulative time: the heaviest top-level
imports are listed per handler, and packages known to be heavy (networkx, aws_xray_sdk, yaml)
are flagged where they appear.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OWN_PACKAGES = frozenset({"functions", "flowops", "encodings", "site"})
HEAVY_PACKAGES = ("networkx", "aws_xray_sdk", "yaml", "pydantic_settings", "requests", "boto3")
_ENV = {
    # What the Lambda environment gives every function; the handlers read settings per call.
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_SERVICE_NAME": "flowops",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers")]),
}


@dataclass
class ModuleCost:
    module: str
    wall_seconds: float
    top_imports: list[tuple[str, float]]  # (package, cumulative seconds)

    @property
    def heavy(self) -> list[str]:
        names = {name for name, _ in self.top_imports}
        return [package for package in HEAVY_PACKAGES if package in names]


def handler_modules() -> list[str]:
    modules = []
    for path in sorted((ROOT / "functions").rglob("*.py")):
        if path.name.startswith("_") or path.name == "events.py":
            continue
        source = path.read_text(encoding="utf-8")
        if "def handler(" in source:
            modules.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return modules


def _run(code: str, importtime: bool) -> tuple[float, str]:
    command = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", code]
    started = time.perf_counter()
    completed = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **_ENV}, cwd=ROOT, check=False
    )
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"{code!r} failed: {completed.stderr[-2000:]}")
    return elapsed, completed.stderr


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


def measure(module: str, samples: int) -> ModuleCost:
    walls = [_run(f"import {module}", importtime=False)[0] for _ in range(samples)]
    _, log = _run(f"import {module}", importtime=True)
    return ModuleCost(module, statistics.median(walls), top_level_imports(log))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=3, help="fresh interpreters per module (median)")
    parser.add_argument("--top", type=int, default=3, help="heaviest top-level imports listed per module")
    arguments = parser.parse_args(argv)

    bare = statistics.median(_run("pass", importtime=False)[0] for _ in range(arguments.samples))
    costs = [measure(module, arguments.samples) for module in handler_modules()]
    print(
        f"## cold start: import + init of each handler module "
        f"(median of {arguments.samples} fresh interpreters)"
    )
    print(f"bare interpreter: {bare * 1000:.0f} ms  (python {sys.version.split()[0]})\n")
    header = (
        f"{'handler module':<38} {'wall ms':>8} {'over bare':>9} {'x bare':>7}  "
        "heaviest imports (cumulative ms)"
    )
    print(header)
    print("-" * len(header))
    for cost in sorted(costs, key=lambda item: -item.wall_seconds):
        heaviest = ", ".join(
            f"{name} {seconds * 1000:.0f}" for name, seconds in cost.top_imports[: arguments.top]
        )
        flag = f"  [heavy: {', '.join(cost.heavy)}]" if "networkx" in cost.heavy else ""
        print(
            f"{cost.module:<38} {cost.wall_seconds * 1000:>8.0f} {(cost.wall_seconds - bare) * 1000:>9.0f} "
            f"{cost.wall_seconds / bare:>7.1f}  {heaviest}{flag}"
        )
    with_networkx = [cost.module for cost in costs if "networkx" in cost.heavy]
    print(
        f"\n{len(with_networkx)} of {len(costs)} handlers import networkx (graph work): "
        + (", ".join(with_networkx) or "none")
    )


if __name__ == "__main__":
    main()
