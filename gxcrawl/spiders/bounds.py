"""Bounds on the list pages a crawl requests: distinct pages, not hops.

A calendar trap whose 尾页 link moves forward on every page branches into ever new pages at a
shallow depth, which a hop count never bounds; counting distinct pages per column and per portal
does.
"""

from __future__ import annotations

from gxcrawl.platforms.base import ListRequest
from gxcrawl.urls import canonical_url


def list_key(req: ListRequest) -> str:
    """A list request's identity for counting: a POST page is its URL plus its form."""
    url = canonical_url(req.url)
    return url if req.method.upper() != "POST" else f"POST {url} {sorted(req.formdata or ())}"


class ListPageBounds:
    """Distinct list pages requested per (portal, column) and per portal.

    Counts pages, not hops: a calendar trap whose 尾页 link moves forward on every page branches
    into ever new pages at a shallow depth, which a hop count never bounds.
    """

    def __init__(self) -> None:
        self._by_column: dict[tuple[str, str], set[str]] = {}
        self._by_portal: dict[str, set[str]] = {}
        self._traps: set[tuple[str, str, str]] = set()

    def admit(
        self, portal: str, column: str, url: str, per_column: int, per_portal: int
    ) -> str | None:
        """None when `url` may be requested (counted), else which bound it hit."""
        in_column = self._by_column.setdefault((portal, column), set())
        in_portal = self._by_portal.setdefault(portal, set())
        if url in in_column:
            return None  # already counted (Scrapy's duplicate filter drops the repeat)
        if len(in_column) >= per_column:
            return "column"
        if url not in in_portal and len(in_portal) >= per_portal:
            return "portal"
        in_column.add(url)
        in_portal.add(url)
        return None

    def count(self, portal: str, column: str | None = None) -> int:
        if column is None:
            return len(self._by_portal.get(portal, ()))
        return len(self._by_column.get((portal, column), ()))

    def first_trap(self, portal: str, column: str, bound: str) -> bool:
        """True the first time a column (or a portal) hits its bound: log it once."""
        key = (portal, column if bound == "column" else "", bound)
        if key in self._traps:
            return False
        self._traps.add(key)
        return True
