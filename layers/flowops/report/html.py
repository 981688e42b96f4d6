"""The scan report: ONE self-contained HTML file (CSS, script and data inline).

It must open from S3, a CI artifact or a laptop's disk with no network: no CDN, no web fonts,
no images to fetch. A Content-Security-Policy pins the one script and one stylesheet by hash
and forbids every fetch (``default-src 'none'``), so even a name that slipped past escaping
could neither run nor phone home. Every piece of user data (flow names, ids, messages) is
HTML-escaped in the tables and reaches the graph through a JSON block that the script reads
with ``textContent``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any, Final

import networkx as nx

from flowops.graph import GraphReport, build_graph
from flowops.lock import LockDiff, Lockfile
from flowops.report.graph_data import NodeNames, ReportGraphData, build_report_graph
from flowops.report.releases import ReportRelease, ReportReleaseFlow
from flowops.trace import TraceReport, render_waterfall_svg

DEFAULT_DRAW_LIMIT: Final = 400  # nodes drawn at once; larger orgs draw a neighbourhood
TABLE_ROW_LIMIT: Final = 300  # rows per table; the rest is counted, not listed
WAVE_NAMES_SHOWN: Final = 25

# Characters that could end the JSON <script> block or confuse an HTML parser; JSON lets us
# write them as \u escapes, which JSON.parse turns back into the same text.
_JSON_ESCAPES: Final = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


@cache
def _asset(name: str) -> str:
    return (resources.files("flowops.report") / "assets" / name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def embed_json(document: Any) -> str:
    """JSON safe to place between ``<script type="application/json">`` tags."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text.translate(_JSON_ESCAPES)


def _node_link(graph: NodeNames, node_id: str) -> str:
    name = graph.get(node_id)
    return (
        f'<a href="#graph" class="node-link" data-select="{_e(node_id)}" title="{_e(node_id)}">'
        f"{_e(name or node_id)}</a>"
    )


def _empty(element_id: str, text: str) -> str:
    return f'<p class="empty" id="{element_id}">{_e(text)}</p>'


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, empty: str, table_id: str) -> str:
    """A table whose cells are already-escaped HTML; long tables are cut with a count."""
    if not rows:
        return _empty(table_id, empty)
    head = "".join(f"<th>{_e(header)}</th>" for header in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows[:TABLE_ROW_LIMIT]
    )
    more = (
        f'<p class="more">{len(rows) - TABLE_ROW_LIMIT} more rows not shown (see the JSON report).</p>'
        if len(rows) > TABLE_ROW_LIMIT
        else ""
    )
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}'


def _card(label: str, value: object, *, bad: bool = False) -> str:
    css = "card bad" if bad else "card"
    return (
        f'<div class="{css}"><div class="value">{_e(value)}</div><div class="label">{_e(label)}</div></div>'
    )


def _cycles_section(graph: NodeNames, analysis: GraphReport) -> str:
    rows = [
        [
            f'<span class="num">{number}</span>',
            str(len(cycle.members)),
            " → ".join(_node_link(graph, node) for node in cycle.witness),
            ", ".join(_node_link(graph, node) for node in cycle.self_loops) or "—",
        ]
        for number, cycle in enumerate(analysis.cycles, start=1)
    ]
    table = _table(
        ["#", "flows", "witness (consumes →)", "self-loops"],
        rows,
        empty="No cycles: every flow can be published in dependency order.",
        table_id="cycles-table",
    )
    return f'<section id="cycles"><h2>Cycles ({len(analysis.cycles)})</h2>{table}</section>'


def _waves_section(graph: NodeNames, analysis: GraphReport) -> str:
    in_cycle = set(analysis.flows_in_cycles)
    rows = []
    for number, wave in enumerate(analysis.waves, start=1):
        links = [_node_link(graph, flow_id) + (" ↻" if flow_id in in_cycle else "") for flow_id in wave]
        shown = ", ".join(links[:WAVE_NAMES_SHOWN])
        if len(wave) > WAVE_NAMES_SHOWN:
            # Every member is in the page; the rest expands in place (no script needed).
            rest = ", ".join(links[WAVE_NAMES_SHOWN:])
            shown += (
                f' <details class="more"><summary>and {len(wave) - WAVE_NAMES_SHOWN} more</summary>'
                f"{rest}</details>"
            )
        rows.append([str(number), str(len(wave)), shown])
    table = _table(
        ["wave", "flows", "flows (↻ = on a cycle)"],
        rows,
        empty="No deployable flows.",
        table_id="waves-table",
    )
    return (
        f'<section id="waves"><h2>Deployment waves ({len(analysis.waves)})</h2>'
        "<p>Publish wave 1 first: each wave only consumes flows of earlier waves.</p>"
        f"{table}</section>"
    )


