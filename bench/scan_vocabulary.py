"""Platform vocabulary in the lock: today's behaviour (every consumed-resource type kept) against
the filtered scan (`resourceType=` without FLOWACTION, FLOWDATATYPE, LANGUAGE, TTSENGINE, TTSVOICE,
STTENGINE), in the same run, on the same simulated org.

    python -m bench.scan_vocabulary                 # 500 and 2,000 flows
    python -m bench.scan_vocabulary --sizes 200

The simulator answers consumedresources as a real org does: ~55 vocabulary rows for a call flow
(~30 for a digital one) beside the flow's real dependencies. Both scans are FULL scans through the
scan's core steps with one client (one token); reported per size: lock bytes (the canonical body
stored in S3), graph nodes and edges, API calls per flow and bytes received per flow, and the
filtered/unfiltered ratios. Generated orgs average ~5 real dependencies per flow (a real call flow
has ~20), so the lock-size ratio here is an upper bound of the saving on a real org's call flows
and a fair picture of its digital ones.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from bench.scan import MemoryArtifacts, MemoryPointers, run_scan, start
from flowops.scan.genesys_source import GenesysScanSource

DEFAULT_SIZES = (500, 2_000)


@dataclass(frozen=True)
class VocabularyScan:
    kind: str  # unfiltered | filtered
    flows: int
    lock_bytes: int
    nodes: int
    edges: int
    api_calls: int
    bytes_received: int

    @property
    def calls_per_flow(self) -> float:
        return self.api_calls / max(self.flows, 1)

    @property
    def kilobytes_per_flow(self) -> float:
        return self.bytes_received / 1024 / max(self.flows, 1)


@dataclass(frozen=True)
class VocabularyResult:
    flows: int
    unfiltered: VocabularyScan
    filtered: VocabularyScan

    @property
    def lock_ratio(self) -> float:
        return self.filtered.lock_bytes / self.unfiltered.lock_bytes

    @property
    def call_ratio(self) -> float:
        return self.filtered.api_calls / self.unfiltered.api_calls

    @property
    def bytes_ratio(self) -> float:
        return self.filtered.bytes_received / self.unfiltered.bytes_received

    @property
    def edge_ratio(self) -> float:
        return self.filtered.edges / self.unfiltered.edges


def bench_size(flows: int, time_scale: float, seed: int = 1) -> VocabularyResult:
    sim, clock, client, statuses = start(flows, seed=seed, time_scale=time_scale)
    scans = []
    try:
        source = GenesysScanSource(client)
        for kind, vocabulary in (("unfiltered", True), ("filtered", False)):
            before = statuses.bytes_received
            # Separate stores: each is a first, full scan of the org.
            result = run_scan(
                source, MemoryArtifacts(), MemoryPointers(), kind, True, clock, include_vocabulary=vocabulary
            )
            scans.append(
                VocabularyScan(
                    kind=kind,
                    flows=flows,
                    lock_bytes=result["lock_bytes"],
                    nodes=result["nodes"],
                    edges=result["edges"],
                    api_calls=result["api_calls"],
                    bytes_received=statuses.bytes_received - before,
                )
            )
    finally:
        sim.stop()
    return VocabularyResult(flows=flows, unfiltered=scans[0], filtered=scans[1])


def format_table(results: list[VocabularyResult]) -> str:
    header = (
        f"{'flows':>6} {'scan':<11} {'lock KB':>9} {'nodes':>7} {'edges':>8} "
        f"{'calls/flow':>10} {'KB recv/flow':>12}"
    )
    lines = [header, "-" * len(header)]
    for result in results:
        for scan in (result.unfiltered, result.filtered):
            lines.append(
                f"{scan.flows:>6} {scan.kind:<11} {scan.lock_bytes / 1024:>9.1f} {scan.nodes:>7} "
                f"{scan.edges:>8} {scan.calls_per_flow:>10.2f} {scan.kilobytes_per_flow:>12.1f}"
            )
    lines.append("")
    ratio_header = f"{'flows':>6} {'lock bytes':>11} {'edges':>7} {'API calls':>10} {'bytes received':>15}"
    lines += ["filtered / unfiltered (same run)", ratio_header, "-" * len(ratio_header)]
    for result in results:
        lines.append(
            f"{result.flows:>6} {result.lock_ratio:>11.3f} {result.edge_ratio:>7.3f} "
            f"{result.call_ratio:>10.3f} {result.bytes_ratio:>15.3f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[VocabularyResult]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scan_vocabulary",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", help="comma-separated org sizes in flows (default 500,2000)")
    parser.add_argument("--time-scale", type=float, default=60.0, help="simulated seconds per real second")
    args = parser.parse_args(argv)
    sizes = (
        [int(size) for size in args.sizes.split(",") if size.strip()] if args.sizes else list(DEFAULT_SIZES)
    )
    started = time.perf_counter()
    results = []
    for size in sizes:
        print(f"scanning a {size}-flow org with and without platform vocabulary ...", flush=True)
        results.append(bench_size(size, args.time_scale))
    print("\n## platform vocabulary: every type kept (today) vs resourceType-filtered")
    print(format_table(results))
    print(f"wall time {time.perf_counter() - started:.0f} s")
    return results


if __name__ == "__main__":
    main()
