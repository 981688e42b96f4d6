"""The synthesized trace state machine, executed in moto with the real handlers against the
Genesys simulator: every branch, and analysis results checked against the planted behaviour."""

from __future__ import annotations

import json
import math
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from typing import Any

import pytest

from flowops.local.runtime.cloud import LOCAL_GENESYS_CREDENTIALS
from flowops.local.simulator import generate_org
from flowops.local.simulator.executions import (
    CorruptionKind,
    FailingPath,
    FlowRun,
    PlantedBehaviour,
    SlowAction,
    corrupt_document,
    generate_flow_runs,
)
from flowops.webhook.signature import SIGNATURE_HEADER, verify

pytestmark = pytest.mark.slow

TRACE_STATE_MACHINE = "TraceWorkflow/StateMachine"
TIME_SCALE = 60.0
INVALID_REQUEST_STATE = "The trace request is invalid or outside the 10-day retention"
WEBHOOK_SECRET = "trace-hook-secret-for-tests"
SLOW_ACTION = "6"  # Play Welcome Menu
FAILING_ACTION = "3"  # Lookup Customer (data action)
PLANTED = PlantedBehaviour(
    slow_action=SlowAction(action_id=SLOW_ACTION, extra_ms=(2500, 4000)),
    failing_path=FailingPath(
        action_id=FAILING_ACTION, output_path_id="__FAILURE__", error_reason="DATA_ACTION_FAILED", share=0.3
    ),
)


# --------------------------------------------------------------------------- a webhook receiver


@dataclass
class Receiver:
    """A tiny HTTP receiver on 127.0.0.1 standing in for the observability webhook."""

    status: int = 200
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hooks/flowops"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append((dict(self.headers.items()), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


# --------------------------------------------------------------------------- the world


@dataclass
class TraceWorld:
    sim: Any
    cloud: Any
    flow_id: str
    flow_name: str
    runs: list[FlowRun]

    def trace(self, name: str, **request: Any) -> Any:
        request.setdefault("flow", self.flow_id)
        request.setdefault("since", "2h")
        return self.cloud.start_and_wait(TRACE_STATE_MACHINE, request, name=name, timeout=120)

    def env(self, function: str) -> dict[str, str]:
        return dict(self.cloud.function_environment(function))

    def artifact(self, key: str) -> bytes:
        bucket = self.env("AnalyzeExecutions")["ARTIFACTS_BUCKET"]
        return bytes(self.cloud.s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    def report(self, output: dict[str, Any]) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.artifact(output["report_key"]))
        return document


def plant_runs(
    org: Any, *, count: int, seed: int, now: datetime, span: timedelta
) -> tuple[str, str, list[FlowRun]]:
    """Replace the runs of one published inbound call flow with `count` runs of known behaviour."""
    flow = next(
        f
        for f in sorted(org.flows.values(), key=lambda f: f.id)
        if f.flow_type == "INBOUNDCALL" and f.published_version_id and not f.deleted
    )
    for instance_id in [i for i, row in org.flow_instances.items() if row.get("flowId") == flow.id]:
        del org.flow_instances[instance_id]
        org.flow_instance_documents.pop(instance_id, None)
    runs = generate_flow_runs(
        flow_id=flow.id,
        flow_name=flow.name,
        flow_type="INBOUNDCALL",
        flow_version=flow.published_version_id,
        actions=None,
        seed=seed,
        count=count,
        window_start=now - span - timedelta(minutes=5),
        window_end=now - timedelta(minutes=5),
        planted=PLANTED,
    )
    for run in runs:
        org.add_flow_run(run.instance_row, run.document)
    return flow.id, flow.name, runs


@pytest.fixture
def world_factory(
    start_simulator: Callable[..., Any], local_cloud_factory: Callable[..., Any]
) -> Callable[..., TraceWorld]:
    def build(
        *, runs: int = 60, seed: int = 5, span: timedelta = timedelta(minutes=90), faults: str | None = None,
        prepare: Callable[[Any, list[FlowRun]], None] | None = None, env: dict[str, str] | None = None,
    ) -> TraceWorld:  # fmt: skip
        now = datetime.now(UTC)
        org = generate_org(12, seed=seed, now=now.timestamp())
        flow_id, flow_name, planted = plant_runs(org, count=runs, seed=seed, now=now, span=span)
        if prepare is not None:
            prepare(org, planted)
        client_id, client_secret = LOCAL_GENESYS_CREDENTIALS
        sim = start_simulator(
            org, client_id=client_id, client_secret=client_secret, time_scale=TIME_SCALE, faults=faults
        )
        cloud = local_cloud_factory(
            genesys_base_url=sim.url, env_overrides={"FLOWOPS_TIME_SCALE": str(TIME_SCALE), **(env or {})}
        )
        return TraceWorld(sim, cloud, flow_id, flow_name, planted)

    return build


