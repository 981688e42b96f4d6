"""parse_execution_document rebuilds a run's graph and is honest about what it cannot measure."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowops.local.simulator.executions import corrupt_document, generate_flow_runs
from flowops.trace import AnomalyKind, ParsedRun, ParseFailure, parse_execution_document
from tests.unit.trace.builders import ORIGIN, action, document, event


def _parsed(raw: object) -> ParsedRun:
    result = parse_execution_document(raw)  # type: ignore[arg-type]
    assert isinstance(result, ParsedRun), result
    return result


def _simple_document() -> dict[str, object]:
    return document(
        [
            event("startedFlow", 0),
            action("actionSetParticipantData", "1", 10),
            action("actionDecision", "2", 40, outputPathId="__YES__"),
            action("actionPlayAudio", "3", 45),
            event("endedFlow", 1245, flowExitReason="FLOW_DISCONNECT"),
        ],
        end_ms=1245,
    )


def test_durations_are_the_gap_to_the_next_event_and_edges_carry_the_path_taken() -> None:
    # When a clean document is parsed
    run = _parsed(_simple_document())

    # Then each duration is next.dateTime - this.dateTime, and the last runs to the flow end
    assert [a.duration_ms for a in run.actions] == [10.0, 30.0, 5.0, 1200.0, 0.0]
    assert [a.offset_ms for a in run.actions] == [0.0, 10.0, 40.0, 45.0, 1245.0]
    assert run.actions[0].kind == "startedFlow"
    # And edges follow the order, labelled with the output path of their source
    assert [(e.source, e.target, e.output_path_id) for e in run.edges] == [
        (0, 1, None),
        (1, 2, None),
        (2, 3, "__YES__"),
        (3, 4, None),
    ]
    assert run.complete and not run.failed
    assert run.total_ms == 1245.0
    assert run.actions[0].at == ORIGIN


def test_bytes_and_text_input_parse_like_a_dict() -> None:
    raw = _simple_document()
    assert _parsed(json.dumps(raw).encode()) == _parsed(raw) == _parsed(json.dumps(raw))


def test_missing_timestamps_make_durations_unknown_never_zero() -> None:
    # Given action 2 lost its dateTime
    raw = document(
        [
            event("startedFlow", 0),
            action("actionSetParticipantData", "1", 10),
            action("actionDecision", "2", None),
            action("actionPlayAudio", "3", 45),
            event("endedFlow", 100),
        ],
        end_ms=100,
    )

    # When parsed
    run = _parsed(raw)

    # Then the decision and the action before it have unknown durations (not 0), the rest are measured
    durations = {a.step_key: a.duration_ms for a in run.actions}
    assert durations["1"] is None and durations["2"] is None
    assert durations["startedFlow"] == 10.0 and durations["3"] == 55.0
    # And the event stays in the graph, with an anomaly pointing at it
    assert [a.step_key for a in run.actions] == ["startedFlow", "1", "2", "3", "endedFlow"]
    assert [(x.kind, x.event_index) for x in run.anomalies] == [(AnomalyKind.MISSING_TIMESTAMP, 2)]
    assert not run.complete


def test_invalid_timestamp_is_an_anomaly_and_unknown_duration() -> None:
    raw = _simple_document()
    raw["flow"]["execution"][2]["actionDecision"]["dateTime"] = "yesterday-ish"  # type: ignore[index]
    run = _parsed(raw)
    assert run.actions[2].at is None and run.actions[2].duration_ms is None
    assert [x.kind for x in run.anomalies] == [AnomalyKind.INVALID_TIMESTAMP]


def test_out_of_order_events_are_sorted_by_time_with_an_anomaly() -> None:
    # Given a generated document whose events were shuffled
    (flow_run,) = generate_flow_runs(
        flow_id="f",
        flow_name="n",
        flow_type="INBOUNDCALL",
        flow_version="1.0",
        actions=None,
        seed=5,
        count=1,
        window_start=ORIGIN,
        window_end=ORIGIN.replace(hour=10),
    )
    clean = _parsed(flow_run.document)
    shuffled = corrupt_document(flow_run.document, "out_of_order")

    # When parsed
    run = _parsed(shuffled)

    # Then the events are back in time order with the same durations as the clean parse
    assert [(a.step_key, a.duration_ms) for a in run.actions] == [
        (a.step_key, a.duration_ms) for a in clean.actions
    ]
    assert [x.kind for x in run.anomalies] == [AnomalyKind.OUT_OF_ORDER]


def test_untimed_events_travel_with_their_timed_predecessor_when_sorting() -> None:
    raw = document(
        [
            event("startedFlow", 0),
            action("actionPlayAudio", "3", 50),
            action("actionDecision", "2", None),
            action("actionSetParticipantData", "1", 10),
        ],
        end_ms=60,
    )
    run = _parsed(raw)
    assert [a.step_key for a in run.actions] == ["startedFlow", "1", "3", "2"]
    assert {x.kind for x in run.anomalies} == {AnomalyKind.OUT_OF_ORDER, AnomalyKind.MISSING_TIMESTAMP}


def test_unknown_event_kinds_are_kept_as_unknown_with_a_gap_note() -> None:
    raw = _simple_document()
    raw["flow"]["execution"][2] = action("actionTeleport", "2", 40)  # type: ignore[index]
    run = _parsed(raw)
    node = run.actions[2]
    assert (node.kind, node.raw_kind, node.action_id, node.duration_ms) == (
        "unknown",
        "actionTeleport",
        "2",
        5.0,
    )
    (anomaly,) = run.anomalies
    assert anomaly.kind is AnomalyKind.UNKNOWN_EVENT_KIND and "actionTeleport" in anomaly.detail


def test_malformed_events_are_dropped_and_recorded() -> None:
    raw = _simple_document()
    raw["flow"]["execution"][1:1] = [{"a": {}, "b": {}}, {"actionDecision": "not-an-object"}, 42]  # type: ignore[index]
    run = _parsed(raw)
    assert len(run.actions) == 5
    assert [x.kind for x in run.anomalies] == [AnomalyKind.MALFORMED_EVENT] * 3


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ('{"flow": {"execution": [{"startedFlow": {"dateTi', "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        ("[1, 2]", "not_an_object"),
        ({"notflow": {}}, "missing_flow"),
        ({"flow": {"execution": "nope"}}, "missing_execution"),
        ({"flow": {"execution": []}}, "no_events"),
    ],
)
def test_unusable_documents_are_parse_failures_with_a_reason(raw: object, reason: str) -> None:
    result = parse_execution_document(raw, instance_id="hint-1")  # type: ignore[arg-type]
    assert isinstance(result, ParseFailure)
    assert (result.reason, result.instance_id) == (reason, "hint-1")


def test_generated_truncated_documents_fail_cleanly() -> None:
    (flow_run,) = generate_flow_runs(
        flow_id="f",
        flow_name="n",
        flow_type="INBOUNDCALL",
        flow_version="1.0",
        actions=None,
        seed=9,
        count=1,
        window_start=ORIGIN,
        window_end=ORIGIN.replace(hour=10),
    )
    for seed in range(5):
        result = parse_execution_document(corrupt_document(flow_run.document, "truncated", seed=seed))
        assert isinstance(result, ParseFailure) and result.reason == "invalid_json"


def test_nested_items_are_flattened_with_depth() -> None:
    raw = document(
        [
            event("startedFlow", 0),
            action(
                "actionCallTask",
                "t",
                5,
                execution=[event("startedTask", 6), action("actionCallData", "d", 8), event("endedTask", 20)],
            ),
            event("endedFlow", 25),
        ],
        end_ms=25,
    )
    run = _parsed(raw)
    assert [(a.step_key, a.depth, a.duration_ms) for a in run.actions] == [
        ("startedFlow", 0, 5.0),
        ("t", 0, 1.0),
        ("startedTask", 1, 2.0),
        ("d", 1, 12.0),
        ("endedTask", 1, 5.0),
        ("endedFlow", 0, 0.0),
    ]


def test_flow_level_errors_attach_to_their_event_or_stay_run_level() -> None:
    # Given an error on the data action (only at flow level) and one naming no event
    raw = _simple_document()
    raw["flow"]["execution"][1]["actionSetParticipantData"]["executionId"] = "exec-1"  # type: ignore[index]
    raw["flow"]["errors"] = [  # type: ignore[index]
        {"reason": "SET_FAILED", "executionId": "exec-1", "objectId": "1"},
        {"reason": "MYSTERY", "objectId": "nowhere"},
    ]

    run = _parsed(raw)

    assert run.actions[1].error_reason == "SET_FAILED"
    assert run.run_errors == ["MYSTERY"]
    assert run.failed
    assert [x.kind for x in run.anomalies] == [AnomalyKind.UNMATCHED_ERROR]


def test_truncated_item_list_flag_is_an_anomaly() -> None:
    run = _parsed(document([event("startedFlow", 0)], end_ms=5, executionItemsTruncated=True))
    assert [x.kind for x in run.anomalies] == [AnomalyKind.ITEMS_TRUNCATED]


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.sampled_from(["2025-03-10T09:00:00.000Z"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=6,
)
_event_payloads = st.fixed_dictionaries(
    {},
    optional={
        "dateTime": st.sampled_from(["2025-03-10T09:00:00.000Z", "2025-03-10T08:59:59.999Z", "bad", 17]),
        "actionId": _json_values,
        "outputPathId": _json_values,
        "error": _json_values,
        "errors": _json_values,
        "execution": st.lists(_json_values, max_size=3),
    },
)
_events = st.one_of(
    st.dictionaries(
        st.sampled_from(["startedFlow", "actionDecision", "actionZap", ""]), _event_payloads, max_size=2
    ),
    _json_values,
)


@settings(max_examples=60, deadline=None)
@given(
    events=st.lists(_events, max_size=8),
    flow_extra=st.dictionaries(
        st.sampled_from(["startDateTime", "endDateTime", "errors", "executionItemsTruncated", "executionId"]),
        _json_values,
        max_size=3,
    ),
)
def test_arbitrary_documents_never_crash_the_parser(
    events: list[object], flow_extra: dict[str, object]
) -> None:
    # Given any document-like structure
    raw = {"flow": {**flow_extra, "execution": events}}

    # When parsed (as a dict and as text)
    results = [parse_execution_document(raw), parse_execution_document(json.dumps(raw))]

    # Then the parser answers with a run or a failure, and a run never invents a zero for an unknown time
    for result in results:
        assert isinstance(result, ParsedRun | ParseFailure)
        if isinstance(result, ParsedRun):
            for node in result.actions:
                if node.at is None:
                    assert node.duration_ms is None
