"""A scan degrades, it never dies: flows the platform cannot answer for are recorded as unread."""

from __future__ import annotations

import pytest

from flowops.genesys.errors import error_from_response
from flowops.graph import ProblemCode, Severity, analyze
from flowops.lock import UnreadReason, parse_lock
from flowops.scan.errors import EveryReadRefusedError, FlowDependenciesUnreadable
from flowops.scan.genesys_source import per_flow_failure
from flowops.scan.models import FailedObject, IndexCheckResult
from tests.unit.scan.fakes import FakeArtifacts, FakeOrg, FakePointers, FakeSource, dependency
from tests.unit.scan.pipeline import run_scan

NOT_FOUND = "Could not find the dependency object with specified ID and version"


def hostile_org() -> FakeOrg:
    org = FakeOrg()
    org.add_flow("good", consumes=[dependency("q1", "QUEUE"), dependency("gone", "INBOUNDCALLFLOW")])
    org.add_flow("gone", consumes=[dependency("q1", "QUEUE")])
    org.add_flow("speech", type="SPEECH")
    org.add_flow("failed", version="2.0", consumes=[dependency("q1", "QUEUE")])
    org.add_flow("other-division", consumes=[dependency("q2", "QUEUE")])
    org.add_flow("mail", type="EMAILSEND", consumes=[dependency("da1", "DATAACTION", version="1")])
    org.unreadable["gone"] = (UnreadReason.NOT_INDEXED, NOT_FOUND)
    org.unreadable["other-division"] = (UnreadReason.FORBIDDEN, "not authorized for this division")
    return org


def operational_with_failed(*failed: FailedObject) -> IndexCheckResult:
    return IndexCheckResult(
        status="OPERATIONAL",
        operational=True,
        deadline_exceeded=False,
        wait_seconds=0,
        message="ok",
        failed_objects=list(failed),
        failed_objects_total=len(failed),
    )


def read_lock(artifacts: FakeArtifacts, key: str):  # type: ignore[no-untyped-def]
    return parse_lock(artifacts.objects[key])


def test_unreadable_flows_are_recorded_with_their_reasons_and_the_lock_is_written() -> None:
    # Given an org with a flow the index 404s, a SPEECH flow, a failed object and another division
    source, artifacts, pointers = FakeSource(hostile_org()), FakeArtifacts(), FakePointers()
    index = operational_with_failed(FailedObject(id="failed", version="2.0", errorCode="INDEX_ERROR"))
    # When the scan runs
    outcome = run_scan(source, artifacts, pointers, scan_id="s1", index=index)
    # Then it completes with a lock naming each unread flow and why
    lock = read_lock(artifacts, outcome.lock_key)
    reasons = {flow.id: flow.unread.reason for flow in lock.flows if flow.unread is not None}
    assert reasons == {
        "gone": UnreadReason.NOT_INDEXED,
        "speech": UnreadReason.NO_DEPENDENCY_TYPE,
        "failed": UnreadReason.INDEX_FAILED,
        "other-division": UnreadReason.FORBIDDEN,
    }
    assert NOT_FOUND in (lock.flow("gone").unread.detail)  # type: ignore[union-attr]
    assert not lock.complete and outcome.unread_flows == 4 and outcome.read_flows == 2
    # and the readable flows keep their edges (an unread flow's edges are unknown, not empty)
    assert [d.id for d in lock.flow("good").consumes] == ["gone", "q1"]  # type: ignore[union-attr]
    assert lock.flow("mail").object_type == "EMAILSENDFLOW"  # type: ignore[union-attr]
    # and no SPEECHFLOW request was sent, nor a read of the failed flow
    assert "GET consumed speech" not in source.calls and "GET consumed failed" not in source.calls
    # and each is a problem; the SPEECH one is info, the others warnings
    problems = {
        p.object_ids[0]: p for p in analyze(lock).problems if p.code == ProblemCode.DEPENDENCIES_UNREAD
    }
    assert set(problems) == set(reasons)
    assert problems["speech"].severity == Severity.INFO and problems["gone"].severity == Severity.WARNING
    # and the failed flow is reported once (as unread), not also as DEPENDENCY_INDEX_FAILED
    assert not [p for p in analyze(lock).problems if p.code == ProblemCode.DEPENDENCY_INDEX_FAILED]


def test_the_next_scan_reads_unread_flows_again_and_reuses_the_rest() -> None:
    # Given a first scan that could not read "gone" and "other-division"
    org = hostile_org()
    source, artifacts, pointers = FakeSource(org), FakeArtifacts(), FakePointers()
    run_scan(source, artifacts, pointers, scan_id="s1")
    # When the platform answers again and a second (incremental) scan runs
    org.unreadable.clear()
    source.calls.clear()
    outcome = run_scan(source, artifacts, pointers, scan_id="s2")
    # Then exactly the unread flows are read again (SPEECH needs no call), the others reused
    consumed_calls = sorted(call for call in source.calls if call.startswith("GET consumed"))
    assert consumed_calls == ["GET consumed gone", "GET consumed other-division"]
    lock = read_lock(artifacts, outcome.lock_key)
    assert {flow.id for flow in lock.unread_flows} == {"speech"}
    assert [d.id for d in lock.flow("other-division").consumes] == ["q2"]  # type: ignore[union-attr]


