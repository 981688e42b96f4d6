"""All benchmarks in their bounded default mode (`python -m bench`), or big sizes (`--full`).

python -m bench            # cold start (1 sample), graph 1k/10k, scan 1k + 5k, deployed scan 2k,
                           # scan vocabulary 500, publish 1 per job length + poller, campaign 20 runs
python -m bench --full     # cold start (3 samples), graph 1k/10k/100k, scan 1k/5k/20k, deployed scan
                           # 20k, publish 3 per job length + poller, campaign 200 runs

Each benchmark prints its own table; the machine is usually shared, so compare a number with the
baseline measured in the same run (bare interpreter, naive cycles, ideal poller, 300/min).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from bench import campaign, cold_start, graph, publish, scan, scan_deployed, scan_vocabulary


def _section(title: str, run: Callable[[], object], timings: list[tuple[str, float]]) -> object:
    print(f"\n===== {title} =====", flush=True)
    started = time.perf_counter()
    result = run()
    timings.append((title, time.perf_counter() - started))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="the big sizes (tens of minutes)")
    arguments = parser.parse_args(argv)
    full = arguments.full
    timings: list[tuple[str, float]] = []
    _section("cold start", lambda: cold_start.main(["--samples", "5" if full else "1"]), timings)
    graph_sizes = "1000,10000,100000" if full else "1000,10000"
    naive_budget = "10" if full else "5"
    _section("graph", lambda: graph.main(["--sizes", graph_sizes, "--naive-budget", naive_budget]), timings)
    _section("scan", lambda: scan.main(["--full"] if full else []), timings)
    # 2,000 flows = 10 pages of 200: the Map's four readers stay busy but for the last round.
    deployed = ["--flows", "20000", "--time-scale", "1", "--simulator-process", "--schedule", "memory"]
    _section(
        "deployed scan",
        lambda: scan_deployed.main(deployed if full else ["--flows", "2000", "--time-scale", "2"]),
        timings,
    )
    _section(
        "scan vocabulary",
        lambda: scan_vocabulary.main(["--sizes", "500,2000" if full else "500"]),
        timings,
    )
    # Per job length (5, 15, 45, 120 s) and poller (flowops, Terraform's 15 s).
    _section("publish", lambda: publish.main(["--publishes", "3" if full else "1"]), timings)
    status = _section(
        "fault campaign",
        lambda: campaign.main(["--runs", "200" if full else "20", "--seed", "1", "--quiet"]),
        timings,
    )
    print("\n===== wall time per benchmark =====")
    for title, seconds in timings:
        print(f"{title:<16} {seconds:7.0f} s")
    print(f"{'all':<16} {sum(seconds for _, seconds in timings):7.0f} s")
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    raise SystemExit(main())
