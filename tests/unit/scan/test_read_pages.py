"""Planning and reading pages of flows: incremental reuse, and clear errors on bad records."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from flowops.lock import LockedDependency, LockedFlow, Lockfile, canonical_bytes, lock_sha256
from flowops.scan.errors import MalformedFlowRecordError
from flowops.scan.models import PageFlows, PageTask, ScanContext, ScanRequest
from flowops.scan.pages import plan_flow_pages, read_flow_page
from tests.unit.scan.fakes import FakeArtifacts, FakeOrg, FakePointers, FakeSource, dependency

ORG = "dev"


def scan(full: bool = False, page_size: int = 2, vocabulary: bool = False) -> ScanContext:
    return ScanContext(
        scan_id="scan-1",
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        request=ScanRequest(full=full, page_size=page_size, include_platform_vocabulary=vocabulary),
    )


def small_org() -> FakeOrg:
    org = FakeOrg()
    org.add_flow(
        "cm1", type="COMMONMODULE", version="3.0", consumes=[dependency("da1", "DATAACTION", version="2")]
    )
    org.add_flow(
        "f1",
        consumes=[
            dependency("cm1", "COMMONMODULEFLOW", version="3.0"),
            dependency("q1", "QUEUE", deleted=True),
        ],
    )
    org.add_flow(
        "f2", consumes=[dependency("f1", "INBOUNDCALLFLOW", version="1.0"), dependency("x1", "HOLOGRAM")]
    )
    org.add_flow("draft", version=None)
    return org


def stored_page(artifacts: FakeArtifacts, key: str) -> PageFlows:
    # Page results are stored gzip-compressed (about a tenth of their JSON).
    assert key.endswith(".json.gz")
    return PageFlows.model_validate_json(gzip.decompress(artifacts.objects[key]))


def test_plan_counts_pages_with_one_call_and_pins_the_current_lock() -> None:
    # Given an org of 4 flows and a current lock
    source, pointers = FakeSource(small_org()), FakePointers()
    pointers.current[ORG] = type("P", (), {"sha": "a" * 64, "key": f"locks/{ORG}/{'a' * 64}.json"})()
    # When pages of 2 are planned
    plan = plan_flow_pages(source, pointers, scan(page_size=2), org=ORG)
    # Then one API call tells 2 pages, and the previous lock is pinned for the whole run
    assert [page.page_number for page in plan.pages] == [1, 2]
    assert (plan.total_flows, plan.api_calls) == (4, 1)
    assert plan.previous_lock_sha == "a" * 64


def test_full_read_of_a_page_stores_flows_objects_and_unknown_types_in_s3() -> None:
    # Given an org and no previous lock
    source, artifacts = FakeSource(small_org()), FakeArtifacts()
    # When every page is read asking for every resource type (a filtered read never sees a type
    # newer than flowops: it is not among the types asked for)
    results = [
        read_flow_page(
            source, artifacts, PageTask(scan=scan(vocabulary=True), page_number=n, page_size=2), org=ORG
        )
        for n in (1, 2)
    ]
    # Then each published flow cost one consumed-resources read, the never-published one none
    assert sum(result.read for result in results) == 3
    assert sum(result.reused for result in results) == 0
    pages = [stored_page(artifacts, result.key) for result in results]
    flows = {flow["id"]: flow for page in pages for flow in page.flows}
    assert set(flows) == {"cm1", "f1", "f2", "draft"}
    assert flows["draft"]["published_version"] is None and flows["draft"]["consumes"] == []
    assert flows["cm1"]["object_type"] == "COMMONMODULEFLOW"
    objects = {item.id: item for page in pages for item in page.objects}
    assert objects["q1"].deleted is True
    # and an unknown object type is kept and reported, not fatal
    assert objects["x1"].type == "HOLOGRAM"
    assert [kind for page in pages for kind in page.unknown_object_types] == ["HOLOGRAM"]


def test_incremental_read_reuses_dependencies_of_unchanged_flows_only() -> None:
    # Given a previous lock that recorded f1 at 1.0 and f2 at 1.0, stored in S3
    org = small_org()
    artifacts = FakeArtifacts()
    previous = Lockfile(
        org=ORG,
        flows=[
            LockedFlow(
                id="f1",
                name="Flow f1",
                type="INBOUNDCALL",
                published_version="1.0",
                consumes=[LockedDependency(id="q9", type="QUEUE", name="recorded")],
            ),
            LockedFlow(id="f2", name="Flow f2", type="INBOUNDCALL", published_version="1.0"),
        ],
    )
    key = f"locks/{ORG}/{lock_sha256(previous)}.json"
    artifacts.objects[key] = canonical_bytes(previous)
    # and f2 has since been republished
    org.republish("f2", "2.0")
    source = FakeSource(org)
    # When the page holding f1 and f2 is read incrementally
    task = PageTask(scan=scan(page_size=10), page_number=1, page_size=10, previous_lock_key=key)
    result = read_flow_page(source, artifacts, task, org=ORG)
    # Then f1 keeps its recorded dependencies without an API call, f2 and the unknown cm1 are re-read
    consumed_calls = [call for call in source.calls if call.startswith("GET consumed")]
    assert sorted(consumed_calls) == ["GET consumed cm1", "GET consumed f2"]
    assert (result.reused, result.read) == (1, 2)
    flows = {flow["id"]: flow for flow in stored_page(artifacts, result.key).flows}
    assert [dep["id"] for dep in flows["f1"]["consumes"]] == ["q9"]
    assert result.api_calls == 3  # one listing + two consumed-resources reads


def test_full_scan_ignores_the_previous_lock() -> None:
    # Given a previous lock key that does not even exist
    source, artifacts = FakeSource(small_org()), FakeArtifacts()
    task = PageTask(
        scan=scan(full=True, page_size=10), page_number=1, page_size=10, previous_lock_key="locks/x.json"
    )
    # When a full scan reads the page
    result = read_flow_page(source, artifacts, task, org=ORG)
    # Then every published flow is read and the lock is never fetched
    assert (result.read, result.reused) == (3, 0)


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"name": "no id", "type": "INBOUNDCALL"}, "flow record 0 on page 1 has no id"),
        ({"id": "f9", "name": "no type"}, "(id f9) has no type"),
        (
            {"id": "f9", "name": "x", "type": "INBOUNDCALL", "publishedVersion": {"name": "?"}},
            "publishedVersion",
        ),
    ],
)
def test_malformed_flow_record_stops_the_page_with_a_message_naming_it(
    record: dict[str, object], expected: str
) -> None:
    # Given a listing with a malformed record
    org = FakeOrg(flows=[record])
    # When the page is read
    with pytest.raises(MalformedFlowRecordError) as raised:
        read_flow_page(
            FakeSource(org), FakeArtifacts(), PageTask(scan=scan(), page_number=1, page_size=2), org=ORG
        )
    # Then the error names the record and what is wrong with it
    assert expected in str(raised.value)
    assert raised.value.asl_error_name == "Scan.MalformedFlowRecord"


def test_malformed_consumed_resource_is_reported_with_its_flow() -> None:
    # Given a flow whose consumed resources include one without a type
    org = FakeOrg()
    org.add_flow("f1", consumes=[{"id": "q1", "name": "Q"}])
    # When its page is read
    with pytest.raises(MalformedFlowRecordError, match="consumed resource 0 of flow f1"):
        read_flow_page(
            FakeSource(org), FakeArtifacts(), PageTask(scan=scan(), page_number=1, page_size=2), org=ORG
        )


def test_a_page_size_that_would_overflow_the_execution_history_is_raised_to_fit() -> None:
    # Given an org of 20,000 flows scanned with pages of 25 (800 pages: too many Map items for
    # one execution's 25,000 history events)
    from flowops.scan.models import MAX_SCAN_PAGES

    org = FakeOrg()
    for number in range(20_000):
        org.flows.append({"id": f"f{number:05d}", "name": f"Flow {number}", "type": "INBOUNDCALL"})
    source = FakeSource(org)
    # When the pages are planned
    plan = plan_flow_pages(source, FakePointers(), scan(page_size=25), org=ORG)
    # Then the plan reads 100 flows a page: 200 pages, within the bound, every flow covered
    assert plan.page_count <= MAX_SCAN_PAGES
    assert (plan.page_size, plan.page_count) == (100, 200)
    assert plan.page_size * plan.page_count >= plan.total_flows == 20_000


def test_a_page_records_who_published_each_flow_and_when() -> None:
    # Given flows whose published versions name their author and date, one malformed, one bare
    org = FakeOrg()
    org.add_flow("f1")
    org.add_flow("f2")
    org.add_flow("f3")
    org.add_flow("f4")
    org.flows[0]["publishedVersion"] |= {
        "createdBy": {"id": "u-1", "name": "Ana", "selfUri": "/api/v2/users/u-1"},
        "datePublished": "2026-11-30T09:15:00.000Z",
    }
    org.flows[1]["publishedVersion"] |= {"createdBy": {"id": "u-2"}, "datePublished": 1764494100000}
    org.flows[1]["publishedBy"] = {"id": "u-2", "name": "Bo"}
    org.flows[3]["publishedVersion"] |= {"createdByClient": {"id": "c-9", "name": "flowops"}}
    artifacts = FakeArtifacts()
    # When the page is read
    result = read_flow_page(
        FakeSource(org), artifacts, PageTask(scan=scan(), page_number=1, page_size=4), org=ORG
    )
    flows = {flow["id"]: flow for flow in stored_page(artifacts, result.key).flows}
    # Then the author is "name (id)" and the date is kept as an ISO date-time
    assert flows["f1"]["published_by"] == "Ana (u-1)"
    assert flows["f1"]["date_published"].startswith("2026-11-30T09:15:00")
    # And an author given by id only takes the name of the flow's publishedBy (the same user);
    # a date that is not ISO is left out
    assert flows["f2"]["published_by"] == "Bo (u-2)"
    assert flows["f2"]["date_published"] is None
    assert flows["f3"]["published_by"] is None and flows["f3"]["date_published"] is None
    # And a version published through client credentials names its OAuth client
    assert flows["f4"]["published_by"] == "client flowops (c-9)"
