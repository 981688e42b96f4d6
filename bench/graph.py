"""Graph analysis at scale, beside the naive approach.

    python -m bench.graph [--sizes 1000,10000,100000] [--naive-budget 10] [--seed 7]

For each size, a random lock-shaped org is generated (flows consuming queues, data actions,
prompts and common modules; flows transferring to flows, which is where cycles come from) and
two ways of finding its cycles are measured on the same graph:

- ``analyze``: flowops' linear pass (SCCs + one witness each, waves, problems), including
  ``build_graph``;
- naive: enumerating every simple cycle with ``nx.simple_cycles``, which is exponential in
  the worst case. It runs until it finishes or its time budget runs out, and then reports
  ``> budget`` with the number of cycles it had enumerated by then. This is a straw man, shown
  only because it is what people reach for first;
- the fair peers, doing the same job as ``find_cycles`` (every cyclic SCC with one witness
  cycle) on the same graph: networkx's straightforward approach
  (``nx.strongly_connected_components`` + ``nx.find_cycle`` per cyclic component) and the
  compiled rustworkx (``strongly_connected_components`` + ``digraph_find_cycle``; its graph is
  built outside the timing). ``find_cycles`` is itself networkx SCCs plus a shortest witness
  by BFS, so it should be close to the networkx peer and slower than the compiled one.

Wall time is measured without tracing; peak memory is measured in a second run under
``tracemalloc`` (tracing slows Python down, so it never touches the timings).
"""

from __future__ import annotations

import argparse
import gc
import random
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import networkx as nx

from flowops.graph import analyze, build_graph, find_cycles
from flowops.lock import LockedDependency, LockedFlow, LockedObject, Lockfile

FLOW_SHARE = 0.4
MODULE_SHARE_OF_FLOWS = 0.1
OBJECT_TYPES = ("QUEUE", "DATAACTION", "USERPROMPT", "SCHEDULE", "DATATABLE")


def generate_lock(nodes: int, *, seed: int, transfers_per_flow: float) -> Lockfile:
    """A random org of about ``nodes`` graph nodes: 40 % flows (a tenth of them common modules),
    60 % other objects. Each flow consumes 1 to 4 objects, maybe a module, and transfers to a
    Poisson(``transfers_per_flow``) number of other flows."""
    rng = random.Random(seed)
    flow_count = max(2, int(nodes * FLOW_SHARE))
    module_count = max(1, int(flow_count * MODULE_SHARE_OF_FLOWS))
    object_count = max(1, nodes - flow_count)
    objects = [
        LockedObject(
            id=f"o{index}", name=f"Object {index}", type=OBJECT_TYPES[index % len(OBJECT_TYPES)], version="1"
        )
        for index in range(object_count)
    ]
    module_ids = [f"f{index}" for index in range(module_count)]
    flows = []
    for index in range(flow_count):
        is_module = index < module_count
        consumes = [
            LockedDependency(id=locked.id, type=locked.type, name=locked.name, version="1")
            for locked in rng.sample(objects, k=min(len(objects), rng.randint(1, 4)))
        ]
        if not is_module and rng.random() < 0.5:
            module_id = rng.choice(module_ids)
            consumes.append(LockedDependency(id=module_id, type="COMMONMODULEFLOW", version="1.0"))
        for _ in range(_poisson(rng, transfers_per_flow)):
            target = rng.randrange(module_count, flow_count)
            consumes.append(LockedDependency(id=f"f{target}", type="INBOUNDCALLFLOW", version="1.0"))
        flows.append(
            LockedFlow(
                id=f"f{index}",
                name=f"Flow {index}",
                type="COMMONMODULE" if is_module else "INBOUNDCALL",
                published_version="1.0",
                consumes=_unique(consumes),
            )
        )
    return Lockfile(org=f"bench-{nodes}", flows=flows, objects=objects)


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: fine for the small means used here.
    threshold, count, product = pow(2.718281828459045, -mean), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def _unique(dependencies: list[LockedDependency]) -> list[LockedDependency]:
    return list({dependency.key: dependency for dependency in dependencies}.values())


@dataclass
class NaiveResult:
    seconds: float
    cycles: int
    finished: bool


def enumerate_simple_cycles(graph: nx.DiGraph, budget_seconds: float) -> NaiveResult:
    """The naive approach: list every simple cycle, stopping when the budget is spent."""
    started = time.perf_counter()
    cycles = 0
    for _ in nx.simple_cycles(graph):
        cycles += 1
        if cycles % 256 == 0 and time.perf_counter() - started > budget_seconds:
            return NaiveResult(time.perf_counter() - started, cycles, finished=False)
    return NaiveResult(time.perf_counter() - started, cycles, finished=True)


