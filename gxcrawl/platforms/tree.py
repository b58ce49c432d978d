"""List trees: a 年报 column split into per-year or per-department sub-columns.

Real shapes: `…/zfxxgknb/2023n/`, `…/xxgknb/2014nb/`, `…/zfxxgknb/gknb2017/`,
`…/gknb/xxgknb2020/tjsrmzf/`, `…/zfxxgknb/nb_szfbm/<dept>/`, `…/bmxxgknb/<dept>/`. Each leaf is an
ordinary (usually TRS) list, so a tree page is parsed as TRS (falling back to generic links) and
additionally returns the sub-columns to walk:

- every folder link strictly below the current column (children, grandchildren), wherever it sits
  on the page (sub-column menus are often in a side "nav" block the item filter ignores);
- sibling folders of the current column whose name carries a year (`2022n/` next to `2023n/`),
  so starting from one year's column still reaches the others;
- report folders listed in the page body (not header/nav/footer chrome) under the column's
  parent: a hub column such as `…/ndbg/` listing `…/zfxxgknb/` and `…/bmxxgknb/` (by link text
  年报/年度报告/a year, or a folder name like `nb`/`ndbg`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from gxcrawl.platforms.base import (
    Listing,
    ListRequest,
    absolute_url,
    anchors,
    document_base,
    is_attachment_url,
    is_directory_url,
    parse_html,
    split_url,
)
from gxcrawl.platforms.trs import parse_trs

__all__ = ["TreeStrategy", "find_subcolumns", "parse_tree"]

_YEAR_SEGMENT = re.compile(r"(?:19|20)\d{2}")
# A sibling column is walked only when it says it holds reports (not 通知公告 next door).
_REPORT_TEXT = re.compile(r"年报|年度报告|工作报告|(?:19|20)\d{2}")
_REPORT_SEGMENT = re.compile(r"nb|ndbg|ndbb|gkbg|nianbao|(?:19|20)\d{2}", re.I)
# Folder names that are documents, not columns (Inner-Mongolia sites: `<col>/<timestamp>/`).
_DOCUMENT_FOLDER = re.compile(r"^\d{12,}$|^[0-9a-f]{32}$")


def _folder(path: str) -> str:
    return path if path.endswith("/") else path.rsplit("/", 1)[0] + "/"


def find_subcolumns(html: str, url: str, selectors: Mapping[str, str] | None = None) -> list[str]:
    """Sub-column (folder) URLs to walk from this column page."""
    root = parse_html(html)
    if root is None:
        return []
    base = document_base(root, url)
    here = urlsplit(url)
    current = _folder(here.path)
    parent = current.rstrip("/").rsplit("/", 1)[0] + "/"
    body_anchors = anchors(root, selectors or {})  # held: lxml proxies die (and ids recycle)
    body = {id(a) for a in body_anchors}
    found: list[str] = []
    for anchor in root.iter("a"):
        target = absolute_url(anchor.get("href"), base)
        if not target or is_attachment_url(target) or not is_directory_url(target):
            continue
        parts = split_url(target)
        if parts.netloc != here.netloc or parts.query:
            continue
        folder = _folder(parts.path)
        last = folder.rstrip("/").rsplit("/", 1)[-1]
        if _DOCUMENT_FOLDER.match(last) or folder == current:
            continue
        below = folder.startswith(current)
        year_sibling = (
            folder.startswith(parent)
            and folder.count("/") == current.count("/")
            and bool(_YEAR_SEGMENT.search(last))
        )
        # a hub column lists its parts in its body: `ndbg/` → `zfxxgknb/`, `bmxxgknb/`
        listed = (
            id(anchor) in body
            and folder.startswith(parent)
            and folder != parent
            and bool(_REPORT_TEXT.search(anchor.text_content()) or _REPORT_SEGMENT.search(last))
        )
        if below or year_sibling or listed:
            found.append(f"{parts.scheme}://{parts.netloc}{folder}")
    return list(dict.fromkeys(found))


def parse_tree(html: str, url: str, selectors: Mapping[str, str]) -> Listing:
    listing = parse_trs(html, url, selectors)
    columns = find_subcolumns(html, url, selectors)
    column_set = set(columns)
    # a sub-column index link is a column, not an item
    listing.items = [i for i in listing.items if _folder_url(i.url) not in column_set]
    listing.columns = [ListRequest(c) for c in columns]
    return listing


def _folder_url(url: str) -> str:
    parts = urlsplit(url)
    if not is_directory_url(url):
        return url
    return f"{parts.scheme}://{parts.netloc}{_folder(parts.path)}"


class TreeStrategy:
    name = "tree"

    def parse_listing(self, html: str, url: str, selectors: Mapping[str, str]) -> Listing:
        return parse_tree(html, url, selectors)
