"""Walking Genesys listings page by page (`pageNumber` is 1-based, `pageCount` says when to stop)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from flowops.genesys.errors import GenesysError
from flowops.genesys.models import Page

T = TypeVar("T")

# A safety stop for a server that keeps announcing more pages (a bug would otherwise loop forever).
MAX_PAGES = 10_000


def iter_pages(
    fetch_page: Callable[[int], Page[T]],
    *,
    first_page: int = 1,
    max_pages: int = MAX_PAGES,
) -> Iterator[Page[T]]:
    """Yield pages `first_page`, `first_page + 1`, ... until the listing says there are no more."""
    page_number = first_page
    for _ in range(max_pages):
        page = fetch_page(page_number)
        yield page
        if not page.entities or not page.has_next_page():
            return
        page_number += 1
    raise GenesysError(f"listing still announced more pages after {max_pages} pages; stopping")


def iter_all(
    fetch_page: Callable[[int], Page[T]],
    *,
    first_page: int = 1,
    max_pages: int = MAX_PAGES,
) -> Iterator[T]:
    """Every entity of every page, in order."""
    for page in iter_pages(fetch_page, first_page=first_page, max_pages=max_pages):
        yield from page.entities
