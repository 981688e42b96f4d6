"""`flowops scan` and `flowops graph` against a running local cloud (the `local up` code path:
boto3 with an endpoint URL) and against an embedded one started for the command."""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowops.cli import app, exit_codes
from flowops.cli.local_cloud import ENDPOINTS_FILE_VARIABLE, embedded_cloud, write_endpoints

pytestmark = pytest.mark.slow


def consumers_of(org: object, object_id: str) -> set[str]:
    """Flows that reach `object_id` through published consumes-edges (reverse BFS, no flowops code)."""
    reverse: dict[str, set[str]] = {}
    for flow in org.flows.values():  # type: ignore[attr-defined]
        if flow.deleted or flow.published_version_id is None or not flow.object_type:
            continue  # dependency tracking cannot answer for a SPEECH flow: the lock has it unread
        for dependency in flow.versions[flow.published_version_id].consumes:
            reverse.setdefault(dependency.id, set()).add(flow.id)
    found: set[str] = set()
    queue = deque(reverse.get(object_id, ()))
    while queue:
        flow_id = queue.popleft()
        if flow_id not in found:
            found.add(flow_id)
            queue.extend(reverse.get(flow_id, ()))
    return found


def test_scan_json_and_graph_impact_against_a_running_local_cloud(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given a running local cloud (simulator + AWS emulation over HTTP) whose endpoints are recorded
    monkeypatch.setenv(ENDPOINTS_FILE_VARIABLE, str(tmp_path / "endpoints.json"))
    with embedded_cloud(flows=40, seed=2, mode="server") as cloud:
        write_endpoints(cloud.connection)
        # When `flowops scan --json` runs
        scanned = CliRunner().invoke(app, ["scan", "--json", "--page-size", "20"])
        # Then it prints one JSON object with the documented fields
        assert scanned.exit_code == 0, scanned.output
        document = json.loads(scanned.stdout)
        for field in ("flows", "nodes", "edges", "cycles", "waves", "missing", "lock_sha256", "api_calls"):
            assert field in document
        assert document["execution_arn"].startswith("arn:aws:states:")
        assert document["flows"] == 40
        assert all(isinstance(cycle, list) and cycle for cycle in document["cycles"])
        assert sorted(flow for wave in document["waves"] for flow in wave) == sorted(
            flow.id for flow in cloud.simulator.org.flows.values() if not flow.deleted
        )
        # When the impact of the most consumed common module is asked from the current lock
        module = max(
            (flow for flow in cloud.simulator.org.flows.values() if flow.flow_type == "COMMONMODULE"),
            key=lambda flow: len(consumers_of(cloud.simulator.org, flow.id)),
        )
        impact = CliRunner().invoke(app, ["graph", "impact", module.id, "--json"])
        # Then it names exactly the flows that transitively consume it
        assert impact.exit_code == 0, impact.output
        named = {entry["flow_id"] for entry in json.loads(impact.stdout)["flows"]}
        assert named == consumers_of(cloud.simulator.org, module.id) and named


def test_scan_without_a_running_cloud_starts_an_embedded_one_and_prints_a_summary(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given no running local cloud and no deployed stack
    monkeypatch.setenv(ENDPOINTS_FILE_VARIABLE, str(tmp_path / "absent.json"))
    for name in ("ARTIFACTS_BUCKET", "STATE_TABLE", "AUDIT_TABLE"):
        monkeypatch.delenv(name, raising=False)
    # When `flowops scan` runs without --json
    result = CliRunner().invoke(app, ["scan", "--flows", "25", "--seed", "4"])
    # Then the embedded cloud ran the scan and a readable summary is printed
    assert result.exit_code == 0, result.output
    assert "scanned 25 flows of org" in result.output
    assert "first lock of org" in result.output


def test_scan_with_a_bad_fault_spec_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENDPOINTS_FILE_VARIABLE, str(tmp_path / "absent.json"))
    for name in ("ARTIFACTS_BUCKET", "STATE_TABLE", "AUDIT_TABLE"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, ["scan", "--faults", "bogus=1"])
    assert result.exit_code == exit_codes.USAGE_ERROR
    assert "error:" in result.output and "Traceback" not in result.output
