"""analyze_runs finds what was planted, and its numbers match an independent computation."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from flowops.local.simulator.executions import (
    FailingPath,
    FlowRun,
    PlantedBehaviour,
    SlowAction,
    corrupt_document,
    generate_flow_runs,
)
from flowops.trace import (
    ParsedRun,
    ParseFailure,
    analyze_runs,
    critical_path_of,
    nearest_rank_percentile,
    parse_execution_document,
)
from tests.unit.trace.builders import action, document, event

WINDOW_END = datetime(2025, 3, 10, tzinfo=UTC)
SLOW = SlowAction(action_id="2", extra_ms=(2000, 4000))  # "Evaluate Business Hours", normally 20-90 ms
FAILING = FailingPath(action_id="3", output_path_id="__FAILURE__", error_reason="CRM_UNAVAILABLE", share=0.15)


def _generate(count: int, seed: int, planted: PlantedBehaviour | None = None) -> list[FlowRun]:
    return generate_flow_runs(
        flow_id="flow-1",
        flow_name="Main IVR",
        flow_type="INBOUNDCALL",
        flow_version="2.0",
        actions=None,
        seed=seed,
        count=count,
        window_start=WINDOW_END - timedelta(days=2),
        window_end=WINDOW_END,
        planted=planted,
    )


def _brute_force_percentile(values: list[float], percent: int) -> float:
    """Smallest observed x such that at least `percent` % of the values are <= x."""
    ordered = sorted(values)
    for k, value in enumerate(ordered, start=1):
        if Fraction(k, len(ordered)) >= Fraction(percent, 100):
            return value
    return ordered[-1]


def _durations_from_documents(runs: list[FlowRun]) -> dict[str, list[float]]:
    """Per-action durations computed straight from the documents' timestamps."""
    found: dict[str, list[float]] = defaultdict(list)
    for run in runs:
        events = [next(iter(e.items())) for e in run.document["flow"]["execution"]]
        for (_, payload), (_, following) in pairwise(events):
            if "actionId" in payload:
                start = datetime.fromisoformat(payload["dateTime"].replace("Z", "+00:00"))
                end = datetime.fromisoformat(following["dateTime"].replace("Z", "+00:00"))
                found[payload["actionId"]].append((end - start).total_seconds() * 1000)
    return found


def test_planted_slow_action_is_the_top_bottleneck_by_total_and_by_p95() -> None:
    # Given runs in which "Evaluate Business Hours" is planted slow
    runs = _generate(800, seed=11, planted=PlantedBehaviour(slow_action=SLOW))

    # When analysed
    report = analyze_runs(parse_execution_document(r.document) for r in runs)

    # Then it leads both rankings
    assert report.bottlenecks_by_total[0].step_key == "2"
    assert report.bottlenecks_by_p95[0].step_key == "2"
    assert report.bottlenecks_by_total[0].label == "Evaluate Business Hours"
    # And its share of time is the brute-force share
    durations = _durations_from_documents(runs)
    everything = sum(sum(v) for v in durations.values())
    started = sum(a.total_ms for a in report.actions if a.step_key == "startedFlow")
    assert (
        abs(report.bottlenecks_by_total[0].share_of_time - sum(durations["2"]) / (everything + started))
        < 1e-9
    )


def test_without_planting_the_slow_action_is_not_a_bottleneck() -> None:
    report = analyze_runs(parse_execution_document(r.document) for r in _generate(400, seed=11))
    assert report.bottlenecks_by_total[0].step_key != "2"
    assert report.bottlenecks_by_p95[0].step_key != "2"


def test_error_correlation_names_the_planted_action_path_and_reason_with_the_planted_share() -> None:
    # Given runs where some fail at "Lookup Customer" through __FAILURE__
    runs = _generate(1500, seed=12, planted=PlantedBehaviour(failing_path=FAILING))
    planted = sum(1 for r in runs if r.planted_failure)

    # When analysed
    report = analyze_runs(parse_execution_document(r.document) for r in runs)

    # Then the planted reason is one group, located exactly at the planted action and path
    (group,) = [e for e in report.errors if e.reason == "CRM_UNAVAILABLE"]
    assert group.runs == planted
    assert group.share_of_runs == planted / len(runs)
    assert (group.common_location.step_key, group.common_location.output_path_id) == ("3", "__FAILURE__")
    assert group.share_at_common_location == 1.0 and not group.other_locations
    # And the natural timeouts form their own group on their own path
    (timeouts,) = [e for e in report.errors if e.reason == "DATA_ACTION_TIMEOUT"]
    assert timeouts.common_location.output_path_id == "__TIMEOUT__"
    assert report.failing_runs == planted + timeouts.runs
    assert report.errors[0].reason == "CRM_UNAVAILABLE"


def test_per_action_percentiles_equal_a_brute_force_computation() -> None:
    # Given a small sample
    runs = _generate(60, seed=13)
    expected = _durations_from_documents(runs)

    report = analyze_runs(parse_execution_document(r.document) for r in runs)

    # Then p50/p95/max of every action equal the brute force over document timestamps
    stats = {a.step_key: a for a in report.actions}
    assert set(expected) <= set(stats)
    for action_id, values in expected.items():
        entry = stats[action_id]
        assert entry.timed == len(values) == entry.executions
        assert entry.p50_ms == _brute_force_percentile(values, 50)
        assert entry.p95_ms == _brute_force_percentile(values, 95)
        assert entry.max_ms == max(values)
        assert abs(entry.total_ms - sum(values)) < 1e-6


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=40),
    percent=st.integers(min_value=0, max_value=100),
)
def test_nearest_rank_percentile_matches_brute_force(values: list[int], percent: int) -> None:
    floats = [float(v) for v in values]
    assert nearest_rank_percentile(floats, percent) == _brute_force_percentile(floats, percent)