def with_webhook(world: TraceWorld) -> None:
    secret_id = world.env("DeliverTrace")["TRACE_WEBHOOK_SECRET_ID"]
    world.cloud.client("secretsmanager").create_secret(Name=secret_id, SecretString=WEBHOOK_SECRET)


# --------------------------------------------------------------------------- independent analysis


def _parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def nearest_rank(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent * len(ordered) / 100)) - 1]


def expected_latencies(runs: list[FlowRun]) -> dict[str, list[float]]:
    """Per action id, every execution's duration: next event's dateTime minus its own."""
    durations: dict[str, list[float]] = defaultdict(list)
    for run in runs:
        events = [next(iter(event.items())) for event in run.document["flow"]["execution"]]
        for (kind, payload), (_next_kind, following) in pairwise(events):
            if kind in ("startedFlow", "endedFlow"):
                continue
            delta = _parse(following["dateTime"]) - _parse(payload["dateTime"])
            durations[payload["actionId"]].append(delta.total_seconds() * 1000)
    return durations


def expected_errors(runs: list[FlowRun]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for run in runs:
        reason = run.instance_row.get("flowErrorReason")
        if reason:
            counts[reason] += 1
    return dict(counts)


# --------------------------------------------------------------------------- tests


def test_trace_of_planted_runs_finds_the_planted_bottleneck_and_failing_path(
    world_factory: Callable[..., TraceWorld], receiver: Receiver
) -> None:
    # Given 60 runs of a flow with a planted slow action and a planted failing path, and a webhook
    world = world_factory(runs=60, env={"TRACE_WEBHOOK_URL": receiver.url})
    with_webhook(world)
    # When the synthesized trace state machine runs over the last two hours
    result = world.trace("trace-success")
    # Then it succeeds through the named states, delivering the report
    assert result.status == "SUCCEEDED", result.cause
    states = result.states_entered()
    for state in (
        "ValidateTraceRequest",
        "QueryInstances",
        "StartExecutionDataJob",
        "WaitForExecutionData",
        "CheckExecutionData",
        "AnalyzeExecutions",
        "DeliverTrace",
        "RecordTraceOutcome",
        "Trace reported",
    ):
        assert state in states
    output = result.output
    assert output["runs_analyzed"] == 60 and output["failed_downloads"] == 0
    assert output["delivery"]["outcome"] == "delivered"
    assert output["parse_coverage"] == 1.0
    # and the poll loop backed off between checks (2, 4, 8, ... recorded, not slept)
    waits = result.delays_of("WaitForExecutionData", "wait")
    assert waits and waits == [2.0 * 2**n for n in range(len(waits))]

    # and the analysis equals an independent computation on the generated runs
    report = world.report(output)["report"]
    durations = expected_latencies(world.runs)
    by_action = {entry["step_key"]: entry for entry in report["actions"]}
    for action_id, values in durations.items():
        entry = by_action[action_id]
        assert entry["executions"] == len(values)
        assert entry["total_ms"] == pytest.approx(sum(values))
        assert entry["p95_ms"] == pytest.approx(nearest_rank(values, 95))
        assert entry["max_ms"] == pytest.approx(max(values))
    assert report["bottlenecks_by_total"][0]["step_key"] == SLOW_ACTION
    errors = {error["reason"]: error for error in report["errors"]}
    assert {reason: error["runs"] for reason, error in errors.items()} == expected_errors(world.runs)
    planted = errors["DATA_ACTION_FAILED"]
    assert planted["runs"] == sum(1 for run in world.runs if run.planted_failure)
    assert planted["common_location"]["step_key"] == FAILING_ACTION
    assert planted["common_location"]["output_path_id"] == "__FAILURE__"

    # and the summary and the slowest run's waterfall are stored beside the report
    summary = world.artifact(output["summary_key"]).decode()
    assert "Bottlenecks by total time" in summary and "Play Welcome Menu" in summary
    assert world.artifact(output["waterfall_key"]).startswith(b"<svg")

    # and the webhook received exactly one signed payload naming the bottleneck
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    verify(body, headers.get(SIGNATURE_HEADER), WEBHOOK_SECRET, header=SIGNATURE_HEADER)
    payload = json.loads(body)
    assert payload["trace_id"] == "trace-success" and payload["runs_analyzed"] == 60
    assert payload["bottlenecks"][0]["action_id"] == SLOW_ACTION
    assert "https" not in json.dumps(payload) and "__sim/downloads" not in body.decode()


def test_storage_disabled_fails_clearly_and_says_how_to_enable_it(
    world_factory: Callable[..., TraceWorld],
) -> None:
    # Given an org that does not store execution data
    world = world_factory(runs=5, prepare=lambda org, _runs: setattr(org, "execution_data_enabled", False))
    # When a trace runs
    result = world.trace("trace-storage-off")
    # Then it fails in its own state, explaining how to enable storage, without enabling it
    assert result.status == "FAILED"
    assert result.error == "Trace.StorageDisabled"
    assert "Execution data storage is disabled for this org" in result.states_entered()
    assert "PATCH /api/v2/flows/instances/settings/executiondata" in (result.cause or "")
    assert "republish" in (result.cause or "")
    assert world.sim.org.execution_data_enabled is False
    assert "QueryInstances" not in result.states_entered()


def test_an_empty_window_ends_with_a_defined_outcome(world_factory: Callable[..., TraceWorld]) -> None:
    # Given runs only in the last 90 minutes
    world = world_factory(runs=10)
    # When the trace asks for a window a day ago
    result = world.trace("trace-empty", since="26h", until="24h")
    # Then it succeeds with an EMPTY_WINDOW outcome and starts no job
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["status"] == "EMPTY_WINDOW" and result.output["runs_analyzed"] == 0
    assert "no runs of" in result.output["message"]
    assert "No flow runs in the window: nothing to analyze" in result.states_entered()
    assert "StartExecutionDataJob" not in result.states_entered()


def test_a_failed_job_ends_in_its_own_failure_state(world_factory: Callable[..., TraceWorld]) -> None:
    # Given a simulator whose execution-data jobs cannot export any run
    world = world_factory(runs=8, faults="download-fail=1.0")
    # When a trace runs
    result = world.trace("trace-job-failed")
    # Then it fails in the job-failed state with the job's message
    assert result.status == "FAILED"
    assert result.error == "Trace.JobFailed"
    assert "The execution data jobs failed" in result.states_entered()
    assert "ended Failed" in (result.cause or "")


def test_partial_download_failures_and_malformed_documents_are_reported_not_fatal(
    world_factory: Callable[..., TraceWorld],
) -> None:
    # Given some runs whose downloads fail and some malformed documents
    def corrupt(org: Any, runs: list[FlowRun]) -> None:
        for run, kind in zip(
            runs[:3],
            (CorruptionKind.TRUNCATED, CorruptionKind.OUT_OF_ORDER, CorruptionKind.UNKNOWN_KIND),
            strict=True,
        ):
            org.flow_instance_documents[run.instance_row["id"]] = corrupt_document(run.document, kind, seed=1)

    world = world_factory(runs=40, faults="download-fail=0.25,seed=3", prepare=corrupt)
    # When a trace runs
    result = world.trace("trace-partial")
    # Then it still reports, counting the failed downloads and the gaps explicitly
    assert result.status == "SUCCEEDED", result.cause
    output = result.output
    document = world.report(output)
    failed = document["failed_downloads"]
    assert output["failed_downloads"] == len(failed) > 0
    assert all(item["reason"] for item in failed)
    coverage = document["report"]["coverage"]
    assert coverage["documents"] + len(failed) == 40
    assert output["runs_analyzed"] < 40 - len(failed) + 1
    assert coverage["runs_parsed_completely"] < coverage["documents"]  # the malformed ones are gaps
    gap_kinds = {gap["kind"] for gap in document["report"]["gaps"]}
    assert gap_kinds  # explicit gaps, never silent zeros
    assert "Failed downloads" in document["summary"]


def test_a_window_past_the_200_row_cap_is_sliced_until_complete(
    world_factory: Callable[..., TraceWorld],
) -> None:
    # Given 450 runs inside one hour (more than twice the 200-row cap of one query)
    world = world_factory(runs=450, span=timedelta(minutes=60), seed=9)
    # When a trace runs
    result = world.trace("trace-sliced")
    # Then every run is found through several slices and analyzed
    assert result.status == "SUCCEEDED", result.cause
    document = world.report(result.output)
    instances = document["instances"]
    assert instances["found"] == 450 and instances["complete"] is True
    assert instances["slices"] >= 3 and instances["queries"] > instances["slices"]
    assert len(document["jobs"]["job_ids"]) == 5  # 100 ids per job
    assert result.output["runs_analyzed"] == 450


@pytest.mark.parametrize(
    ("request_overrides", "error", "state", "words"),
    [
        ({"since": "11d"}, "Trace.InvalidRequest", INVALID_REQUEST_STATE, "10-day"),
        ({"flow": "No Such Flow"}, "Trace.UnknownFlow", "The flow to trace does not exist", "No Such Flow"),
        ({"since": "yesterday"}, "Trace.InvalidRequest", INVALID_REQUEST_STATE, "duration"),
    ],
)  # fmt: skip
def test_bad_requests_fail_with_clear_errors(
    world_factory: Callable[..., TraceWorld],
    request_overrides: dict[str, Any],
    error: str,
    state: str,
    words: str,
) -> None:
    # Given a healthy org
    world = world_factory(runs=3)
    # When a trace is asked for something it cannot serve
    result = world.trace("trace-bad", **request_overrides)
    # Then it fails before any query, in a state that says why
    assert result.status == "FAILED"
    assert result.error == error
    assert state in result.states_entered()
    assert words in (result.cause or "")
    assert "QueryInstances" not in result.states_entered()


def test_webhook_down_parks_the_trace_in_the_dead_letter_queue_and_redrive_delivers_it(
    world_factory: Callable[..., TraceWorld], receiver: Receiver
) -> None:
    from flowops.cli.local_cloud import CloudConnection
    from flowops.cli.trace import run_trace_redrive

    # Given an observability webhook that answers 503
    receiver.status = 503
    world = world_factory(runs=20, env={"TRACE_WEBHOOK_URL": receiver.url})
    with_webhook(world)
    # When a trace runs
    result = world.trace("trace-webhook-down")
    # Then the report is written, the delivery retried with backoff, then parked in the queue
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["delivery"]["outcome"] == "dead_lettered"
    assert result.output["delivery"]["message_id"]
    assert "HTTP 503" in result.output["delivery"]["error"]
    assert result.delays_of("DeliverTrace", "retry") == [5.0, 10.0, 20.0]
    assert len(receiver.requests) == 4  # first attempt + 3 retries
    assert "ParkUndeliveredTrace" in result.states_entered()
    queue_url = world.env("RedriveTraceDeliveries")["TRACE_DEAD_LETTER_QUEUE_URL"]
    sqs = world.cloud.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "1"

    # When the webhook is back and the redrive runs (what `flowops trace redrive` invokes)
    receiver.status = 204
    storage = world.env("RedriveTraceDeliveries")
    connection = CloudConnection(
        region=world.cloud.region,
        org=storage["FLOWOPS_ORG"],
        artifacts_bucket=storage["ARTIFACTS_BUCKET"],
        state_table=storage["STATE_TABLE"],
        audit_table=storage["AUDIT_TABLE"],
    )
    redriven = run_trace_redrive(connection)
    # Then the parked payload is delivered, signed, exactly as the report said, and the queue is empty
    assert (redriven["received"], redriven["delivered"], redriven["failed"]) == (1, 1, 0)
    headers, body = receiver.requests[-1]
    verify(body, headers.get(SIGNATURE_HEADER), WEBHOOK_SECRET, header=SIGNATURE_HEADER)
    assert body == receiver.requests[0][1]  # the same bytes as the first attempt
    assert json.loads(body)["trace_id"] == "trace-webhook-down"
    remaining = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert remaining == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
