"""CLI start-up: wall time of `flowops --help` and `flowops <cmd> --help` against bare interpreters,
alternating in the same run.

    python -m bench.cli_startup                  # median of 5 per row
    python -m bench.cli_startup --samples 9 --commands lock,scan

Each row is a fresh process started from outside (what a user waits for); the rows alternate
sample by sample, so load on a shared machine spreads over all of them. Baselines of the same
run: `python -c pass` (the interpreter floor) and `python -c "import boto3"` (what any AWS tool
pays). `modules` is how many modules the command's interpreter holds when it exits (counted by a
`python -c` twin that runs the CLI in-process), and `heavy` the heavy packages among them.

On a shared machine the absolute times move from run to run; compare the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("boto3", "botocore", "moto", "networkx", "aws_cdk", "pydantic", "requests", "rich", "yaml")
DEFAULT_COMMANDS = ("scan", "lock", "graph", "publish", "runs", "doctor")

# Runs the CLI in-process on argv and prints what it imported (one line: count, heavy packages).
_COUNT = """
import sys
from typer.testing import CliRunner
from flowops.cli import app
CliRunner().invoke(app, sys.argv[1:])
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[0].split(",")))
print(len(sys.modules), ",".join(heavy) or "-")
"""


def _flowops() -> str:
    script = Path(sys.executable).with_name("flowops")
    return str(script) if script.exists() else "flowops"


def _time(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def _imports(arguments: list[str]) -> tuple[str, str]:
    answer = subprocess.run(
        [sys.executable, "-c", _COUNT.replace("sys.argv[0]", repr(",".join(HEAVY))), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    count, _, heavy = (answer.stdout.strip().splitlines() or [" "])[-1].partition(" ")
    return count or "?", heavy or "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cli_startup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--commands", default=",".join(DEFAULT_COMMANDS), help="comma-separated")
    arguments = parser.parse_args(argv)
    flowops = _flowops()
    rows: dict[str, list[str]] = {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import boto3"': [sys.executable, "-c", "import boto3"],
        'python -c "import typer"': [sys.executable, "-c", "import typer"],
        "flowops --help": [flowops, "--help"],
    }
    for command in filter(None, arguments.commands.split(",")):
        rows[f"flowops {command} --help"] = [flowops, command, "--help"]
    samples: dict[str, list[float]] = {label: [] for label in rows}
    for _ in range(arguments.samples):
        for label, command in rows.items():
            samples[label].append(_time(command))
    medians = {label: statistics.median(values) for label, values in samples.items()}
    floor, boto3 = medians["python -c pass"], medians['python -c "import boto3"']
    print(f"{'command':<32} {'median s':>9} {'x pass':>7} {'x boto3':>8} {'modules':>8}  heavy imports")
    for label, seconds in medians.items():
        count, heavy = _imports(rows[label][1:]) if label.startswith("flowops") else ("", "")
        print(f"{label:<32} {seconds:9.3f} {seconds / floor:7.1f} {seconds / boto3:8.2f} {count:>8}  {heavy}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
