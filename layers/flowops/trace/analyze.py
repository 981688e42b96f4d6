"""Aggregate parsed runs into a `TraceReport`.

Definitions (the tests compute each of them independently):
- Percentiles are NEAREST-RANK: for n sorted samples x_1..x_n, the p-th percentile is
  x_k with k = ceil(p * n / 100) (k = 1 for p = 0). It is always an observed value.
- Latency samples are the durations of action executions; unknown durations are counted apart
  (`ActionLatency.unknown`) and never enter a percentile as zero. End markers (`endedFlow`, ...)
  are instants, not work, and are left out of latency and critical paths.
- Critical path of one run: nodes are the run's distinct steps (actionId, or the event kind for
  lifecycle events such as `startedFlow`), weighted by the total known time spent in them;
  edges are the transitions taken. A flow that loops revisits a step; the visit order of first
  occurrences is a topological order once the edges pointing back to an earlier step are
  dropped, so the graph is a DAG, a loop's time stays in the weights of the steps it repeats,
  and the longest weighted path is found by dynamic programming over that order. For a run
  without loops it is the whole executed sequence; with loops it picks the heavier branch.
- Error correlation: a failing run has an error on an event or a flow-level error. Its location
  is the first failing event (step + output path taken). Runs are grouped by error reason.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import pairwise

from flowops.trace.event_kinds import END_MARKER_KINDS
from flowops.trace.models import (
    ActionExecution,
    ActionLatency,
    AnomalyKind,
    Bottleneck,
    Coverage,
    CriticalPath,
    ErrorCorrelation,
    ErrorLocation,
    Gap,
    ParsedRun,
    ParseFailure,
    TraceReport,
)


def nearest_rank_percentile(values: Sequence[float], percent: float) -> float:
    """Nearest-rank percentile of `values` (any order); `percent` in [0, 100]."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= percent <= 100:
        raise ValueError(f"percent must be within [0, 100], got {percent}")
    ordered = sorted(values)
    # ceil without floats drifting: p * n / 100 can land a hair above an integer.
    product = round(percent * len(ordered), 9)
    rank = max(1, -(-product // 100))
    return ordered[int(rank) - 1]


def timed_steps(run: ParsedRun) -> list[ActionExecution]:
    """The run's nodes that represent work (end markers dropped)."""
    return [node for node in run.actions if node.kind not in END_MARKER_KINDS]


def critical_path_of(run: ParsedRun) -> tuple[list[str], float, bool]:
    """(step keys, weight in ms, whether any step on it had an unknown duration)."""
    steps = timed_steps(run)
    if not steps:
        return [], 0.0, False
    first_visit: dict[str, int] = {}
    weight: dict[str, float] = defaultdict(float)
    unknown: set[str] = set()
    for node in steps:
        key = node.step_key
        first_visit.setdefault(key, len(first_visit))
        if node.duration_ms is None:
            unknown.add(key)
        else:
            weight[key] += node.duration_ms
    predecessors: dict[str, set[str]] = defaultdict(set)
    for before, after in pairwise(steps):
        source, target = before.step_key, after.step_key
        # Edges back to an earlier (or the same) step close a loop: dropping them leaves a DAG.
        if first_visit[source] < first_visit[target]:
            predecessors[target].add(source)
    best: dict[str, float] = {}
    came_from: dict[str, str | None] = {}
    for key in sorted(first_visit, key=first_visit.__getitem__):
        incoming = max(predecessors[key], key=lambda p: (best[p], -first_visit[p]), default=None)
        best[key] = weight[key] + (best[incoming] if incoming is not None else 0.0)
        came_from[key] = incoming
    end = max(best, key=lambda k: (best[k], -first_visit[k]))
    path: list[str] = []
    cursor: str | None = end
    while cursor is not None:
        path.append(cursor)
        cursor = came_from[cursor]
    path.reverse()
    return path, best[end], any(key in unknown for key in path)


def analyze_runs(runs: Iterable[ParsedRun | ParseFailure], *, top: int = 10) -> TraceReport:
    parsed: list[ParsedRun] = []
    failures: list[ParseFailure] = []
    for run in runs:
        if isinstance(run, ParsedRun):
            parsed.append(run)
        else:
            failures.append(run)

    latencies = _latencies(parsed)
    by_total, by_p95 = _bottlenecks(latencies, top)
    failing = [run for run in parsed if run.failed]
    timed_runs = [run for run in parsed if run.total_ms is not None]
    return TraceReport(
        runs_analyzed=len(parsed),
        failing_runs=len(failing),
        actions=latencies,
        bottlenecks_by_total=by_total,
        bottlenecks_by_p95=by_p95,
        critical_path=_most_common_critical_path(parsed),
        errors=_error_correlations(failing, len(parsed)),
        coverage=_coverage(parsed, failures),
        gaps=_gaps(parsed, failures),
        slowest_run=max(timed_runs, key=lambda r: r.total_ms or 0.0) if timed_runs else None,
    )


def _latencies(parsed: list[ParsedRun]) -> list[ActionLatency]:
    samples: dict[str, list[float]] = defaultdict(list)
    unknown: Counter[str] = Counter()
    executions: Counter[str] = Counter()
    names: dict[str, Counter[str]] = defaultdict(Counter)
    kinds: dict[str, str] = {}
    for run in parsed:
        for node in timed_steps(run):
            key = node.step_key
            executions[key] += 1
            names[key][node.label] += 1
            kinds.setdefault(key, node.kind)
            if node.duration_ms is None:
                unknown[key] += 1
            else:
                samples[key].append(node.duration_ms)
    latencies = []
    for key in sorted(executions):
        values = samples.get(key, [])
        latencies.append(
            ActionLatency(
                step_key=key,
                label=names[key].most_common(1)[0][0],
                kind=kinds[key],
                executions=executions[key],
                timed=len(values),
                unknown=unknown[key],
                p50_ms=nearest_rank_percentile(values, 50) if values else None,
                p95_ms=nearest_rank_percentile(values, 95) if values else None,
                max_ms=max(values) if values else None,
                total_ms=sum(values),
            )
        )
    return latencies


def _bottlenecks(latencies: list[ActionLatency], top: int) -> tuple[list[Bottleneck], list[Bottleneck]]:
    grand_total = sum(entry.total_ms for entry in latencies)

    def ranked(entries: list[ActionLatency]) -> list[Bottleneck]:
        return [
            Bottleneck(
                rank=position,
                step_key=entry.step_key,
                label=entry.label,
                total_ms=entry.total_ms,
                share_of_time=entry.total_ms / grand_total if grand_total > 0 else 0.0,
                p95_ms=entry.p95_ms,
                executions=entry.executions,
            )
            for position, entry in enumerate(entries[:top], start=1)
        ]

    by_total = sorted(latencies, key=lambda e: (-e.total_ms, e.step_key))
    with_p95 = [e for e in latencies if e.p95_ms is not None]
    by_p95 = sorted(with_p95, key=lambda e: (-(e.p95_ms or 0.0), e.step_key))
    return ranked(by_total), ranked(by_p95)


def _most_common_critical_path(parsed: list[ParsedRun]) -> CriticalPath | None:
    paths: dict[tuple[str, ...], list[float]] = defaultdict(list)
    partial: Counter[tuple[str, ...]] = Counter()
    labels: dict[str, str] = {}
    for run in parsed:
        steps, weight, has_unknown = critical_path_of(run)
        if not steps:
            continue
        for node in timed_steps(run):
            labels.setdefault(node.step_key, node.label)
        key = tuple(steps)
        paths[key].append(weight)
        if has_unknown:
            partial[key] += 1
    if not paths:
        return None
    # Most runs first; ties go to the heavier path, then to the lexically smaller for stability.
    winner = min(paths, key=lambda p: (-len(paths[p]), -sum(paths[p]) / len(paths[p]), p))
    weights = paths[winner]
    return CriticalPath(
        steps=list(winner),
        labels=[labels.get(step, step) for step in winner],
        runs=len(weights),
        share_of_runs=len(weights) / len(parsed),
        median_total_ms=nearest_rank_percentile(weights, 50),
        runs_with_unknown_durations=partial[winner],
    )


def _error_location(run: ParsedRun) -> tuple[str, ErrorLocation]:
    for node in run.actions:
        if node.error_reason is not None:
            location = ErrorLocation(
                step_key=node.step_key, label=node.label, output_path_id=node.output_path_id, runs=1
            )
            return node.error_reason, location
    return run.run_errors[0], ErrorLocation(step_key=None, label=None, output_path_id=None, runs=1)


def _error_correlations(failing: list[ParsedRun], total_runs: int) -> list[ErrorCorrelation]:
    by_reason: dict[str, Counter[tuple[str | None, str | None]]] = defaultdict(Counter)
    labels: dict[str | None, str | None] = {}
    for run in failing:
        reason, location = _error_location(run)
        by_reason[reason][(location.step_key, location.output_path_id)] += 1
        labels.setdefault(location.step_key, location.label)
    correlations = []
    for reason, locations in by_reason.items():
        runs = sum(locations.values())
        ordered = sorted(locations.items(), key=lambda item: (-item[1], str(item[0])))
        found = [
            ErrorLocation(step_key=step, label=labels.get(step), output_path_id=path, runs=count)
            for (step, path), count in ordered
        ]
        correlations.append(
            ErrorCorrelation(
                reason=reason,
                runs=runs,
                share_of_runs=runs / total_runs if total_runs else 0.0,
                common_location=found[0],
                share_at_common_location=found[0].runs / runs,
                other_locations=found[1:],
            )
        )
    return sorted(correlations, key=lambda c: (-c.runs, c.reason))


def _coverage(parsed: list[ParsedRun], failures: list[ParseFailure]) -> Coverage:
    documents = len(parsed) + len(failures)
    # Dropped (malformed) events were events too: they count, without a usable timestamp.
    dropped = sum(1 for run in parsed for a in run.anomalies if a.kind is AnomalyKind.MALFORMED_EVENT)
    events = sum(len(run.actions) for run in parsed) + dropped
    with_timestamp = sum(1 for run in parsed for node in run.actions if node.at is not None)
    steps = [node for run in parsed for node in timed_steps(run)]
    known = sum(1 for node in steps if node.duration_ms is not None)
    complete = sum(1 for run in parsed if run.complete)
    return Coverage(
        documents=documents,
        parse_failures=len(failures),
        runs_parsed_completely=complete,
        parse_coverage=complete / documents if documents else 0.0,
        events=events,
        events_with_timestamp=with_timestamp,
        timestamp_coverage=with_timestamp / events if events else 0.0,
        durations_known=known,
        durations_unknown=len(steps) - known,
    )


def _gaps(parsed: list[ParsedRun], failures: list[ParseFailure]) -> list[Gap]:
    counts: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for failure in failures:
        kind = f"parse_failure:{failure.reason}"
        counts[kind] += 1
        examples.setdefault(kind, f"{failure.instance_id or 'unknown instance'}: {failure.detail}")
    for run in parsed:
        for anomaly in run.anomalies:
            counts[anomaly.kind.value] += 1
            examples.setdefault(
                anomaly.kind.value, f"{run.instance_id or 'unknown instance'}: {anomaly.detail}"
            )
    return [Gap(kind=kind, count=count, example=examples[kind]) for kind, count in sorted(counts.items())]