def peak_memory_bytes(work: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def networkx_peer(graph: nx.DiGraph) -> int:
    """Cyclic SCCs with one witness each, the way networkx's own functions do it."""
    found = 0
    for component in nx.strongly_connected_components(graph):
        if len(component) == 1:
            (node,) = component
            if not graph.has_edge(node, node):
                continue
        nx.find_cycle(graph.subgraph(component))
        found += 1
    return found


def rustworkx_graph(graph: nx.DiGraph) -> Any:
    import rustworkx

    compiled = rustworkx.PyDiGraph()
    index = {node: compiled.add_node(node) for node in graph.nodes}
    compiled.add_edges_from_no_data([(index[source], index[target]) for source, target in graph.edges])
    return compiled


def rustworkx_peer(compiled: Any) -> int:
    """The same job in rustworkx (compiled Rust)."""
    import rustworkx

    found = 0
    for component in rustworkx.strongly_connected_components(compiled):
        if len(component) == 1 and not compiled.has_edge(component[0], component[0]):
            continue
        sub = compiled.subgraph(component)
        rustworkx.digraph_find_cycle(sub, 0)
        found += 1
    return found


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


@dataclass
class Row:
    nodes: int
    edges: int
    cyclic_components: int
    analyze_seconds: float
    cycles_seconds: float
    analyze_peak: int
    naive: NaiveResult
    naive_peak: int
    networkx_seconds: float
    rustworkx_seconds: float | None


def measure(size: int, *, seed: int, budget: float, transfers_per_flow: float) -> Row:
    lock = generate_lock(size, seed=seed, transfers_per_flow=transfers_per_flow)
    started = time.perf_counter()
    report = analyze(lock)
    analyze_seconds = time.perf_counter() - started
    analyze_peak = peak_memory_bytes(lambda: analyze(lock))

    graph = build_graph(lock)
    started = time.perf_counter()
    find_cycles(graph)
    cycles_seconds = time.perf_counter() - started
    naive = enumerate_simple_cycles(graph, budget)
    naive_peak = peak_memory_bytes(lambda: enumerate_simple_cycles(graph, budget))
    networkx_seconds = _timed(lambda: networkx_peer(graph))
    try:
        compiled = rustworkx_graph(graph)
    except ImportError:  # a dev/bench dependency; the table says when it is absent
        rustworkx_seconds = None
    else:
        rustworkx_seconds = _timed(lambda: rustworkx_peer(compiled))
    return Row(
        nodes=report.counts.nodes,
        edges=report.counts.edges,
        cyclic_components=len(report.cycles),
        analyze_seconds=analyze_seconds,
        cycles_seconds=cycles_seconds,
        analyze_peak=analyze_peak,
        naive=naive,
        naive_peak=naive_peak,
        networkx_seconds=networkx_seconds,
        rustworkx_seconds=rustworkx_seconds,
    )


def _mib(count: int) -> str:
    return f"{count / 2**20:.1f}"


def format_table(rows: list[Row], budget: float) -> str:
    header = (
        f"{'nodes':>8} {'edges':>8} {'SCCs':>5} | {'analyze s':>9} {'SCC s':>6} {'peak MiB':>8} | "
        f"{'naive s':>10} {'cycles found':>13} {'peak MiB':>8} | {'naive/analyze':>13} {'naive/SCC':>9} "
        f"{'mem ratio':>9} | {'nx peer s':>9} {'SCC/nx':>6} {'rx peer s':>9} {'SCC/rx':>7}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        naive_time = f"{row.naive.seconds:.2f}" if row.naive.finished else f"> {budget:g}"
        cycles = f"{row.naive.cycles}" if row.naive.finished else f"{row.naive.cycles}+"
        bound = "" if row.naive.finished else "> "
        time_ratio = f"{bound}{row.naive.seconds / max(row.analyze_seconds, 1e-9):.1f}x"
        scc_ratio = f"{bound}{row.naive.seconds / max(row.cycles_seconds, 1e-9):.1f}x"
        memory_ratio = f"{row.naive_peak / max(row.analyze_peak, 1):.2f}x"
        lines.append(
            f"{row.nodes:>8} {row.edges:>8} {row.cyclic_components:>5} | {row.analyze_seconds:>9.3f} "
            f"{row.cycles_seconds:>6.3f} {_mib(row.analyze_peak):>8} | {naive_time:>10} {cycles:>13} "
            f"{_mib(row.naive_peak):>8} | {time_ratio:>13} {scc_ratio:>9} {memory_ratio:>9} | "
            f"{row.networkx_seconds:>9.3f} {row.cycles_seconds / max(row.networkx_seconds, 1e-9):>5.2f}x "
            + (
                f"{row.rustworkx_seconds:>9.4f} "
                f"{row.cycles_seconds / max(row.rustworkx_seconds, 1e-9):>6.1f}x"
                if row.rustworkx_seconds is not None
                else f"{'absent':>9} {'—':>7}"
            )
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.graph", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated node counts")
    parser.add_argument("--naive-budget", type=float, default=10.0, help="seconds per size for simple_cycles")
    parser.add_argument("--transfers-per-flow", type=float, default=1.2, help="mean flow→flow transfers")
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args(argv)
    sizes = [int(size) for size in arguments.sizes.split(",") if size.strip()]

    rows = []
    for size in sizes:
        print(f"measuring {size} nodes ...", flush=True)
        rows.append(
            measure(
                size,
                seed=arguments.seed,
                budget=arguments.naive_budget,
                transfers_per_flow=arguments.transfers_per_flow,
            )
        )
    print()
    print(format_table(rows, arguments.naive_budget))
    print(
        "\nanalyze = build_graph + SCC cycles with witnesses + waves + problems + lock hash (linear);"
        "\nSCC = find_cycles alone on the built graph (the like-for-like part);"
        "\nnx peer / rx peer = the same job with networkx's own functions / compiled rustworkx;"
        "\nSCC/nx, SCC/rx = find_cycles time over the peer's (above 1x: the peer is faster);"
        "\nnaive = nx.simple_cycles enumeration on the built graph, cut at the budget ('> budget')."
        "\nPeak memory from tracemalloc over analyze and over the naive run (it streams cycles, so"
        "\nits memory stays low while its time grows with the number of cycles, exponential at worst)."
    )


if __name__ == "__main__":
    main()
