"""The synthesized scan state machine, executed in moto with the real handlers against the
Genesys simulator: results, stability, drift and incremental cost."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flowops.local.runtime.lambdas import invocation_slot_released
from flowops.local.simulator import load_org_file
from flowops.lock import lock_sha256, parse_lock
from tests.e2e.scan_helpers import ScanWorld, expected_graph, start_world

pytestmark = pytest.mark.slow

ORG_FIXTURES = Path(__file__).resolve().parents[1] / "unit" / "fixtures" / "orgs"


@pytest.fixture
def world_factory(
    start_simulator: Callable[..., Any], local_cloud_factory: Callable[..., Any]
) -> Callable[..., ScanWorld]:
    return lambda **sim: start_world(start_simulator, local_cloud_factory, **sim)


def assert_matches_independent_computation(world: ScanWorld, output: dict[str, Any]) -> None:
    expected = expected_graph(world.sim.org)
    analysis = world.json_artifact(output["report_key"])["analysis"]
    assert (output["flows"], output["nodes"], output["edges"]) == (
        expected.flows,
        expected.nodes,
        expected.edges,
    )
    assert sorted(cycle["members"] for cycle in analysis["cycles"]) == expected.cycles
    assert analysis["missing"] == expected.missing
    # every witness is a real closed walk inside its component
    for cycle in analysis["cycles"]:
        assert cycle["witness"][0] == cycle["witness"][-1]
        assert set(cycle["witness"]) <= set(cycle["members"])


def test_scan_of_a_generated_org_matches_an_independent_computation(
    world_factory: Callable[..., ScanWorld],
) -> None:
    # Given a generated org of 80 flows in the simulator
    world = world_factory(flows=80, seed=11)
    # When the synthesized scan state machine runs
    result = world.scan("scan-generated")
    # Then it succeeds through every named state, with the page Map fanning out
    assert result.status == "SUCCEEDED", result.cause
    states = result.states_entered()
    assert states[0] == "Start the scan" and states[-1] == "Scan complete"
    assert states.count("Read one page of flows and their dependencies") == 4  # 80 flows / 25
    # and the graph equals the one computed independently from the simulator's org model
    assert_matches_independent_computation(world, result.output)
    # and the stored lock verifies: key, bytes and body hash agree, and the pointer names it
    lock = parse_lock(world.artifact(result.output["lock_key"]))
    assert lock_sha256(lock) == result.output["lock_sha256"]
    assert world.current_pointer()["sha"] == result.output["lock_sha256"]  # type: ignore[index]
    # and the heavy graph exports are left to `flowops graph export` (not asked for), while the
    # report's compact graph is stored for the report step
    assert result.output["report_key"]
    assert gzip.decompress(world.artifact("scans/dev/scan-generated/report-graph.json.gz")).startswith(b"{")
    # and the large per-scan artifacts are stored gzip-compressed: page results as .json.gz,
    # the HTML report with Content-Encoding gzip so a browser opening it from S3 inflates it
    bucket = world.environment["ARTIFACTS_BUCKET"]
    page = world.cloud.s3.get_object(Bucket=bucket, Key="scans/dev/scan-generated/pages/00001.json.gz")
    assert json.loads(gzip.decompress(page["Body"].read()))["page_number"] == 1
    report = world.cloud.s3.get_object(Bucket=bucket, Key=result.output["report_html_key"])
    assert report["ContentEncoding"] == "gzip" and report["ContentType"].startswith("text/html")
    assert gzip.decompress(report["Body"].read()).lstrip().lower().startswith(b"<!doctype html")
    assert world.json_artifact(result.output["report_key"])["exports"] == {}
    # and a flow published against an older data-action version than the current one is
    # reported as a stale snapshot (the versions came from the integrations listing)
    org = world.sim.org
    stale_data_actions = {
        (problem["object_ids"][0], problem["consumer_ids"][0])
        for problem in world.json_artifact(result.output["report_key"])["analysis"]["problems"]
        if problem["code"] == "STALE_SNAPSHOT" and org.objects.get(problem["object_ids"][0]) is not None
    }
    expected_stale = {
        (dependency.id, flow.id)
        for flow in org.flows.values()
        if flow.published_version_id and not flow.deleted
        for dependency in flow.versions[flow.published_version_id].consumes
        if dependency.object_type == "DATAACTION"
        and not org.objects[dependency.id].deleted
        and int(dependency.version or 0) < org.objects[dependency.id].version
    }
    assert expected_stale and stale_data_actions == expected_stale
    versions = world.json_artifact("scans/dev/scan-generated/data-action-versions.json")["versions"]
    assert {action_id for action_id, _ in expected_stale} <= set(versions)


@pytest.mark.parametrize(
    "fixture",
    [
        "nested_cycles.json",
        "common_module_cycle.json",
        "diamond.json",
        "deleted_references.json",
        "self_loop.json",
    ],
)
def test_scan_of_tricky_hand_made_orgs_matches_an_independent_computation(
    world_factory: Callable[..., ScanWorld], fixture: str
) -> None:
    # Given a hand-made org with a tricky shape
    world = world_factory(org=load_org_file(ORG_FIXTURES / fixture))
    # When it is scanned
    result = world.scan(f"scan-{fixture.removesuffix('.json').replace('_', '-')}")
    # Then the result equals the independent computation
    assert result.status == "SUCCEEDED", result.cause
    assert_matches_independent_computation(world, result.output)


def test_same_org_twice_same_sha_then_one_republished_flow_is_the_whole_drift(
    world_factory: Callable[..., ScanWorld],
) -> None:
    # Given an org scanned once (a full scan)
    world = world_factory(flows=120, seed=5)
    full = world.scan("scan-full", full=True, page_size=100)
    assert full.status == "SUCCEEDED", full.cause
    # When it is scanned again with nothing changed
    again = world.scan("scan-again", page_size=100)
    # Then the lock hash is the same and the pointer did not move
    assert again.output["lock_sha256"] == full.output["lock_sha256"]
    assert again.output["pointer"]["unchanged"] is True
    # When one flow is republished through the real API and the org is scanned incrementally
    flow = next(
        flow
        for flow in world.sim.org.flows.values()
        if flow.published_version_id and flow.flow_type == "INBOUNDCALL" and flow.locked_by is None
    )
    world.republish(flow.id)
    incremental = world.scan("scan-incremental", page_size=100)
    # Then the drift names exactly that flow
    assert incremental.status == "SUCCEEDED", incremental.cause
    drift = incremental.output["drift"]
    assert drift["changed_flow_ids"] == [flow.id] and drift["flows_reversioned"] == 1
    report = world.json_artifact(incremental.output["report_key"])
    assert [change["flow_id"] for change in report["drift"]["flows_reversioned"]] == [flow.id]
    # and the incremental scan spent a small fraction of the full scan's API calls
    assert incremental.output["read_flows"] == 1
    assert incremental.output["api_calls"] * 10 <= full.output["api_calls"]
    assert world.current_pointer()["sha"] == incremental.output["lock_sha256"]  # type: ignore[index]


class PageReaders:
    """Wraps the real ReadFlowPage handler: records when each call's handler body ran and either
    makes the first two calls meet (each waits, off its function's clock, until a second page is
    being read) or lets only one call read at a time (a sequential scan)."""

    def __init__(self, real: Callable[[Any, Any], Any]) -> None:
        self.real = real
        self.intervals: list[tuple[float, float]] = []
        self.met = threading.Event()
        self.sequential = False
        self._arrived = 0
        self._lock = threading.Lock()
        self._one_at_a_time = threading.Lock()

    def __call__(self, event: Any, context: Any) -> Any:
        with invocation_slot_released():
            if self.sequential:
                self._one_at_a_time.acquire()
            else:
                with self._lock:
                    self._arrived += 1
                    if self._arrived == 2:
                        self.met.set()
                self.met.wait(60)
        try:
            started = time.monotonic()
            answer = self.real(event, context)
            with self._lock:
                self.intervals.append((started, time.monotonic()))
            return answer
        finally:
            if self.sequential:
                self._one_at_a_time.release()


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    """The largest number of the intervals that overlap at one instant."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


