"""Human-facing renderings of trace results: an SVG waterfall and a text summary.

The SVG is self-contained (inline styles, no fonts, scripts or links to fetch), so it can be
stored as an S3 artifact and embedded in an HTML report as is.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape, quoteattr

from flowops.trace.models import ActionExecution, ParsedRun, TraceReport

_ROW_HEIGHT = 22
_BAR_HEIGHT = 14
_LABEL_WIDTH = 260
_CHART_WIDTH = 640
_TOP = 44
_AXIS_HEIGHT = 34
_NICE_STEPS = (1, 2, 5)


def _tick_step(total_ms: float, target_ticks: int = 8) -> float:
    """A 1/2/5 x 10^n step giving about `target_ticks` ticks over `total_ms`."""
    raw = max(total_ms, 1.0) / target_ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in _NICE_STEPS:
        if factor * magnitude >= raw:
            return float(factor * magnitude)
    return float(10 * magnitude)


def _format_ms(value: float) -> str:
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def _span_ms(run: ParsedRun) -> float:
    ends = [
        (node.offset_ms or 0.0) + (node.duration_ms or 0.0)
        for node in run.actions
        if node.offset_ms is not None
    ]
    return max([*ends, run.total_ms or 0.0, 1.0])


def render_waterfall_svg(run: ParsedRun) -> str:
    """One bar per event of the run: start offset, duration, label; a time axis below.

    Events whose duration is unknown get a hatched-outline bar marked "duration unknown" (never a
    zero-width bar that would read as "instant"); events without a start time sit at the left
    edge with the same marking.
    """
    span = _span_ms(run)
    scale = _CHART_WIDTH / span
    rows = len(run.actions)
    height = _TOP + rows * _ROW_HEIGHT + _AXIS_HEIGHT
    width = _LABEL_WIDTH + _CHART_WIDTH + 120
    title = f"{run.flow_name or run.flow_id or 'flow'} — run {run.instance_id or '?'} ({_format_ms(span)})"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="8" y="18" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for row, node in enumerate(run.actions):
        parts.append(_bar(node, row, scale))
    parts.extend(_axis(span, scale, _TOP + rows * _ROW_HEIGHT))
    parts.append("</svg>")
    return "\n".join(parts)


def _bar(node: ActionExecution, row: int, scale: float) -> str:
    y = _TOP + row * _ROW_HEIGHT
    label = node.label
    known = node.duration_ms is not None and node.offset_ms is not None
    x = _LABEL_WIDTH + (node.offset_ms or 0.0) * scale
    if known:
        bar_width = max((node.duration_ms or 0.0) * scale, 1.0)
        fill = "#d9534f" if node.error_reason else "#4a90d9"
        style = f'fill="{fill}"'
        caption = _format_ms(node.duration_ms or 0.0)
    else:
        bar_width = 12.0
        style = 'fill="none" stroke="#888888" stroke-dasharray="3,2"'
        caption = "duration unknown"
    tooltip = f"{label} ({node.kind}): {caption}" + (
        f" — error {node.error_reason}" if node.error_reason else ""
    )
    path = f" → {node.output_path_id}" if node.output_path_id else ""
    return (
        f'<g class="row"><text x="8" y="{y + _BAR_HEIGHT - 3}">{escape(_clip(label + path, 44))}</text>'
        f'<rect class="bar" data-step={quoteattr(node.step_key)} x="{x:.2f}" y="{y}" '
        f'width="{bar_width:.2f}" height="{_BAR_HEIGHT}" {style}><title>{escape(tooltip)}</title></rect>'
        f'<text x="{x + bar_width + 4:.2f}" y="{y + _BAR_HEIGHT - 3}" fill="#333333">'
        f"{escape(caption)}</text></g>"
    )


def _axis(span: float, scale: float, y: int) -> list[str]:
    step = _tick_step(span)
    parts = [
        f'<line class="axis" x1="{_LABEL_WIDTH}" y1="{y + 4}" x2="{_LABEL_WIDTH + _CHART_WIDTH}" '
        f'y2="{y + 4}" stroke="#333333"/>'
    ]
    tick = 0.0
    while tick <= span + 1e-9:
        x = _LABEL_WIDTH + tick * scale
        parts.append(f'<line x1="{x:.2f}" y1="{y + 4}" x2="{x:.2f}" y2="{y + 9}" stroke="#333333"/>')
        parts.append(
            f'<text class="tick" x="{x:.2f}" y="{y + 22}" text-anchor="middle">{_format_ms(tick)}</text>'
        )
        tick += step
    return parts


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summarize(report: TraceReport) -> str:
    """A readable summary: coverage, bottleneck table, critical path, errors, gaps."""
    coverage = report.coverage
    lines = [
        f"Trace of {report.runs_analyzed} runs ({report.failing_runs} failing)",
        f"Parse coverage: {coverage.runs_parsed_completely}/{coverage.documents} documents parsed completely "
        f"({coverage.parse_coverage:.1%}); {coverage.events_with_timestamp}/{coverage.events} events timed "
        f"({coverage.timestamp_coverage:.1%}); {coverage.durations_unknown} durations unknown",
        "",
        "Bottlenecks by total time:",
    ]
    header = (
        f"  {'#':>2}  {'action':<34} {'runs':>6} {'total':>10} {'share':>7} {'p50':>9} {'p95':>9} {'max':>9}"
    )
    lines.append(header)
    stats = {entry.step_key: entry for entry in report.actions}
    for bottleneck in report.bottlenecks_by_total:
        entry = stats[bottleneck.step_key]
        lines.append(
            f"  {bottleneck.rank:>2}  {_clip(bottleneck.label, 34):<34} {entry.executions:>6} "
            f"{_format_ms(bottleneck.total_ms):>10} {bottleneck.share_of_time:>7.1%} "
            f"{_optional_ms(entry.p50_ms):>9} {_optional_ms(entry.p95_ms):>9} {_optional_ms(entry.max_ms):>9}"
        )
    if report.bottlenecks_by_p95:
        slowest = report.bottlenecks_by_p95[0]
        lines.append(f"Slowest action at p95: {slowest.label} ({_optional_ms(slowest.p95_ms)})")
    if report.critical_path is not None:
        path = report.critical_path
        lines += [
            "",
            f"Most common critical path ({path.runs} runs, {path.share_of_runs:.1%}; "
            f"median {_optional_ms(path.median_total_ms)}):",
            "  " + " → ".join(path.labels),
        ]
    if report.errors:
        lines += ["", "Errors:"]
        for error in report.errors:
            where = error.common_location
            place = (
                f"{where.label} via {where.output_path_id or 'default path'}"
                if where.step_key
                else "no event"
            )
            lines.append(
                f"  {error.reason}: {error.runs} runs ({error.share_of_runs:.1%} of runs); "
                f"{error.share_at_common_location:.0%} at {place}"
            )
    if report.gaps:
        lines += ["", "Gaps:"]
        lines += [f"  {gap.kind}: {gap.count} (e.g. {gap.example})" for gap in report.gaps]
    return "\n".join(lines)


def _optional_ms(value: float | None) -> str:
    return "unknown" if value is None else _format_ms(value)
