"""The trace steps over in-memory fakes: validation, time-sliced query, job loop, analysis."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flowops.local.simulator.executions import FlowRun, corrupt_document, generate_flow_runs
from flowops.trace.pipeline import (
    JOB_BATCH_SIZE,
    DeliveryOutcome,
    JobsProgress,
    analyze_executions,
    check_execution_data_jobs,
    genesys_timestamp,
    instance_query,
    next_poll_seconds,
    query_instances,
    record_trace_outcome,
    start_execution_data_jobs,
    validate_trace_request,
)
from flowops.trace.ports import DownloadFailedError, JobEntity, JobStatus
from flowops.trace.request import (
    PlannedFlow,
    StorageDisabledError,
    TraceContext,
    TracePlan,
    UnknownFlowError,
    resolve_moment,
)
from flowops.trace.window import TraceRequestError

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
FLOW = PlannedFlow(id="0a3e4d52-9a51-4a1b-8f0e-1f2a3b4c5d6e", name="Main IVR", type="INBOUNDCALL")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class FakeSource:
    """Answers like Genesys: 200-row pages in id order (not newest first), jobs, downloads."""

    def __init__(self, runs: Sequence[FlowRun] = (), *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.flows = [FLOW, PlannedFlow(id="dup-1", name="Twin", type="INBOUNDCALL"),
                      PlannedFlow(id="dup-2", name="Twin", type="INBOUNDCHAT")]  # fmt: skip
        self.rows = {run.instance_row["id"]: run.instance_row for run in runs}
        self.documents: dict[str, Any] = {run.instance_row["id"]: run.document for run in runs}
        self.queries: list[Mapping[str, Any]] = []
        self.jobs: dict[str, list[str]] = {}
        self.job_states: dict[str, str] = {}
        self.failing_entities: set[str] = set()
        self.broken_downloads: set[str] = set()
        self.calls = 0

    @property
    def total_api_calls(self) -> int:
        return self.calls

    def execution_data_enabled(self) -> bool:
        self.calls += 1
        return self.enabled

    def find_flows(self, reference: str) -> list[PlannedFlow]:
        self.calls += 1
        return [f for f in self.flows if reference in (f.id, f.name)]

    def query_instances(self, query: Mapping[str, Any], page_size: int) -> list[dict[str, Any]]:
        self.calls += 1
        self.queries.append(query)
        conditions = query["query"][0]["and"]
        flow_id = next(c["value"] for c in conditions if c["key"] == "FlowId")
        start = _parse(next(c["value"] for c in conditions if c["operator"] == "gte"))
        end = _parse(next(c["value"] for c in conditions if c["operator"] == "lt"))
        errors_only = any(c["key"] == "FlowErrorReason" for c in conditions)
        matching = [
            row
            for _id, row in sorted(self.rows.items())
            if row["flowId"] == flow_id
            and start <= _parse(row["startDateTime"]) < end
            and (not errors_only or "flowErrorReason" in row)
        ]
        return matching[:page_size]

    def start_job(self, instance_ids: Sequence[str]) -> str:
        self.calls += 1
        assert len(instance_ids) <= JOB_BATCH_SIZE
        job_id = f"job-{len(self.jobs) + 1}"
        self.jobs[job_id] = list(instance_ids)
        self.job_states[job_id] = "Running"
        return job_id

    def job(self, job_id: str) -> JobStatus:
        self.calls += 1
        state = self.job_states[job_id]
        if state != "Success":
            return JobStatus(job_id=job_id, state=state)
        return JobStatus(
            job_id=job_id,
            state=state,
            entities=[
                JobEntity(instance_id=i, failed=True, status_code="500")
                if i in self.failing_entities
                else JobEntity(
                    instance_id=i, download_uri=f"https://download.example/{i}?X-Amz-Signature=s3cr3t"
                )
                for i in self.jobs.get(job_id, [])
            ],
        )

    def download(self, download_uri: str) -> bytes | str | dict[str, Any]:
        instance_id = download_uri.rsplit("/", 1)[1].split("?")[0]
        if instance_id in self.broken_downloads:
            raise DownloadFailedError("download failed: HTTP 403", status_code="403")
        document: bytes | str | dict[str, Any] = self.documents[instance_id]
        return document


class FakeArtifacts:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_json(self, key: str, obj: Any, *, immutable: bool = False) -> None:
        self.objects[key] = json.dumps(obj, sort_keys=True).encode()

    def put_bytes(self, key: str, body: bytes, content_type: str = "application/json") -> None:
        self.objects[key] = body

    def get_json(self, key: str, expected_sha256: str | None = None) -> Any:
        return json.loads(self.objects[key])


class FakeAudit:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, dict[str, Any]]] = []

    def append(
        self, org: str, kind: str, *, actor: str, subject: str, details: dict[str, Any] | None = None
    ) -> None:
        self.events.append((org, kind, subject, details or {}))


def context(**request: Any) -> TraceContext:
    request.setdefault("flow", FLOW.id)
    return TraceContext(trace_id="trace-1", submitted_at=NOW, request=request)


def plan(**overrides: Any) -> TracePlan:
    values: dict[str, Any] = {"flows": [FLOW], "since": NOW - timedelta(hours=2), "until": NOW}
    return TracePlan(**{**values, **overrides})


def runs(count: int, *, span: timedelta = timedelta(hours=1), seed: int = 3) -> list[FlowRun]:
    return generate_flow_runs(
        flow_id=FLOW.id,
        flow_name="Main IVR",
        flow_type="INBOUNDCALL",
        flow_version="2.0",
        actions=None,
        seed=seed,
        count=count,
        window_start=NOW - span - timedelta(minutes=1),
        window_end=NOW - timedelta(minutes=1),
    )


# --------------------------------------------------------------------------- validate


def test_relative_windows_count_back_from_the_submission_time() -> None:
    # Given a request for the last 2 hours to 30 minutes ago, validated a minute after submission
    # When it is validated
    result = validate_trace_request(
        FakeSource(), context(since="2h", until="30m"), now=NOW + timedelta(minutes=1)
    )
    # Then the window is anchored at the submission, and the flow is resolved
    assert result.since == NOW - timedelta(hours=2)
    assert result.until == NOW - timedelta(minutes=30)
    assert result.flows == [FLOW]


def test_a_flow_can_be_named_instead_of_identified() -> None:
    # Given the flow's name; When validated; Then the plan holds the flow's id
    assert validate_trace_request(FakeSource(), context(flow="Main IVR"), now=NOW).flows[0].id == FLOW.id


def test_storage_disabled_is_refused_with_how_to_enable_it() -> None:
    # Given an org without execution-data storage
    source = FakeSource(enabled=False)
    # When a trace is validated, Then it is refused with the enabling steps, and nothing else is called
    with pytest.raises(StorageDisabledError) as raised:
        validate_trace_request(source, context(), now=NOW)
    assert "PATCH /api/v2/flows/instances/settings/executiondata" in str(raised.value)
    assert "republish" in str(raised.value)
    assert raised.value.asl_error_name == "Trace.StorageDisabled"


@pytest.mark.parametrize(
    ("request_fields", "error", "words"),
    [
        ({"flow": "Nope"}, UnknownFlowError, "'Nope'"),
        ({"flow": "Twin"}, UnknownFlowError, "matches 2 flows"),
        ({"since": "11d"}, TraceRequestError, "10-day"),
        ({"since": "2h", "until": "-1h"}, TraceRequestError, "neither"),
        ({"since": "2025-03-10T08:00:00"}, TraceRequestError, "timezone"),
        ({"since": "1h", "until": "2h"}, TraceRequestError, "before until"),
        ({"flow": None}, TraceRequestError, "at least one flow"),
        ({"since": "2h", "colour": "red"}, TraceRequestError, "colour"),
    ],
)
def test_bad_requests_raise_errors_that_say_why(
    request_fields: dict[str, Any], error: type[Exception], words: str
) -> None:
    # Given a request that cannot be served; When validated; Then a named error says why
    with pytest.raises(error) as raised:
        validate_trace_request(FakeSource(), context(**request_fields), now=NOW)
    assert words in str(raised.value)


def test_resolve_moment_accepts_durations_and_aware_instants() -> None:
    assert resolve_moment("90m", now=NOW) == NOW - timedelta(minutes=90)
    assert resolve_moment("3d", now=NOW) == NOW - timedelta(days=3)
    assert resolve_moment("2025-03-10T10:00:00Z", now=NOW) == datetime(2025, 3, 10, 10, tzinfo=UTC)
    assert resolve_moment("2025-03-10T11:00:00+01:00", now=NOW) == datetime(2025, 3, 10, 10, tzinfo=UTC)


# --------------------------------------------------------------------------- query


def test_query_slices_past_the_row_cap_and_keeps_ids_out_of_the_state() -> None:
    # Given 450 runs in one hour: more than twice the 200-row page
    generated = runs(450)
    source, artifacts = FakeSource(generated), FakeArtifacts()
    # When the instances are queried
    result = query_instances(source, artifacts, context(), plan(), org="dev")
    # Then every run is found, the window was split, and the ids are in S3, not in the result
    assert (result.found, result.runs, result.complete) == (450, 450, True)
    assert result.slices >= 3 and result.queries > result.slices
    stored = artifacts.get_json(result.instances_key)["rows"]
    assert {row["id"] for row in stored} == {run.instance_row["id"] for run in generated}
    assert generated[0].instance_row["id"] not in result.model_dump_json()
    assert result.api_calls == result.queries


def test_query_keeps_only_the_newest_runs_beyond_max_runs() -> None:
    # Given 30 runs and a limit of 10
    generated = runs(30)
    artifacts = FakeArtifacts()
    # When queried
    result = query_instances(FakeSource(generated), artifacts, context(), plan(max_runs=10), org="dev")
    # Then the 10 newest are kept and the rest is counted as skipped
    newest = sorted(generated, key=lambda r: r.instance_row["startDateTime"])[-10:]
    kept = {row["id"] for row in artifacts.get_json(result.instances_key)["rows"]}
    assert kept == {run.instance_row["id"] for run in newest}
    assert (result.runs, result.skipped_runs) == (10, 20)


def test_an_empty_window_says_so() -> None:
    result = query_instances(
        FakeSource(runs(5)),
        FakeArtifacts(),
        context(),
        plan(until=NOW - timedelta(hours=1, minutes=30)),
        org="dev",
    )
    assert result.runs == 0 and "no runs of Main IVR" in result.message


def test_the_query_uses_real_criteria_keys() -> None:
    # Given filters for errors, conversations and actions
    body = instance_query(
        FLOW.id,
        NOW - timedelta(hours=1),
        NOW,
        plan(errors_only=True, conversation_ids=["c1"], action_ids=["a1"]),
    )
    # Then the body is the documented criteria query
    conditions = body["query"][0]["and"]
    assert {"key": "FlowId", "operator": "eq", "value": FLOW.id} in conditions
    assert {"key": "FlowStartDateTime", "operator": "gte", "value": "2025-03-10T11:00:00.000Z"} in conditions
    assert {"key": "FlowStartDateTime", "operator": "lt", "value": "2025-03-10T12:00:00.000Z"} in conditions
    assert {"key": "FlowErrorReason", "operator": "not_null"} in conditions
    assert body["query"][1] == {"or": [{"key": "ConversationId", "operator": "eq", "value": "c1"}]}
    assert body["query"][2] == {"or": [{"key": "FlowActionId", "operator": "eq", "value": "a1"}]}


# --------------------------------------------------------------------------- jobs


def test_jobs_start_in_batches_and_the_poll_backs_off_to_a_cap() -> None:
    # Given 250 instances
    source, artifacts = FakeSource(runs(250)), FakeArtifacts()
    instances = query_instances(source, artifacts, context(), plan(), org="dev")
    # When the jobs start
    progress = start_execution_data_jobs(source, artifacts, instances, now=NOW)
    # Then there is one job per 100 ids
    assert [len(source.jobs[j]) for j in progress.job_ids] == [100, 100, 50]
    # and while they run, each check asks to wait longer than the wait before it, up to 60 s
    waits = [progress.wait_seconds]
    for _ in range(7):
        progress = check_execution_data_jobs(source, progress, plan(deadline_seconds=7200), now=NOW)
        waits.append(progress.wait_seconds)
    assert waits == [2, 4, 8, 16, 32, 60, 60, 60] == [next_poll_seconds(n) for n in range(8)]
    assert not progress.ready and not progress.failed and not progress.deadline_exceeded


def test_job_outcomes_ready_failed_and_deadline() -> None:
    source = FakeSource()
    source.job_states = {"j1": "Success", "j2": "Failed"}
    progress = JobsProgress(job_ids=["j1", "j2"], started_at=NOW)
    # Given one success and one failure: ready (the failed job's runs become failed downloads)
    assert check_execution_data_jobs(source, progress, plan(), now=NOW).ready is True
    # Given every job failed: failed
    source.job_states = {"j1": "Failed", "j2": "Failed"}
    failed = check_execution_data_jobs(source, progress, plan(), now=NOW)
    assert failed.failed and not failed.ready and "ended Failed" in failed.message
    # Given jobs still running past the deadline: deadline exceeded, naming the jobs
    source.job_states = {"j1": "Running", "j2": "Success"}
    late = check_execution_data_jobs(
        source, progress.model_copy(update={"waited_seconds": 50}), plan(deadline_seconds=51), now=NOW
    )
    assert late.deadline_exceeded and "j1 Running" in late.message


# --------------------------------------------------------------------------- analyze


def test_analysis_continues_on_what_arrived_and_reports_what_did_not() -> None:
    # Given 12 runs: one not exported, one whose download fails, one truncated, one out of order
    generated = runs(12)
    source, artifacts = FakeSource(generated), FakeArtifacts()
    ids = [run.instance_row["id"] for run in generated]
    source.failing_entities = {ids[0]}
    source.broken_downloads = {ids[1]}
    source.documents[ids[2]] = corrupt_document(generated[2].document, "truncated", seed=2)
    source.documents[ids[3]] = corrupt_document(generated[3].document, "out_of_order")
    instances = query_instances(source, artifacts, context(), plan(), org="dev")
    progress = start_execution_data_jobs(source, artifacts, instances, now=NOW)
    source.job_states = dict.fromkeys(source.jobs, "Success")
    # When the executions are analyzed
    summary = analyze_executions(
        source, artifacts, context(), plan(), instances, progress, org="dev", now=NOW
    )
    # Then the two failed downloads are reported, the malformed documents are gaps, the rest analyzed
    report = artifacts.get_json(summary.report_key)
    assert summary.failed_downloads == 2
    assert {f["instance_id"] for f in report["failed_downloads"]} == {ids[0], ids[1]}
    assert summary.documents == 10 and summary.runs_analyzed == 9  # the truncated one is not a run
    assert summary.parse_coverage == pytest.approx(8 / 10)
    gap_kinds = " ".join(gap["kind"] for gap in report["report"]["gaps"])
    assert "invalid_json" in gap_kinds and "out_of_order" in gap_kinds
    # and the summary, the waterfall and the payload exist, with no presigned URI anywhere
    assert "Failed downloads: 2" in artifacts.objects[summary.summary_key].decode()
    assert artifacts.objects[summary.waterfall_key or ""].startswith(b"<svg")
    for body in artifacts.objects.values():
        assert b"X-Amz-Signature" not in body
    assert "X-Amz-Signature" not in json.dumps(summary.delivery_payload)
    assert summary.delivery_payload["failed_downloads"] == 2
    assert len(json.dumps(summary.delivery_payload)) < 64_000


def test_record_outcome_audits_and_measures_latency() -> None:
    # Given an analyzed trace delivered 90 s after submission
    source, artifacts, audit = FakeSource(runs(3)), FakeArtifacts(), FakeAudit()
    instances = query_instances(source, artifacts, context(), plan(), org="dev")
    progress = start_execution_data_jobs(source, artifacts, instances, now=NOW)
    source.job_states = dict.fromkeys(source.jobs, "Success")
    later = NOW + timedelta(seconds=90)
    summary = analyze_executions(
        source, artifacts, context(), plan(), instances, progress, org="dev", now=later
    )
    # When the outcome is recorded
    outcome = record_trace_outcome(
        audit, context(), summary, DeliveryOutcome(outcome="delivered", status_code=200), org="dev", now=later
    )
    # Then one audit event names the trace, its delivery and the latency
    assert outcome.latency_seconds == 90.0 and outcome.runs_analyzed == 3
    ((org, kind, subject, details),) = audit.events
    assert (org, kind, subject) == ("dev", "trace.reported", "trace-1")
    assert details["delivery_outcome"] == "delivered" and details["latency_seconds"] == 90.0


def test_genesys_timestamps_have_milliseconds_and_z() -> None:
    assert genesys_timestamp(datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)) == "2025-01-02T03:04:05.678Z"
