"""All benchmarks in their bounded default mode (`python -m bench`), or big sizes (`--full`).

python -m bench            # cold start, graph 1k/10k, scan 1k ratio + 5k org, campaign 30 runs
python -m bench --full     # graph 1k/10k/100k, scan 20k org, campaign 200 runs
"""

from __future__ import annotations

import argparse
import time

from bench import campaign, cold_start, graph, scan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="the big sizes (tens of minutes)")
    arguments = parser.parse_args(argv)
    started = time.perf_counter()
    cold_start.main(["--samples", "3"])
    print()
    graph.main(["--sizes", "1000,10000,100000" if arguments.full else "1000,10000", "--naive-budget", "10"])
    print()
    scan.main(["--flows", "20000" if arguments.full else "5000", "--ratio-flows", "1000"])
    print()
    status = campaign.main(["--runs", "200" if arguments.full else "30", "--seed", "1", "--quiet"])
    print(f"\nall benchmarks: {time.perf_counter() - started:.0f} s")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