def test_the_page_map_reads_pages_concurrently_with_the_same_result_as_a_sequential_scan(
    world_factory: Callable[..., ScanWorld], monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowops.functions.scan import read_page

    # Given an org whose scan reads 4 pages in the page Map (MaxConcurrency 4)
    world = world_factory(flows=80, seed=11)
    readers = PageReaders(read_page.handler)
    monkeypatch.setattr(read_page, "handler", readers)
    # When it is scanned
    concurrent = world.scan("scan-concurrent", full=True)
    # Then, as in Lambda, pages were read at the same time, each invocation in an environment of
    # its own (the first two met inside their handlers: a one-at-a-time runtime never lets them)
    assert concurrent.status == "SUCCEEDED", concurrent.cause
    assert readers.met.is_set()
    page_calls = [c for c in world.cloud.runner.invocations if c.handler.endswith("read_page.handler")]
    assert len(page_calls) == 4 and all(c.error_type is None for c in page_calls)
    assert most_at_once([(c.started, c.ended) for c in page_calls]) >= 2
    assert most_at_once(readers.intervals) >= 2
    # When the same org is scanned again with one page read at a time
    readers.sequential, readers.intervals = True, []
    sequential = world.scan("scan-sequential", full=True)
    assert sequential.status == "SUCCEEDED", sequential.cause
    assert most_at_once(readers.intervals) == 1
    # Then both scans built the same lock, graph and analysis
    assert sequential.output["lock_sha256"] == concurrent.output["lock_sha256"]
    for key in ("flows", "nodes", "edges", "read_flows"):
        assert sequential.output[key] == concurrent.output[key], key
    analyses = [world.json_artifact(run.output["report_key"])["analysis"] for run in (concurrent, sequential)]
    assert analyses[0] == analyses[1]
    assert_matches_independent_computation(world, concurrent.output)
