"""TRS WCM (拓尔思) column lists.

Pagination is written by a script, not links: `createPageHTML(total, current, "index", "html")`
(near a `//WCM置标` comment; newer templates pass a div id first:
`createPageHTML('page_div', total, current, 'index', 'html', records)`), or by variables
`var countPage = N` / `var currentPage = 0`. Pages are `index.html`, `index_1.html`, … in the
column folder. Detail links look like `./YYYYMM/tYYYYMMDD_<docid>.htm(l)`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urljoin, urlsplit

from gxcrawl.platforms.base import (
    Link,
    Listing,
    ListRequest,
    body_links,
    dedupe_requests,
    generic_pages,
    is_attachment_url,
    parse_html,
    strip_fragment,
)

__all__ = ["TrsStrategy", "is_trs_detail", "parse_trs", "trs_pages"]

_DETAIL_RE = re.compile(r"/t(?:19|20)\d{6}_\d+(?:_\w+)?\.s?html?$")
_CREATE_PAGE = re.compile(r"createPageHTML\s*\(([^()]*)\)")
_COUNT_PAGE = re.compile(r"\b(?:var\s+)?countPage\s*=\s*(\d+)")
_PAGE_LIMIT = 2000  # a script saying more is not a page count we trust


def is_trs_detail(url: str) -> bool:
    return bool(_DETAIL_RE.search(urlsplit(url).path))


def _script_args(raw: str) -> list[str]:
    return [arg.strip().strip("'\"").strip() for arg in raw.split(",")]


def _page_urls(url: str, total: int, name: str, ext: str) -> list[str]:
    if total <= 1 or total > _PAGE_LIMIT or not re.fullmatch(r"[\w-]+", name + ext):
        return []
    folder = urljoin(url, "./")
    pages = [f"{folder}{name}.{ext}"]
    pages.extend(f"{folder}{name}_{n}.{ext}" for n in range(1, total))
    return pages


def _default_ext(url: str) -> str:
    match = re.search(r"\.(s?html?)$", urlsplit(url).path)
    return match.group(1) if match else "html"


def trs_pages(html: str, url: str) -> list[str]:
    """Every page of the column, from the pagination script (empty when there is none)."""
    pages: list[str] = []
    for match in _CREATE_PAGE.finditer(html):
        args = _script_args(match.group(1))
        if args and not args[0].isdigit():
            args = args[1:]  # newer form: the pager div id comes first
        if len(args) >= 2 and args[0].isdigit():
            name = args[2] if len(args) > 2 and args[2] else "index"
            ext = args[3] if len(args) > 3 and args[3] else _default_ext(url)
            pages.extend(_page_urls(url, int(args[0]), name, ext))
    if not pages:
        count = _COUNT_PAGE.search(html)
        if count:
            pages.extend(_page_urls(url, int(count.group(1)), "index", _default_ext(url)))
    return pages


def parse_trs(html: str, url: str, selectors: Mapping[str, str]) -> Listing:
    root = parse_html(html)
    if root is None:
        return Listing()
    links = body_links(root, url, selectors)
    details = [link for link in links if is_trs_detail(link.url) or is_attachment_url(link.url)]
    # Only TRS-shaped links when the page has them; otherwise fall back to every body link.
    items: list[Link] = details if any(is_trs_detail(x.url) for x in details) else links
    script_pages = [ListRequest(u) for u in trs_pages(html, url)]
    pages = script_pages + generic_pages(root, url, selectors)
    return Listing(items=items, pages=dedupe_requests(pages, exclude=strip_fragment(url)))


class TrsStrategy:
    name = "trs"

    def parse_listing(self, html: str, url: str, selectors: Mapping[str, str]) -> Listing:
        return parse_trs(html, url, selectors)
