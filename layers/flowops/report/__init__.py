"""Human-facing reports of flowops runs.

- :func:`render_scan_report` — the scan's self-contained HTML report: interactive dependency
  graph (pan, zoom, search, impact set and cycle of a node), cycles, waves, problems, drift and,
  optionally, a trace's bottlenecks and waterfall. Pure: returns text, stores nothing.
- :func:`build_report_graph` — the compact graph payload the report's script draws.
"""

from flowops.report.graph_data import NodeFlag, ReportGraphData, build_report_graph
from flowops.report.html import DEFAULT_DRAW_LIMIT, embed_json, render_scan_report

__all__ = [
    "DEFAULT_DRAW_LIMIT",
    "NodeFlag",
    "ReportGraphData",
    "build_report_graph",
    "embed_json",
    "render_scan_report",
]
