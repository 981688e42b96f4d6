"""`flowops graph ...` answering from a lock file (no cloud needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowops.cli import app, exit_codes
from flowops.lock import canonical_bytes
from flowops.scan.assemble import assemble_lock
from flowops.scan.models import ObservedObject, PageFlows


@pytest.fixture
def lock_file(tmp_path: Path) -> Path:
    """main -> billing -> main (a cycle); entry -> main; billing uses module cm; a queue nobody else uses."""

    def flow(flow_id: str, flow_type: str, *consumes: tuple[str, str]) -> dict[str, object]:
        return {
            "id": flow_id,
            "name": flow_id.title(),
            "type": flow_type,
            "published_version": "1.0",
            "consumes": [
                {"id": target, "type": kind, "name": target, "version": "1.0"} for target, kind in consumes
            ],
        }

    flows = [
        flow("main", "INBOUNDCALL", ("billing", "INBOUNDCALLFLOW"), ("q1", "QUEUE")),
        flow("billing", "INBOUNDCALL", ("main", "INBOUNDCALLFLOW"), ("cm", "COMMONMODULEFLOW")),
        flow("entry", "INBOUNDCALL", ("main", "INBOUNDCALLFLOW")),
        flow("cm", "COMMONMODULE"),
    ]
    objects = [
        ObservedObject(id="billing", type="INBOUNDCALLFLOW"),
        ObservedObject(id="main", type="INBOUNDCALLFLOW"),
        ObservedObject(id="cm", type="COMMONMODULEFLOW"),
        ObservedObject(id="q1", type="QUEUE"),
    ]
    lock = assemble_lock("dev", [PageFlows(page_number=1, flows=flows, objects=objects)])
    path = tmp_path / "lock.json"
    path.write_bytes(canonical_bytes(lock))
    return path


def test_impact_lists_every_transitive_consumer_with_its_path(lock_file: Path) -> None:
    # Given a lock where entry -> main -> billing -> cm
    # When the impact of the common module is asked
    result = CliRunner().invoke(app, ["graph", "impact", "cm", "--json", "--lock-file", str(lock_file)])
    # Then every flow that reaches it is named with the path that explains it
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    paths = {entry["flow_id"]: entry["path"] for entry in document["flows"]}
    assert set(paths) == {"billing", "main", "entry"}
    assert paths["entry"] == ["entry", "main", "billing", "cm"]


def test_cycles_are_reported_not_failed_and_waves_put_dependencies_first(lock_file: Path) -> None:
    # When cycles and waves are asked
    cycles = CliRunner().invoke(app, ["graph", "cycles", "--json", "--lock-file", str(lock_file)])
    waves = CliRunner().invoke(app, ["graph", "waves", "--json", "--lock-file", str(lock_file)])
    # Then the cycle is reported with its names, but exits 0: flows transferring to each other
    # are normal in Genesys; the waves order cm, the cycle, entry
    assert cycles.exit_code == exit_codes.OK
    cycle = json.loads(cycles.stdout)["cycles"]
    assert [c["members"] for c in cycle] == [["billing", "main"]]
    assert cycle[0]["names"] == ["Billing", "Main"]
    assert waves.exit_code == 0
    assert json.loads(waves.stdout)["waves"] == [["cm"], ["billing", "main"], ["entry"]]


def test_export_writes_dot_and_unknown_object_is_a_usage_error(lock_file: Path, tmp_path: Path) -> None:
    # When the graph is exported as DOT, and the impact of an unknown id is asked
    target = tmp_path / "graph.dot"
    export = CliRunner().invoke(
        app, ["graph", "export", "--format", "dot", "-o", str(target), "--lock-file", str(lock_file)]
    )
    unknown = CliRunner().invoke(app, ["graph", "impact", "nope", "--lock-file", str(lock_file)])
    # Then the DOT file is written and the unknown id gives one clear line and exit 2
    assert export.exit_code == 0
    assert target.read_text().startswith("digraph")
    assert unknown.exit_code == exit_codes.USAGE_ERROR
    assert "nope" in unknown.output and "Traceback" not in unknown.output


def test_graph_without_any_cloud_or_lock_file_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given no running local cloud and no deployed stack configured
    monkeypatch.setenv("FLOWOPS_LOCAL_ENDPOINTS", str(tmp_path / "none.json"))
    for name in ("ARTIFACTS_BUCKET", "STATE_TABLE", "AUDIT_TABLE"):
        monkeypatch.delenv(name, raising=False)
    # When a graph question is asked
    result = CliRunner().invoke(app, ["graph", "waves"])
    # Then the command says how to get a cloud, exit 3
    assert result.exit_code == exit_codes.UNREACHABLE
    assert "flowops local up" in result.output