def test_missing_timestamps_never_become_zero_latency() -> None:
    # Given runs where every execution of action "x" lacks its timestamp
    docs = [
        document(
            [
                event("startedFlow", 0),
                action("actionSetParticipantData", "a", 10),
                action("actionDecision", "x", None),
                action("actionPlayAudio", "b", 500 + i),
                event("endedFlow", 900),
            ],
            end_ms=900,
            executionId=f"run-{i}",
        )
        for i in range(5)
    ]

    report = analyze_runs(parse_execution_document(d) for d in docs)

    # Then "x" and "a" have only unknown durations: no percentile, no zero
    stats = {a.step_key: a for a in report.actions}
    for key in ("x", "a"):
        assert (stats[key].timed, stats[key].unknown) == (0, 5)
        assert stats[key].p50_ms is None and stats[key].p95_ms is None and stats[key].max_ms is None
    assert all(b.step_key not in {"x", "a"} for b in report.bottlenecks_by_p95)
    # And coverage counts them
    assert report.coverage.durations_unknown == 10
    assert report.coverage.events_with_timestamp == 20 and report.coverage.events == 25
    assert report.coverage.runs_parsed_completely == 0
    assert report.critical_path is not None and report.critical_path.runs_with_unknown_durations == 5


def test_coverage_and_gaps_account_for_every_malformed_document() -> None:
    # Given 20 clean documents and one of each corruption
    runs = _generate(24, seed=14)
    inputs: list[Any] = [r.document for r in runs[:20]]
    kinds = ["truncated", "out_of_order", "unknown_kind", "missing_timestamps"]
    inputs += [corrupt_document(r.document, kind) for r, kind in zip(runs[20:], kinds, strict=True)]

    # When parsed and analysed, nothing crashes
    results = [parse_execution_document(raw) for raw in inputs]
    report = analyze_runs(results)

    # Then the truncated one is a parse failure and the others are runs with explicit gaps
    assert sum(isinstance(r, ParseFailure) for r in results) == 1
    assert report.runs_analyzed == 23
    assert report.coverage.documents == 24 and report.coverage.parse_failures == 1
    assert report.coverage.runs_parsed_completely == 20
    assert report.coverage.parse_coverage == 20 / 24
    assert {g.kind for g in report.gaps} == {
        "parse_failure:invalid_json",
        "out_of_order",
        "unknown_event_kind",
        "missing_timestamp",
    }
    parsed = [r for r in results if isinstance(r, ParsedRun)]
    events = sum(len(r.actions) for r in parsed)
    timed = sum(1 for r in parsed for a in r.actions if a.at is not None)
    assert report.coverage.timestamp_coverage == timed / events < 1


def test_critical_path_is_the_executed_sequence_and_the_most_common_one_wins() -> None:
    runs = _generate(300, seed=15)
    report = analyze_runs(parse_execution_document(r.document) for r in runs)

    sequences = [("startedFlow", *r.action_ids) for r in runs]
    most_common = max(set(sequences), key=sequences.count)
    assert report.critical_path is not None
    assert tuple(report.critical_path.steps) == most_common
    assert report.critical_path.runs == sequences.count(most_common)
    assert report.critical_path.labels[1] == "Set Participant Data"


def test_a_loop_keeps_its_time_on_the_repeated_step_and_the_heavier_branch_wins() -> None:
    # Given A → B → C → B → D: B runs twice (a retry loop), C is light, D is heavy
    doc = document(
        [
            action("actionSetParticipantData", "A", 0),
            action("actionCallData", "B", 10),
            action("actionDecision", "C", 110, outputPathId="__RETRY__"),
            action("actionCallData", "B", 115),
            action("actionPlayAudio", "D", 215),
            event("endedFlow", 1215),
        ],
        end_ms=1215,
    )
    run = parse_execution_document(doc)
    assert isinstance(run, ParsedRun)

    steps, weight, unknown = critical_path_of(run)

    # Then the back edge C → B is dropped, B weighs both visits, and the path ends on the heavy D
    assert steps == ["A", "B", "D"]
    assert weight == 10 + 100 + 100 + 1000
    assert not unknown


def test_slowest_run_is_reported_for_the_waterfall() -> None:
    runs = _generate(50, seed=16)
    report = analyze_runs(parse_execution_document(r.document) for r in runs)
    longest = max(
        runs,
        key=lambda r: datetime.fromisoformat(r.document["flow"]["endDateTime"][:-1])
        - datetime.fromisoformat(r.document["flow"]["startDateTime"][:-1]),
    )
    assert report.slowest_run is not None
    assert report.slowest_run.instance_id == longest.instance_row["id"]


def test_empty_input_gives_an_empty_report() -> None:
    report = analyze_runs([])
    assert report.runs_analyzed == 0 and report.critical_path is None and report.slowest_run is None
    assert report.coverage.parse_coverage == 0.0 and not report.errors
