"""The execution-data generator honours the contract in its module docstring."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from flowops.local.simulator.executions import (
    UNKNOWN_EVENT_KIND,
    ActionSpec,
    CorruptionKind,
    FailingPath,
    FlowRun,
    OutputPath,
    PlantedBehaviour,
    SlowAction,
    corrupt_document,
    default_inbound_call_actions,
    generate_flow_runs,
)

WINDOW_END = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
WINDOW_START = WINDOW_END - timedelta(hours=6)
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ROW_KEYS = {
    "id",
    "startDateTime",
    "endDateTime",
    "flowId",
    "flowVersion",
    "conversationId",
    "flowType",
    "flowName",
}


def _runs(count: int = 300, seed: int = 7, planted: PlantedBehaviour | None = None) -> list[FlowRun]:
    return generate_flow_runs(
        flow_id="f0000000-0000-4000-8000-000000000001",
        flow_name="Main IVR",
        flow_type="INBOUNDCALL",
        flow_version="3.0",
        actions=None,
        seed=seed,
        count=count,
        window_start=WINDOW_START,
        window_end=WINDOW_END,
        planted=planted,
    )


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _events(run: FlowRun) -> list[tuple[str, dict[str, Any]]]:
    return [next(iter(event.items())) for event in run.document["flow"]["execution"]]


def test_same_seed_gives_identical_runs_and_another_seed_does_not() -> None:
    # Given two generations with the same seed and one with another seed
    first, second, other = _runs(seed=3), _runs(seed=3), _runs(seed=4)

    # Then the same seed reproduces everything, ids included, and another seed differs
    assert [r.model_dump() for r in first] == [r.model_dump() for r in second]
    assert {r.instance_row["id"] for r in first}.isdisjoint({r.instance_row["id"] for r in other})


def test_rows_have_the_query_shape_and_match_their_documents() -> None:
    # When runs are generated
    runs = _runs()

    # Then each row has exactly the documented keys, lower-case flowType, ms-precision Z timestamps
    starts = []
    for run in runs:
        row, flow = run.instance_row, run.document["flow"]
        assert set(row) - {"flowErrorReason"} == ROW_KEYS
        assert row["flowType"] == "inboundcall" and flow["flowType"] == "INBOUNDCALL"
        assert TIMESTAMP.match(row["startDateTime"]) and TIMESTAMP.match(row["endDateTime"])
        assert WINDOW_START <= _time(row["startDateTime"]) < WINDOW_END
        assert row["id"] == flow["executionId"] and row["conversationId"] == flow["conversationId"]
        assert (row["startDateTime"], row["endDateTime"]) == (flow["startDateTime"], flow["endDateTime"])
        assert ("flowErrorReason" in row) == ("errors" in flow)
        starts.append(_time(row["startDateTime"]))
    # And runs come in start order
    assert starts == sorted(starts)


def test_events_are_framed_timed_and_follow_the_declared_action_graph() -> None:
    # Given the action graph the generator walks
    specs = {spec.action_id: spec for spec in default_inbound_call_actions()}

    for run in _runs():
        events = _events(run)
        # Then a run starts with startedFlow and ends with endedFlow at the flow's end time
        assert events[0][0] == "startedFlow" and events[-1][0] == "endedFlow"
        assert events[-1][1]["dateTime"] == run.document["flow"]["endDateTime"]
        times = [_time(payload["dateTime"]) for _, payload in events]
        assert times == sorted(times)
        # And each action is reached through a path its predecessor declares
        actions = events[1:-1]
        assert [payload["actionId"] for _, payload in actions] == run.action_ids
        assert run.action_ids[0] == "1"
        for (kind, payload), (_, following) in zip(actions, [*actions[1:], (None, None)], strict=True):
            spec = specs[payload["actionId"]]
            assert kind == spec.kind
            path = next(p for p in spec.paths if p.path_id == payload.get("outputPathId"))
            assert path.next_action_id == (following["actionId"] if following else None)


def test_planted_slow_action_takes_its_shifted_duration() -> None:
    # Given a slow "Is VIP?" decision (normally 1-6 ms) shifted by 2-4 s
    planted = PlantedBehaviour(slow_action=SlowAction(action_id="4", extra_ms=(2000, 4000)))

    durations = []
    for run in _runs(planted=planted):
        events = _events(run)
        for (_, payload), (_, following) in pairwise(events):
            if payload.get("actionId") == "4":
                durations.append((_time(following["dateTime"]) - _time(payload["dateTime"])).total_seconds())

    # Then every execution of it lasts base + shift
    assert durations
    assert all(2.001 <= seconds <= 4.006 for seconds in durations)


def test_planted_failing_path_fails_the_planted_share_with_error_fields() -> None:
    # Given 30 % of the runs reaching "Lookup Customer" fail on __FAILURE__
    failing = FailingPath(action_id="3", output_path_id="__FAILURE__", error_reason="LOOKUP_DOWN", share=0.3)
    runs = _runs(count=2000, planted=PlantedBehaviour(failing_path=failing))

    reached = [run for run in runs if "3" in run.action_ids]
    planted = [run for run in reached if run.planted_failure]
    # Then the share is the planted one (binomial, n≈1760: ±4.5 sigma ≈ ±0.05)
    assert abs(len(planted) / len(reached) - 0.3) < 0.05
    for run in planted:
        flow = run.document["flow"]
        (failed,) = [p for _, p in _events(run) if p.get("error", {}).get("reason") == "LOOKUP_DOWN"]
        # And the failing event names the action, takes the path, and is repeated at flow level and in the row
        assert failed["actionId"] == "3" and failed["outputPathId"] == "__FAILURE__"
        assert failed["error"] in flow["errors"]
        assert run.instance_row["flowErrorReason"] == "LOOKUP_DOWN"
        assert flow["flowExitReason"] == "FLOW_ERROR_DISCONNECT"
    # And runs that did not fail carry no error fields
    assert all("errors" not in r.document["flow"] for r in runs if not r.instance_row.get("flowErrorReason"))


def test_ten_thousand_runs_are_distinct_and_inside_the_window() -> None:
    # When 10,000 runs are generated (their speed is measured in bench/, not asserted here)
    runs = _runs(count=10_000)

    # Then each is a distinct instance with its own conversation
    assert len(runs) == 10_000
    assert len({run.instance_row["id"] for run in runs}) == 10_000
    assert len({run.instance_row["conversationId"] for run in runs}) == 10_000


def test_loops_are_bounded() -> None:
    # Given an action graph that always loops back to itself
    looping = [
        ActionSpec(
            action_id="a",
            kind="actionLoop",
            name="Retry",
            duration_ms=(1, 2),
            paths=(OutputPath(path_id="__AGAIN__", next_action_id="a"),),
        )
    ]

    # When a run is generated
    (run,) = generate_flow_runs(
        flow_id="f",
        flow_name="Loop",
        flow_type="WORKFLOW",
        flow_version="1.0",
        actions=looping,
        seed=1,
        count=1,
        window_start=WINDOW_START,
        window_end=WINDOW_END,
    )

    # Then it stops at the action cap instead of running forever
    assert len(run.action_ids) == 64


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window_start": datetime(2025, 1, 1)}, "timezone-aware"),
        ({"window_end": WINDOW_START}, "after window_start"),
        ({"planted": PlantedBehaviour(slow_action=SlowAction(action_id="nope"))}, "unknown action"),
    ],
)
def test_invalid_arguments_are_rejected(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {
        "flow_id": "f",
        "flow_name": "n",
        "flow_type": "INBOUNDCALL",
        "flow_version": "1.0",
        "actions": None,
        "seed": 1,
        "count": 1,
        "window_start": WINDOW_START,
        "window_end": WINDOW_END,
    }
    with pytest.raises(ValueError, match=message):
        generate_flow_runs(**{**arguments, **kwargs})


def test_corruptions_produce_the_documented_malformations_without_touching_the_original() -> None:
    # Given a generated document
    run = _runs(count=1)[0]
    original = json.dumps(run.document)

    truncated = corrupt_document(run.document, CorruptionKind.TRUNCATED)
    reordered = corrupt_document(run.document, "out_of_order")
    unknown = corrupt_document(run.document, "unknown_kind")
    untimed = corrupt_document(run.document, "missing_timestamps")

    # Then truncation yields JSON text that does not parse
    assert isinstance(truncated, str)
    with pytest.raises(json.JSONDecodeError):
        json.loads(truncated)
    # And the other kinds yield documents with the malformation
    assert isinstance(reordered, dict) and isinstance(unknown, dict) and isinstance(untimed, dict)
    reordered_times = [next(iter(e.values()))["dateTime"] for e in reordered["flow"]["execution"]]
    assert reordered_times != sorted(reordered_times)
    assert UNKNOWN_EVENT_KIND in unknown["flow"]["execution"][1]
    missing = [e for e in untimed["flow"]["execution"] if "dateTime" not in next(iter(e.values()))]
    assert missing
    # And the original is untouched
    assert json.dumps(run.document) == original
