"""The planner cuts the listing into pages that keep every reader of the Map busy to the end."""

from __future__ import annotations

import pytest

from flowops.scan.models import MAX_SCAN_PAGES
from flowops.scan.pages import MIN_BALANCED_PAGE, balanced_slices
from flowops.scan.shape import PAGE_READERS
from flowops.stacknames import MAP_MAX_CONCURRENCY


def test_the_planner_balances_for_the_readers_the_stack_runs() -> None:
    assert MAP_MAX_CONCURRENCY == PAGE_READERS


@pytest.mark.parametrize(
    ("flows", "page_size", "pages"),
    [
        (2000, 200, 12),  # 10 pages would idle two of four readers for the last round
        (20000, 200, 100),  # already whole rounds
        (300, 200, 4),  # two pages of 200 become four of 75
        (4, 200, 1),  # a tiny org stays one call
        (1, 500, 1),
        (100_000, 500, MAX_SCAN_PAGES),  # the cap wins over rounding
        (99_900, 500, MAX_SCAN_PAGES),
    ],
)
def test_pages_come_in_whole_rounds_of_near_equal_size(flows: int, page_size: int, pages: int) -> None:
    items = list(range(flows))
    slices = balanced_slices(items, page_size)
    assert len(slices) == pages
    sizes = [len(page) for page in slices]
    assert max(sizes) - min(sizes) <= 1
    assert max(sizes) <= page_size
    assert [item for page in slices for item in page] == items  # order kept, nothing lost or doubled
    if pages > 1 and flows >= PAGE_READERS * MIN_BALANCED_PAGE:
        assert pages % PAGE_READERS == 0 or pages == MAX_SCAN_PAGES


def test_an_empty_listing_has_no_pages() -> None:
    assert balanced_slices([], 200) == []
