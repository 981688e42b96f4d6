"""Flow execution-data analysis: parse documents, aggregate runs, render results.

Pure functions over pydantic models; fetching the data is the Genesys client's job and the
trace handlers glue the two. See parse.py and analyze.py for the exact definitions.
"""

from flowops.trace.analyze import analyze_runs, critical_path_of, nearest_rank_percentile
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
    ParseAnomaly,
    ParsedRun,
    ParseFailure,
    PathEdge,
    TraceReport,
)
from flowops.trace.parse import parse_execution_document
from flowops.trace.render import render_waterfall_svg, summarize
from flowops.trace.window import (
    EXECUTION_DATA_RETENTION,
    QUERY_ROW_CAP,
    SlicedRows,
    TimeSlice,
    TraceRequestError,
    slice_window,
    validate_trace_window,
)

__all__ = [
    "EXECUTION_DATA_RETENTION",
    "QUERY_ROW_CAP",
    "ActionExecution",
    "ActionLatency",
    "AnomalyKind",
    "Bottleneck",
    "Coverage",
    "CriticalPath",
    "ErrorCorrelation",
    "ErrorLocation",
    "Gap",
    "ParseAnomaly",
    "ParseFailure",
    "ParsedRun",
    "PathEdge",
    "SlicedRows",
    "TimeSlice",
    "TraceReport",
    "TraceRequestError",
    "analyze_runs",
    "critical_path_of",
    "nearest_rank_percentile",
    "parse_execution_document",
    "render_waterfall_svg",
    "slice_window",
    "summarize",
    "validate_trace_window",
]
