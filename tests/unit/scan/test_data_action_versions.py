"""Data actions' current versions: read once while planning, stored in S3, set on the lock's
DATAACTION objects so a flow consuming an older data-action version is a stale snapshot."""

from __future__ import annotations

import json

import pytest

from flowops.graph import analyze, build_graph
from flowops.lock import parse_lock
from flowops.scan.errors import MalformedDataActionRecordError
from flowops.scan.models import DataActionVersions
from tests.unit.scan.fakes import FakeArtifacts, FakeOrg, FakePointers, FakeSource, dependency
from tests.unit.scan.pipeline import ORG, plan_scan, run_scan


def org_with_a_stale_data_action_consumer() -> FakeOrg:
    org = FakeOrg()
    org.add_data_action("da-lookup", version=4)
    org.add_data_action("da-unversioned", version=None)
    org.add_flow("fresh", consumes=[dependency("da-lookup", "DATAACTION", version="4")])
    org.add_flow(
        "stale",
        consumes=[
            dependency("da-lookup", "DATAACTION", version="3"),
            dependency("da-unversioned", "DATAACTION", version="1"),
        ],
    )
    return org


def test_plan_reads_every_page_of_data_actions_once_and_stores_only_a_key() -> None:
    # Given an org listing 150 data actions (two pages of the listing)
    org = FakeOrg()
    for number in range(150):
        org.add_data_action(f"da-{number:03d}", version=number % 7 + 1)
    org.add_flow("f1")
    source, artifacts = FakeSource(org), FakeArtifacts()
    # When the scan is planned with an artifact store
    scan, plan = plan_scan(source, FakePointers(), scan_id="s1", artifacts=artifacts)
    # Then both listing pages were read once, and counted with the flows listing (two passes)
    assert [call for call in source.calls if call.startswith("GET actions")] == [
        "GET actions 1",
        "GET actions 2",
    ]
    assert plan.api_calls == 4
    # and the versions are in S3 under the scan's prefix, the plan only names the key
    assert plan.data_action_versions_key == f"scans/{ORG}/{scan.scan_id}/data-action-versions.json"
    stored = DataActionVersions.model_validate(json.loads(artifacts.objects[plan.data_action_versions_key]))
    assert len(stored.versions) == 150 and stored.versions["da-013"] == "7"
    assert "versions" not in plan.model_dump()


def test_plan_without_an_artifact_store_does_not_read_data_actions() -> None:
    # Given an org with data actions
    source = FakeSource(org_with_a_stale_data_action_consumer())
    # When planning has no artifact store to keep the versions in
    _, plan = plan_scan(source, FakePointers(), scan_id="s1")
    # Then the listing is not read at all and the plan names no versions artifact
    assert not any(call.startswith("GET actions") for call in source.calls)
    assert plan.data_action_versions_key is None


def test_scan_sets_data_action_versions_and_reports_the_older_consumer_as_stale() -> None:
    # Given a flow consuming version 3 of a data action now at version 4, and one at version 4
    source, artifacts = FakeSource(org_with_a_stale_data_action_consumer()), FakeArtifacts()
    # When the org is scanned end to end over the fakes
    outcome = run_scan(source, artifacts, FakePointers(), scan_id="s1")
    # Then the lock's data action carries the version the listing shows now
    lock = parse_lock(artifacts.objects[outcome.lock_key])
    versions = {item.id: item.version for item in lock.objects if item.type == "DATAACTION"}
    assert versions == {"da-lookup": "4", "da-unversioned": None}
    # and exactly the older consumer is a stale snapshot (an unversioned action judges no one)
    stale = [
        problem for problem in analyze(lock, build_graph(lock)).problems if problem.code == "STALE_SNAPSHOT"
    ]
    assert [(problem.object_ids, problem.consumer_ids) for problem in stale] == [(["da-lookup"], ["stale"])]
    assert "version 3" in stale[0].message and "version 4 is published" in stale[0].message
    # and the listing's request is part of the scan's API calls
    assert outcome.api_calls == len(source.calls)


def test_republishing_a_data_action_makes_an_unchanged_lock_stale_on_the_next_scan() -> None:
    # Given an org scanned once with every consumer on the current data-action version
    org = FakeOrg()
    org.add_data_action("da1", version=2)
    org.add_flow("f1", consumes=[dependency("da1", "DATAACTION", version="2")])
    source, artifacts, pointers = FakeSource(org), FakeArtifacts(), FakePointers()
    first = run_scan(source, artifacts, pointers, scan_id="s1")
    # When the data action is saved again (version 3) and the org is scanned incrementally
    org.data_actions[0]["version"] = 3
    second = run_scan(source, artifacts, pointers, scan_id="s2")
    # Then the flow's recorded dependency was reused, yet the new lock differs and reports it
    assert second.read_flows == 0 and second.reused_flows == 1
    assert (first.problems, second.problems) == (0, 1)
    assert second.lock_sha256 != first.lock_sha256 and second.drift.objects_changed == 1


@pytest.mark.parametrize(
    ("record", "complaint"),
    [
        ({"name": "No id", "version": 1}, "has no id"),
        ({"id": "da1", "version": "3"}, "not an integer"),
        ({"id": "da1", "version": True}, "not an integer"),
    ],
)
def test_a_malformed_data_action_record_stops_the_plan_with_a_clear_error(
    record: dict[str, object], complaint: str
) -> None:
    # Given a listing with a data action the scan cannot use
    org = FakeOrg()
    org.add_flow("f1")
    org.data_actions.append(record)
    # When the scan is planned
    # Then it stops naming the record, rather than leave every consumer unjudged
    with pytest.raises(MalformedDataActionRecordError, match=complaint):
        plan_scan(FakeSource(org), FakePointers(), scan_id="s1", artifacts=FakeArtifacts())
