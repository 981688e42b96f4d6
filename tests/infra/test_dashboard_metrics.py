"""Every pipeline metric the dashboard graphs or an alarm watches is the metric the handlers emit:
same name, same namespace, same dimension names (a metric graphed without one of the dimensions
it is emitted with stays empty).

The emitted side is read from the handlers' code: in powertools every metric of one flush
carries every dimension added during that invocation, so a module's metrics carry `service` plus
each `metrics.add_dimension` of that module.
"""

from __future__ import annotations

import ast
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from infra.constants import FUNCTIONS_SOURCE_DIR, POWERTOOLS_METRICS_NAMESPACE
from tests.infra.conftest import SynthesizedApp
from tests.infra.definitions import REF


def _literal_names(node: ast.expr | None) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _literal_names(node.body) | _literal_names(node.orelse)
    return set()


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


def emitted_metrics(root: Path = FUNCTIONS_SOURCE_DIR) -> dict[str, set[frozenset[str]]]:
    """metric name → the dimension-name sets it is emitted with through the shared `metrics`."""
    emitted: dict[str, set[frozenset[str]]] = defaultdict(set)
    for module in sorted(root.rglob("*.py")):
        calls = [
            node
            for node in ast.walk(ast.parse(module.read_text()))
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "metrics"
        ]
        dimensions = frozenset(
            {"service"}
            | {
                name
                for call in calls
                if call.func.attr == "add_dimension"
                for name in _literal_names(_keyword(call, "name"))
            }  # type: ignore[attr-defined]
        )
        for call in calls:
            if call.func.attr == "add_metric":  # type: ignore[attr-defined]
                for name in _literal_names(_keyword(call, "name")):
                    emitted[name].add(dimensions)
    return dict(emitted)


def _rendered(value: Any) -> str:
    if isinstance(value, str):
        return value
    ((function, argument),) = value.items()
    assert function == "Fn::Join", function
    return str(argument[0]).join(part if isinstance(part, str) else REF for part in argument[1])


def _graphed(template: dict[str, Any]) -> list[tuple[str, frozenset[str]]]:
    graphed = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::CloudWatch::Dashboard":
            continue
        body = json.loads(_rendered(resource["Properties"]["DashboardBody"]))
        for widget in body["widgets"]:
            for row in widget.get("properties", {}).get("metrics", []):
                values = [item for item in row if not isinstance(item, dict)]
                if values and values[0] == POWERTOOLS_METRICS_NAMESPACE:
                    graphed.append((values[1], frozenset(values[2::2])))
    return graphed


def _alarmed(template: dict[str, Any]) -> list[tuple[str, frozenset[str]]]:
    return [
        (props["MetricName"], frozenset(d["Name"] for d in props.get("Dimensions", [])))
        for props in (
            r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"
        )
        if props.get("Namespace") == POWERTOOLS_METRICS_NAMESPACE
    ]


def test_the_handlers_emit_metrics_with_an_org_dimension_at_all() -> None:
    # Given the handlers' code, Then the scan report's metrics carry the org (the case that broke)
    assert emitted_metrics()["FlowsScanned"] == {frozenset({"service", "org"})}


def test_dashboard_and_alarms_use_the_emitted_names_and_dimensions(
    synthesized_with_nag: SynthesizedApp,
) -> None:
    # Given what the handlers emit and what the dashboard and alarms ask CloudWatch for
    emitted = emitted_metrics()
    watched = _graphed(synthesized_with_nag.template) + _alarmed(synthesized_with_nag.template)
    assert len(watched) > 10
    # Then every watched pipeline metric is emitted, with exactly the dimensions watched
    mismatches = {
        name: (sorted(dimensions), sorted(sorted(d) for d in emitted.get(name, set())))
        for name, dimensions in watched
        if dimensions not in emitted.get(name, set())
    }
    assert mismatches == {}