def test_an_older_versions_index_failure_does_not_mark_the_published_version() -> None:
    source, artifacts, pointers = FakeSource(hostile_org()), FakeArtifacts(), FakePointers()
    index = operational_with_failed(FailedObject(id="failed", version="1.0", errorCode="X"))
    outcome = run_scan(source, artifacts, pointers, scan_id="s1", index=index)
    assert read_lock(artifacts, outcome.lock_key).flow("failed").unread is None  # type: ignore[union-attr]


def test_the_scan_asks_only_for_the_resource_types_that_matter() -> None:
    source, artifacts, pointers = FakeSource(hostile_org()), FakeArtifacts(), FakePointers()
    run_scan(source, artifacts, pointers, scan_id="s1")
    asked = {types for types in source.requested_resource_types}
    assert len(asked) == 1
    (types,) = asked
    assert types is not None and "FLOWDATATYPE" not in types and "QUEUE" in types


def test_platform_vocabulary_a_platform_returns_anyway_is_dropped_on_read() -> None:
    # Given a platform that ignores resourceType and answers vocabulary beside a real dependency
    org = FakeOrg()
    org.add_flow("f", consumes=[dependency("t", "FLOWDATATYPE"), dependency("q", "QUEUE")])
    source = FakeSource(org)
    source.consumed_resources = lambda *args, **kwargs: org.consumed[("f", "1.0")]  # type: ignore[method-assign]
    artifacts = FakeArtifacts()
    outcome = run_scan(source, artifacts, FakePointers(), scan_id="s1")
    assert [d.id for d in read_lock(artifacts, outcome.lock_key).flow("f").consumes] == ["q"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (404, {"message": NOT_FOUND, "code": "not.found"}, UnreadReason.NOT_INDEXED),
        (
            403,
            {"message": "You are not authorized to view this object", "code": "forbidden"},
            UnreadReason.FORBIDDEN,
        ),
        (400, {"message": "Invalid value for objectType", "code": "bad.request"}, UnreadReason.REFUSED),
    ],
)
def test_per_flow_platform_answers_become_unread_reasons(
    status: int, body: dict[str, str], reason: str
) -> None:
    import json

    error = error_from_response(
        status=status, raw_body=json.dumps(body), headers={}, operation="GET /api/v2/architect/x"
    )
    failure = per_flow_failure(error)
    assert isinstance(failure, FlowDependenciesUnreadable) and failure.reason == reason


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"message": "bad token"}),
        (429, {"message": "Rate limit exceeded"}),
        (500, {"message": "boom"}),
        # a 403 naming a permission is the OAuth client's role: every flow would answer it
        (
            403,
            {
                "message": "Missing permission architect:dependencyTracking:view",
                "code": "missing.permissions",
            },
        ),
    ],
)
def test_org_wide_failures_are_not_per_flow(status: int, body: dict[str, str]) -> None:
    import json

    error = error_from_response(
        status=status, raw_body=json.dumps(body), headers={}, operation="GET /api/v2/architect/x"
    )
    assert per_flow_failure(error) is None


def test_a_page_where_every_read_is_refused_fails_instead_of_writing_an_empty_lock() -> None:
    # Given an org where every flow's read is refused as a bad request (flowops' own request is wrong)
    org = FakeOrg()
    for number in range(6):
        org.add_flow(f"f{number}", consumes=[dependency("q", "QUEUE")])
        org.unreadable[f"f{number}"] = (UnreadReason.REFUSED, "Invalid value for parameter")
    # When the scan runs / Then it fails with the refusal named, and no lock is written
    artifacts = FakeArtifacts()
    with pytest.raises(EveryReadRefusedError, match="were refused"):
        run_scan(FakeSource(org), artifacts, FakePointers(), scan_id="s1")
    assert not [key for key in artifacts.objects if key.startswith("locks/")]


def test_one_refused_flow_among_readable_ones_is_only_unread() -> None:
    org = hostile_org()
    org.unreadable["good"] = (UnreadReason.REFUSED, "Invalid value")
    artifacts = FakeArtifacts()
    outcome = run_scan(FakeSource(org), artifacts, FakePointers(), scan_id="s1")
    assert read_lock(artifacts, outcome.lock_key).flow("good").unread.reason == UnreadReason.REFUSED  # type: ignore[union-attr]
