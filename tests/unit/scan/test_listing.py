"""One checked listing per scan: flows created or deleted between pages are never skipped or repeated."""

from __future__ import annotations

import math
import threading

from flowops.scan.listing import LISTING_PAGE_SIZE, LISTING_READERS, list_all_flows
from tests.unit.scan.fakes import FakeArtifacts, FakeOrg, FakePage, FakePointers, FakeSource, dependency
from tests.unit.scan.pipeline import plan_scan, run_scan


class ChurningSource(FakeSource):
    """Offset paging like the real API, with someone deleting a flow on an EARLIER page and creating
    one that sorts LATER between two page reads, for the first `churn` page reads (totals unchanged)."""

    def __init__(self, org: FakeOrg, churn: int, page_size: int) -> None:
        super().__init__(org)
        self.churn = churn
        self.page_size = page_size
        self.created = 0

    def flows_page(self, page_number: int, page_size: int) -> FakePage:
        page = super().flows_page(page_number, self.page_size)
        if self.churn > 0:
            self.churn -= 1
            ordered = sorted(self.org.flows, key=lambda record: record["id"])
            victim = ordered[0]["id"]  # before every later offset: the next page skips one flow
            self.org.flows = [record for record in self.org.flows if record["id"] != victim]
            self.created += 1
            self.org.add_flow(f"z-new-{self.created}")  # sorts last: totals stay the same
        return FakePage(page.entities, math.ceil(page.total / self.page_size), page.total)


def org_of(count: int) -> FakeOrg:
    org = FakeOrg()
    for number in range(count):
        org.add_flow(f"f{number:03d}", consumes=[dependency("q", "QUEUE")])
    return org


def live_ids(org: FakeOrg) -> set[str]:
    return {record["id"] for record in org.flows}


def test_a_quiet_org_is_listed_in_two_agreeing_passes() -> None:
    source = FakeSource(org_of(5))
    listing = list_all_flows(source)
    assert listing.stable and listing.passes == 2
    assert [record["id"] for record in listing.flows] == [f"f{n:03d}" for n in range(5)]


def test_changes_between_pages_that_cancel_in_the_totals_are_caught_by_the_second_pass() -> None:
    # Given an org where, between the first pages, a flow before the offset is deleted and one is
    # created after it: the same totals, but naive offset paging skips a flow
    org = org_of(10)
    source = ChurningSource(org, churn=2, page_size=3)
    # When the listing is taken
    listing = list_all_flows(source)
    # Then it holds exactly the flows the org has now: none skipped, none twice
    ids = [record["id"] for record in listing.flows]
    assert len(ids) == len(set(ids))
    assert set(ids) == live_ids(org)
    assert listing.stable and listing.passes >= 3


def test_an_org_that_never_holds_still_gives_the_union_and_says_so() -> None:
    org = org_of(6)
    source = ChurningSource(org, churn=10_000, page_size=2)
    listing = list_all_flows(source)
    ids = {record["id"] for record in listing.flows}
    # every flow alive now is listed, but the one created after the last page was read
    assert not listing.stable and ids >= live_ids(org) - {f"z-new-{source.created}"}


def test_a_scan_of_a_churning_org_reads_every_flow_exactly_once() -> None:
    # Given a churning org and the scan's page steps reading after the plan
    org = org_of(12)
    source = ChurningSource(org, churn=3, page_size=4)
    artifacts, pointers = FakeArtifacts(), FakePointers()
    scan, plan = plan_scan(source, pointers, scan_id="s1", page_size=4, artifacts=artifacts)
    # Then the plan's pages are slices of one listing, and every flow is in exactly one of them
    assert all(page.listing_key for page in plan.pages)
    assert plan.total_flows == len(live_ids(org)) and plan.listing_stable
    outcome = run_scan(source, artifacts, pointers, scan_id="s2", page_size=4)
    assert outcome.flows == len(live_ids(org))
    consumed = [call for call in source.calls if call.startswith("GET consumed")]
    assert len(consumed) == len(set(consumed))


def test_listing_uses_the_largest_page_size() -> None:
    assert LISTING_PAGE_SIZE == 500


class OverlapRecordingSource(FakeSource):
    """Records how many page reads were in flight at once (each read waits briefly for company)."""

    def __init__(self, org: FakeOrg) -> None:
        super().__init__(org)
        self._guard = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.company = threading.Event()

    def flows_page(self, page_number: int, page_size: int) -> FakePage:
        with self._guard:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            if self.in_flight > 1:
                self.company.set()
        try:
            if page_number > 1:
                self.company.wait(timeout=2)  # bounded: a sequential listing only waits, never hangs
            return super().flows_page(page_number, page_size)
        finally:
            with self._guard:
                self.in_flight -= 1


def test_the_pages_after_the_first_are_read_side_by_side_and_kept_in_order() -> None:
    # Given an org of 6 listing pages whose answers take longer than the pacing interval
    org = org_of(6 * LISTING_PAGE_SIZE - 7)
    source = OverlapRecordingSource(org)
    # When it is listed
    listing = list_all_flows(source)
    # Then pages were in flight together (at most LISTING_READERS), and the listing is exactly the
    # org's flows, sorted, each once
    assert 1 < source.most_in_flight <= LISTING_READERS
    assert listing.stable
    assert [record["id"] for record in listing.flows] == sorted(live_ids(org))
