"""One consistent listing of the org's flows, taken while planning.

`GET /api/v2/flows` pages by offset (`pageNumber` x `pageSize`). In a large org people create and
delete flows while a scan pages through it: a deletion before the current offset shifts every
later flow one place left (the next page skips one), a creation shifts them right (the next page
repeats one). Pages read in parallel by the Map, minutes apart, make that likely.

So the plan lists every flow itself, sorted by id with the largest page size, and checks the
listing before trusting it:
- within a pass, every page must report the same `total`, and the distinct ids must number
  exactly that total (a deletion or creation between pages changes both);
- two consecutive passes must list the same ids (a deletion and a creation between the same two
  pages cancel out in the totals, never in the ids).
A pass that fails either check is repeated, up to `MAX_LISTING_PASSES`. If the org never holds
still that long, the union of the passes is taken (a flow existing throughout cannot be skipped
by all of them; one deleted meanwhile is then read as unread/404 and dropped by the next scan)
and the plan says the listing was unstable. Duplicates are dropped by id in every case.

The page steps then read their slice of this listing from S3 instead of listing again, so every
flow is read exactly once however the org changes during the scan. Cost: two or more listing calls
per 500 flows (8 for a 2,000-flow org), against one consumed-resources read per flow.

The pages of a pass after the first are fetched `LISTING_READERS` at a time: a page of 500 flows
takes longer to answer than the client's pacing interval (0.2 s at 291/min), so one page at a
time left the listing bound by answer time, not by the rate limit (ListFlowPages of a 20,000-flow
org took ~3x what the budget allows, bench.scan_deployed). The client's limiter, token and counters
are thread-safe; the pages are put back in order, so a pass reads as a sequential one would.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel, Field

from flowops.scan.models import MAX_FLOWS_PAGE_SIZE
from flowops.scan.ports import ScanSource

LISTING_PAGE_SIZE = MAX_FLOWS_PAGE_SIZE
MAX_LISTING_PASSES = 4
# A safety stop against a listing that keeps announcing pages (20,000 flows are 40 pages).
MAX_LISTING_PAGES = 1_000
# Pages of one pass in flight at once (one token, one budget: the limiter spaces their requests).
LISTING_READERS = 4


class FlowListing(BaseModel):
    """The flows of the org as one consistent listing (records trimmed to what the scan reads)."""

    flows: list[dict[str, Any]] = Field(description="flow records sorted by id, one per id")
    passes: int = Field(ge=1, description="listing passes it took")
    stable: bool = Field(description="two consecutive consistent passes agreed")
    api_calls: int = 0


class _Pass:
    __slots__ = ("consistent", "records")

    def __init__(self, records: dict[str, dict[str, Any]], consistent: bool) -> None:
        self.records = records
        self.consistent = consistent


def _trim(entity: Mapping[str, Any]) -> dict[str, Any]:
    """The fields the page step reads; everything else stays out of S3."""
    trimmed = {key: entity[key] for key in ("id", "name", "type", "deleted") if key in entity}
    published = entity.get("publishedVersion")
    if isinstance(published, Mapping):
        trimmed["publishedVersion"] = {"id": published.get("id")}
    elif published is not None:
        trimmed["publishedVersion"] = published  # malformed: the page step reports it
    return trimmed


def _one_pass(source: ScanSource) -> _Pass:
    first = source.flows_page(1, LISTING_PAGE_SIZE)
    pages = [first]
    page_count = min(int(first.page_count), MAX_LISTING_PAGES)
    if first.entities and page_count > 1:
        # The first page's count fixes the pass: a creation or deletion meanwhile changes the
        # totals the later pages report, and the pass is repeated.
        with ThreadPoolExecutor(max_workers=LISTING_READERS, thread_name_prefix="flow-listing") as pool:
            pages.extend(
                pool.map(
                    lambda number: source.flows_page(number, LISTING_PAGE_SIZE), range(2, page_count + 1)
                )
            )
    records: dict[str, dict[str, Any]] = {}
    totals: set[int] = set()
    malformed: list[dict[str, Any]] = []
    for page in pages:
        totals.add(int(page.total))
        for entity in page.entities:
            flow_id = entity.get("id") if isinstance(entity, Mapping) else None
            if isinstance(flow_id, str) and flow_id:
                records[flow_id] = _trim(entity)
            else:
                # Kept (not dropped) so the page step names the malformed record.
                malformed.append(dict(entity) if isinstance(entity, Mapping) else {"record": entity})
    for position, record in enumerate(malformed):
        records[f"\x00malformed-{position}"] = record
    consistent = len(totals) == 1 and len(records) == next(iter(totals))
    return _Pass(records, consistent)


def list_all_flows(source: ScanSource) -> FlowListing:
    """Every flow of the org, once, from a listing checked as described in the module docstring."""
    calls_before = source.total_api_calls
    passes = [_one_pass(source)]
    stable = False
    while len(passes) < MAX_LISTING_PASSES:
        passes.append(_one_pass(source))
        previous, latest = passes[-2], passes[-1]
        if previous.consistent and latest.consistent and previous.records.keys() == latest.records.keys():
            stable = True
            break
    if stable:
        records = passes[-1].records
    else:
        records = {}
        for listing in passes:  # later passes win: they are the newer truth
            records.update(listing.records)
    return FlowListing(
        flows=[records[key] for key in sorted(records)],
        passes=len(passes),
        stable=stable,
        api_calls=source.total_api_calls - calls_before,
    )