def _problems_section(graph: NodeNames, analysis: GraphReport) -> str:
    rows = [
        [
            f'<span class="sev-{_e(problem.severity.value)}">{_e(problem.severity.value)}</span>',
            f"<code>{_e(problem.code.value)}</code>",
            ", ".join(_node_link(graph, node) for node in problem.object_ids),
            _e(problem.message),
            _e(problem.hint),
        ]
        for problem in analysis.problems
    ]
    table = _table(
        ["severity", "code", "objects", "problem", "how to fix"],
        rows,
        empty="No problems found.",
        table_id="problems-table",
    )
    return f'<section id="problems"><h2>Problems ({len(analysis.problems)})</h2>{table}</section>'


def _who_and_when(published_by: str | None, date_published: datetime | None) -> str:
    """ "Ana (id) · 2026-12-01 14:03 UTC", escaped; empty when the lock did not record them."""
    parts = [published_by or ""]
    if date_published is not None:
        parts.append(date_published.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    return _e(" · ".join(part for part in parts if part))


def _drift_rows(graph: NodeNames, diff: LockDiff) -> list[list[str]]:
    """Rows of [change, subject, detail, who/when] (markup; the first column still unescaped)."""
    rows: list[list[str]] = []
    for flow in diff.flows_added:
        rows.append(
            [
                "flow added",
                _node_link(graph, flow.id),
                _e(f"version {flow.published_version or '—'}"),
                _who_and_when(flow.published_by, flow.date_published),
            ]
        )
    for flow in diff.flows_removed:
        rows.append(["flow removed", f"{_e(flow.name)} <code>{_e(flow.id)}</code>", ""])
    for version_change in diff.flows_reversioned:
        detail = f"{version_change.old_version or '—'} → {version_change.new_version or '—'}"
        who = _who_and_when(version_change.published_by, version_change.date_published)
        rows.append(["flow republished", _node_link(graph, version_change.flow_id), _e(detail), who])
    for rename in diff.flows_renamed:
        rows.append(
            ["flow renamed", _node_link(graph, rename.flow_id), _e(f"{rename.old_name} → {rename.new_name}")]
        )
    for type_change in diff.flows_retyped:
        detail = f"{type_change.old_type} → {type_change.new_type}"
        rows.append(["flow type changed", _node_link(graph, type_change.flow_id), _e(detail)])
    for kind, edges in (("consumes added", diff.edges_added), ("consumes removed", diff.edges_removed)):
        for edge in edges:
            dependency = edge.dependency
            detail = (
                f"{dependency.type} {dependency.name or dependency.id} version {dependency.version or '—'}"
            )
            subject = _node_link(graph, edge.flow_id) if edge.flow_id in graph else _e(edge.flow_name)
            rows.append([kind, subject, _e(detail)])
    for locked in diff.objects_added:
        rows.append(["object added", _e(f"{locked.type} {locked.name or locked.id}"), _e(locked.id)])
    for locked in diff.objects_removed:
        rows.append(["object removed", _e(f"{locked.type} {locked.name or locked.id}"), _e(locked.id)])
    for change in diff.objects_changed:
        fields = ", ".join(
            f"{field} {getattr(change.old, field)} → {getattr(change.new, field)}"
            for field in change.changed_fields
        )
        rows.append(
            ["object changed", _e(f"{change.new.type} {change.new.name or change.new.id}"), _e(fields)]
        )
    for failed in diff.failed_objects_added:
        rows.append(["index failure added", _e(failed.name or failed.id), _e(failed.error_code)])
    for failed in diff.failed_objects_removed:
        rows.append(["index failure resolved", _e(failed.name or failed.id), _e(failed.error_code)])
    return [[_e(row[0]), row[1], row[2], row[3] if len(row) > 3 else ""] for row in rows]


def _latest_publish(diff: LockDiff) -> str:
    """ " Latest: <flow> by <who> at <when>." for the newest recorded publish in the drift."""
    stamped = [
        (flow.date_published, flow.name, flow.published_by)
        for flow in diff.flows_added
        if flow.date_published is not None
    ] + [
        (change.date_published, change.name, change.published_by)
        for change in diff.flows_reversioned
        if change.date_published is not None
    ]
    if not stamped:
        return ""
    when, name, who = max(stamped, key=lambda entry: entry[0] or datetime.min.replace(tzinfo=UTC))
    return (
        f' <span id="drift-latest">Latest: {_e(name)} published by {_e(who or "an unknown user")}'
        f" at {_who_and_when(None, when)}.</span>"
    )


def _drift_section(graph: NodeNames, diff: LockDiff | None) -> str:
    if diff is None:
        body = (
            '<p class="empty" id="drift-table">No previous lock to compare with: this is the first scan.</p>'
        )
        heading = "Drift since the previous lock"
    elif diff.is_empty:
        body = _empty("drift-table", f"No drift: the lock is unchanged ({diff.from_sha256[:12]}).")
        heading = "Drift since the previous lock (none)"
    else:
        rows = _drift_rows(graph, diff)
        body = (
            f"<p>From lock <code>{_e(diff.from_sha256[:12])}</code> "
            f"to <code>{_e(diff.to_sha256[:12])}</code>: "
            f"{len(diff.changed_flow_ids())} flows changed.{_latest_publish(diff)}</p>"
            + _table(
                ["change", "subject", "detail", "published by, when"],
                rows,
                empty="No drift.",
                table_id="drift-table",
            )
        )
        heading = f"Drift since the previous lock ({len(rows)} changes)"
    return f'<section id="drift"><h2>{_e(heading)}</h2>{body}</section>'


def _ms(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def _trace_section(trace: TraceReport) -> str:
    coverage = trace.coverage
    stats = {entry.step_key: entry for entry in trace.actions}
    bottlenecks = _table(
        ["#", "action", "runs", "total", "share", "p50", "p95", "max"],
        [
            [
                str(item.rank),
                _e(item.label),
                str(item.executions),
                _e(_ms(item.total_ms)),
                _e(f"{item.share_of_time:.1%}"),
                _e(_ms(stats[item.step_key].p50_ms if item.step_key in stats else None)),
                _e(_ms(item.p95_ms)),
                _e(_ms(stats[item.step_key].max_ms if item.step_key in stats else None)),
            ]
            for item in trace.bottlenecks_by_total
        ],
        empty="No timed actions.",
        table_id="bottlenecks-table",
    )
    errors = _table(
        ["reason", "runs", "share of runs", "where most failed"],
        [
            [
                _e(error.reason),
                str(error.runs),
                _e(f"{error.share_of_runs:.1%}"),
                _e(
                    f"{error.common_location.label or 'no event'} via "
                    f"{error.common_location.output_path_id or 'default path'} "
                    f"({error.share_at_common_location:.0%})"
                ),
            ]
            for error in trace.errors
        ],
        empty="No failing runs.",
        table_id="trace-errors-table",
    )
    critical = ""
    if trace.critical_path is not None:
        path = trace.critical_path
        critical = (
            f"<p>Most common critical path ({path.runs} runs, {path.share_of_runs:.1%}, median "
            f"{_e(_ms(path.median_total_ms))}): {_e(' → '.join(path.labels))}</p>"
        )
    waterfall = ""
    if trace.slowest_run is not None:
        # render_waterfall_svg escapes its text and fetches nothing, so it is embedded as is.
        waterfall = (
            '<h3>Slowest run</h3><div class="waterfall" id="waterfall">'
            + render_waterfall_svg(trace.slowest_run)
            + "</div>"
        )
    return (
        '<section id="trace"><h2>Execution trace</h2>'
        f"<p>{trace.runs_analyzed} runs analysed ({trace.failing_runs} failing); "
        f"{coverage.runs_parsed_completely}/{coverage.documents} documents parsed completely "
        f"({coverage.parse_coverage:.1%}), {coverage.durations_unknown} durations unknown.</p>"
        f"<h3>Bottlenecks by total time</h3>{bottlenecks}{critical}"
        f"<h3>Errors</h3>{errors}{waterfall}</section>"
    )


def _release_flow(graph: NodeNames, flow: ReportReleaseFlow) -> str:
    """A flow the release changed: a link to its node when the graph has it (a deleted or not yet
    scanned flow is named only), with its versions before → after."""
    label = _node_link(graph, flow.flow_id) if flow.flow_id and graph.get(flow.flow_id) else _e(flow.key)
    versions = (
        f"{flow.version_before or 'new'} → {flow.version_after or ('deleted' if flow.ok else 'failed')}"
    )
    return f"{label} <small>{_e(versions)}</small>"


def _releases_section(graph: NodeNames, releases: Sequence[ReportRelease]) -> str:
    rows = [
        [
            f"<code>{_e(release.run_id)}</code>",
            _e(release.status),
            _e(release.environment),
            _e(release.started_at),
            "<br>".join(_release_flow(graph, flow) for flow in release.flows) or _e(release.summary),
        ]
        for release in releases
    ]
    table = _table(
        ["release", "outcome", "environment", "started", "flows it changed (before → after)"],
        rows,
        empty="No release has ended yet.",
        table_id="releases-table",
    )
    return f'<section id="releases"><h2>Releases</h2>{table}</section>'


def _nav(links: Iterable[tuple[str, str]]) -> str:
    return "<nav>" + "".join(f'<a href="#{anchor}">{_e(label)}</a>' for anchor, label in links) + "</nav>"


def render_scan_report(
    lock: Lockfile | None,
    analysis: GraphReport,
    diff: LockDiff | None,
    trace: TraceReport | None = None,
    *,
    title: str,
    generated_at: datetime,
    graph: nx.DiGraph | None = None,
    report_graph: ReportGraphData | None = None,
    draw_limit: int = DEFAULT_DRAW_LIMIT,
    releases: Sequence[ReportRelease] | None = None,
) -> str:
    """The scan report as one HTML document (UTF-8 text).

    ``analysis`` is ``flowops.graph.analyze(lock)``; ``diff`` the drift from the previous lock
    (None for a first scan); ``trace`` adds the bottleneck table and the slowest run's waterfall.
    Pass ``graph`` when ``build_graph(lock)`` was already built, or ``report_graph`` (the stored
    ``build_report_graph(graph, analysis, None)``) so no graph is built at all (``lock`` may then
    be None). At most ``draw_limit`` nodes are drawn at once: larger orgs start with the most
    connected nodes and draw the neighbourhood (cycle, dependencies, impact set) of whatever is
    searched or clicked. ``releases`` (``flowops.report.releases.recent_releases``) adds a
    Releases section linking each release to the flows it changed.
    """
    if draw_limit < 1:
        raise ValueError("draw_limit must be at least 1")
    if report_graph is None:
        if lock is None and graph is None:
            raise ValueError("render_scan_report needs the lock, its graph or the stored report graph")
        if graph is None:
            assert lock is not None
            graph = build_graph(lock)
        report_graph = build_report_graph(graph, analysis, diff)
    else:
        report_graph = report_graph.with_changed(diff)
    payload = report_graph.as_payload() | {"draw_limit": draw_limit}
    names = report_graph.names()
    script, style = _asset("report.js"), _asset("report.css")
    policy = (
        f"default-src 'none'; script-src '{_csp_hash(script)}'; style-src '{_csp_hash(style)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    errors = sum(1 for problem in analysis.problems if problem.severity.value == "error")
    cards = "".join(
        [
            _card("flows", analysis.counts.flows),
            _card("nodes", analysis.counts.nodes),
            _card("edges", analysis.counts.edges),
            _card("cycles", len(analysis.cycles), bad=bool(analysis.cycles)),
            _card("waves", len(analysis.waves)),
            _card("missing", len(analysis.missing), bad=bool(analysis.missing)),
            _card("problems (errors)", f"{len(analysis.problems)} ({errors})", bad=errors > 0),
            _card("changed flows", "—" if diff is None else len(diff.changed_flow_ids())),
        ]
    )
    # Drift first: what changed since the last lock is what an operator opens the report for.
    links = [
        ("drift", "Drift"),
        ("graph-section", "Graph"),
        ("cycles", "Cycles"),
        ("waves", "Waves"),
        ("problems", "Problems"),
    ]
    if releases is not None:
        links.append(("releases", "Releases"))
    if trace is not None:
        links.append(("trace", "Trace"))
    sections = [
        _drift_section(names, diff),
        _asset("graph_section.html"),
        _cycles_section(names, analysis),
        _waves_section(names, analysis),
        _problems_section(names, analysis),
    ]
    if releases is not None:
        sections.append(_releases_section(names, releases))
    if trace is not None:
        sections.append(_trace_section(trace))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        # The policy is ours (keywords and base64 hashes, no double quotes): written verbatim.
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{_e(title)}</title><style>{style}</style></head>\n<body>"
        f"<header><h1>{_e(title)}</h1>"
        f'<div class="meta">org <b>{_e(analysis.org)}</b> · lock <code>{_e(analysis.lock_sha256)}</code> · '
        f"generated {_e(generated_at.isoformat(timespec='seconds'))}</div></header>"
        f"{_nav(links)}<main>"
        f'<section id="summary"><div class="cards">{cards}</div></section>' + "\n".join(sections) + "</main>"
        f'<script type="application/json" id="report-data">{embed_json(payload)}</script>'
        f"<script>{script}</script></body></html>\n"
    )
