"""The waterfall SVG and the text summary."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from flowops.local.simulator.executions import FailingPath, PlantedBehaviour, SlowAction, generate_flow_runs
from flowops.trace import ParsedRun, analyze_runs, parse_execution_document, render_waterfall_svg, summarize
from tests.unit.trace.builders import action, document, event

SVG = "{http://www.w3.org/2000/svg}"


def _report_of_generated_runs():  # type: ignore[no-untyped-def]
    end = datetime(2025, 3, 10, tzinfo=UTC)
    runs = generate_flow_runs(
        flow_id="flow-1",
        flow_name="Main IVR",
        flow_type="INBOUNDCALL",
        flow_version="1.0",
        actions=None,
        seed=21,
        count=200,
        window_start=end - timedelta(days=1),
        window_end=end,
        planted=PlantedBehaviour(
            slow_action=SlowAction(action_id="3"),
            failing_path=FailingPath(
                action_id="3", output_path_id="__FAILURE__", error_reason="CRM_DOWN", share=0.2
            ),
        ),
    )
    return analyze_runs(parse_execution_document(r.document) for r in runs)


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own renderer's output, not untrusted input


def _bars(svg: str) -> list[ET.Element]:
    root = _parse(svg)
    return [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]


def test_waterfall_of_the_slowest_run_is_well_formed_with_one_bar_per_action() -> None:
    # Given the report of generated runs
    report = _report_of_generated_runs()
    run = report.slowest_run
    assert run is not None

    # When the waterfall is rendered
    svg = render_waterfall_svg(run)

    # Then it parses as XML, has one bar per action, placed at its offset in order
    bars = _bars(svg)
    assert len(bars) == len(run.actions)
    assert [b.get("data-step") for b in bars] == [a.step_key for a in run.actions]
    xs = [float(b.get("x", "nan")) for b in bars]
    assert xs == sorted(xs)
    widths = {a.step_key: float(b.get("width", "0")) for a, b in zip(run.actions, bars, strict=True)}
    assert widths["3"] == max(widths.values())  # the planted slow action is the widest bar
    # And it has a time axis and no external references
    ticks = [t.text for t in _parse(svg).iter(f"{SVG}text") if t.get("class") == "tick"]
    assert len(ticks) >= 3 and ticks[0] == "0 ms"
    assert "href" not in svg and "<script" not in svg and "url(" not in svg


def test_unknown_durations_are_drawn_as_unknown_and_labels_are_escaped() -> None:
    doc = document(
        [
            event("startedFlow", 0),
            action("actionDecision", "<b>&", None, actionName="Is <VIP> & gold?"),
            action("actionPlayAudio", "p", 50),
            event("endedFlow", 100),
        ],
        end_ms=100,
    )
    run = parse_execution_document(doc)
    assert isinstance(run, ParsedRun)

    svg = render_waterfall_svg(run)

    bars = _bars(svg)
    assert len(bars) == 4
    unknown = [b for b in bars if b.get("fill") == "none"]
    assert [b.get("data-step") for b in unknown] == ["startedFlow", "<b>&"]
    assert "duration unknown" in svg and "Is &lt;VIP&gt; &amp; gold?" in svg


def test_summary_lists_the_bottleneck_first_with_coverage_and_errors() -> None:
    report = _report_of_generated_runs()

    text = summarize(report)

    lines = text.splitlines()
    table_start = lines.index("Bottlenecks by total time:")
    assert "Lookup Customer" in lines[table_start + 2]
    assert "Parse coverage: 200/200" in text
    assert "CRM_DOWN" in text and "Lookup Customer via __FAILURE__" in text
    assert "Most common critical path" in text
