"""Generic HTML lists: plain links, 下一页 / 尾页 / numbered pager links, `index_N.html` pages.

Also the fallback of every other strategy when its own markers are absent.
"""

from __future__ import annotations

from collections.abc import Mapping

from gxcrawl.platforms.base import Listing, body_links, generic_pages, parse_html

__all__ = ["GenericStrategy", "parse_generic"]


def parse_generic(html: str, url: str, selectors: Mapping[str, str]) -> Listing:
    root = parse_html(html)
    if root is None:
        return Listing()
    return Listing(
        items=body_links(root, url, selectors),
        pages=generic_pages(root, url, selectors),
        columns=[],
    )


class GenericStrategy:
    name = "generic"

    def parse_listing(self, html: str, url: str, selectors: Mapping[str, str]) -> Listing:
        return parse_generic(html, url, selectors)
