"""`flowops graph export`: Mermaid within Mermaid's limits, and the HTML report page."""

from __future__ import annotations

import random
import re
from pathlib import Path

from typer.testing import CliRunner

from flowops.cli import app, exit_codes
from flowops.graph import build_graph, mermaid_parts
from flowops.graph.export import MERMAID_MAX_EDGES, MERMAID_MAX_TEXT
from flowops.lock import LockedDependency, LockedFlow, Lockfile, lock_document_bytes


def _big_lock(flows: int = 300, fan_out: int = 5) -> Lockfile:
    """`flows` inbound flows, each transferring to `fan_out` others (a 1,500-edge graph)."""
    chooser = random.Random(7)
    ids = [f"flow-{index:04d}" for index in range(flows)]
    return Lockfile(
        org="dev",
        flows=[
            LockedFlow(
                id=flow_id,
                name=f"Inbound Call Flow Number {index:04d} — “quoted” <tag>",
                type="INBOUNDCALL",
                published_version="1.0",
                consumes=[
                    LockedDependency(id=target, type="INBOUNDCALLFLOW", name=target, version="1.0")
                    for target in chooser.sample([other for other in ids if other != flow_id], fan_out)
                ],
            )
            for index, flow_id in enumerate(ids)
        ],
    )


def test_a_graph_over_mermaids_limits_is_split_into_parts_that_each_fit() -> None:
    # Given a 300-flow org with 1,500 edges (Mermaid renders at most 500 edges / 50,000 characters)
    graph = build_graph(_big_lock())
    # When it is exported as Mermaid
    parts = mermaid_parts(graph)
    # Then every part fits, and together they hold every edge exactly once
    assert len(parts) >= 3
    edge_lines = [re.findall(r"^\s+n\d+ -->", part, re.M) for part in parts]
    assert all(len(lines) <= MERMAID_MAX_EDGES for lines in edge_lines)
    assert all(len(part) <= MERMAID_MAX_TEXT for part in parts)
    assert sum(len(lines) for lines in edge_lines) == graph.number_of_edges()


def test_a_small_graph_stays_one_diagram() -> None:
    graph = build_graph(_big_lock(flows=20, fan_out=2))
    assert len(mermaid_parts(graph)) == 1


def test_export_writes_markdown_parts_and_the_html_page(tmp_path: Path, no_cloud: None) -> None:
    lock_path = tmp_path / "big.lock.json"
    lock_path.write_bytes(lock_document_bytes(_big_lock()))
    markdown, page = tmp_path / "graph.md", tmp_path / "graph.html"
    # When the big graph is exported as Mermaid and as HTML
    mermaid = CliRunner().invoke(
        app, ["graph", "export", "--format", "mermaid", "-o", str(markdown), "--lock-file", str(lock_path)]
    )
    html = CliRunner().invoke(
        app, ["graph", "export", "--format", "html", "-o", str(page), "--lock-file", str(lock_path)]
    )
    # Then the Mermaid file is Markdown with one fenced diagram per part, and says so
    assert mermaid.exit_code == exit_codes.OK, mermaid.output
    text = markdown.read_text(encoding="utf-8")
    assert text.count("```mermaid") >= 3 and "exceeds Mermaid's limits" in mermaid.stderr
    # And the HTML is the report page, names escaped
    assert html.exit_code == exit_codes.OK, html.output
    document = page.read_text(encoding="utf-8")
    assert document.lstrip().lower().startswith("<!doctype html")
    assert "Inbound Call Flow Number 0000" in document and "<tag>" not in document


def test_export_to_a_missing_directory_is_one_usage_error(tmp_path: Path, no_cloud: None) -> None:
    lock_path = tmp_path / "small.lock.json"
    lock_path.write_bytes(lock_document_bytes(_big_lock(flows=5, fan_out=1)))
    result = CliRunner().invoke(
        app, ["graph", "export", "-o", str(tmp_path / "missing" / "x.json"), "--lock-file", str(lock_path)]
    )
    assert result.exit_code == exit_codes.USAGE_ERROR
    assert result.stderr.count("error:") == 1 and "does not exist" in result.stderr
    assert not (tmp_path / "missing").exists()


def test_a_wave_longer_than_the_page_shows_expands_to_every_member(tmp_path: Path, no_cloud: None) -> None:
    # Given an org whose flows all reach each other (one wave of 300)
    lock_path = tmp_path / "big.lock.json"
    lock_path.write_bytes(lock_document_bytes(_big_lock()))
    page = tmp_path / "graph.html"
    # When its report page is exported
    result = CliRunner().invoke(
        app, ["graph", "export", "--format", "html", "-o", str(page), "--lock-file", str(lock_path)]
    )
    # Then the wave lists the first names and expands in place to all the others
    assert result.exit_code == exit_codes.OK, result.output
    waves = page.read_text(encoding="utf-8").split('id="waves"', 1)[1].split("</section>", 1)[0]
    assert "<details" in waves and "more</summary>" in waves
    assert all(f"flow-{index:04d}" in waves for index in range(300))
