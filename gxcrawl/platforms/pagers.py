"""Pagers of list templates that have no module of their own (Ucap/开普云, JCMS openlist,
ASP.NET lists, hand-made CMSs), read from the page's own markup.

Three shapes, each a pure function of (html, url):

- a page-count variable in a script (`var totalPage = 5`, `pageCount: 5`, …) with the page
  written as `index.shtml`, `index_1.shtml`, … (Ucap and most TRS-derived templates);
- a numeric query parameter in pager links (`?uid=12&pageNum=2`, `InfoPublic.aspx?page=3`): the
  range up to the highest page shown, or to the printed total (`共 7 页`);
- a windowed `index_N` pager (`1 2 3 … 下一页`) whose printed total (`共 7 页`) says how far
  the hidden pages go.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import lxml.html

from gxcrawl.platforms.base import absolute_url, document_base

__all__ = [
    "PAGE_COUNT_VAR",
    "PAGE_PARAMS",
    "TOTAL_PAGES_TEXT",
    "count_var_pages",
    "linked_page_names",
    "printed_total",
    "query_pages",
    "total_text_pages",
]

PAGE_COUNT_VAR = re.compile(
    r"\b(?:var\s+)?(?P<name>totalPages?|pageCount|page_count|pageTotal|totalPageNum|maxPage|"
    r"pagecount|totalpage|allPage|countPage)\s*[=:]\s*['\"]?(?P<n>\d+)",
)
TOTAL_PAGES_TEXT = re.compile(r"共\s*(\d+)\s*页")
# Query parameters that number a list's pages (JCMS openlist, ASP.NET, PHP lists).
PAGE_PARAMS = frozenset(
    {"page", "pagenum", "pageno", "pageindex", "currentpage", "curpage", "currpage", "p", "pn",
     "page_no", "page_num", "pagenumber", "pagenow", "nowpage", "cpage"}
)  # fmt: skip
_NUMBERED_PARAM = re.compile(r"^a\d+p$", re.I)  # VSB dynamic lists: ?a2t=9&a2p=2&a2c=10
PAGE_LIMIT = 500  # more pages than this is a misread number, not a 年报 column
_STEM = re.compile(r"^(?P<stem>[A-Za-z]+)(?:_\d+)?\.(?P<ext>s?html?|jsp)$")
# A numbered list page in an href (`index_2.shtml`, `list_3.html`); 1-3 digits, so TRS detail
# pages (`t20230117_4521000.htm`) never match.
_PAGE_LINK = re.compile(
    r"""href\s*=\s*["'](?:[^"']*/)?(?P<stem>[A-Za-z]+)_\d{1,3}\.(?P<ext>s?html?)["']""", re.I
)


def printed_total(html: str) -> int | None:
    """The page total a pager prints (`共 7 页`), when it is a plausible page count."""
    match = TOTAL_PAGES_TEXT.search(html)
    total = int(match.group(1)) if match else None
    return total if total and 1 < total <= PAGE_LIMIT else None


def _stem_and_ext(html: str, url: str) -> tuple[str, str]:
    """How this list names its pages: the current file's stem, the extension its own
    `index_N` links use, else the current file's, else html."""
    last = urlsplit(url).path.rsplit("/", 1)[-1]
    current = _STEM.match(last)
    names = linked_page_names(html)
    stem = current.group("stem") if current else (names[0][0] if names else "index")
    for linked_stem, ext in names:
        if linked_stem == stem:
            return stem, ext
    return stem, current.group("ext") if current else "html"


def linked_page_names(html: str) -> list[tuple[str, str]]:
    """(stem, extension) of the numbered list pages the page links, in order of appearance."""
    found = [(m.group("stem"), m.group("ext")) for m in _PAGE_LINK.finditer(html)]
    return list(dict.fromkeys(found))


def count_var_pages(html: str, url: str) -> list[str]:
    """`index_1 … index_{N-1}` (and `index`) from a page-count variable in a script."""
    match = PAGE_COUNT_VAR.search(html)
    if not match:
        return []
    total = int(match.group("n"))
    if total <= 1 or total > PAGE_LIMIT:
        return []
    stem, ext = _stem_and_ext(html, url)
    folder = url.split("?", 1)[0].rsplit("/", 1)[0] + "/"
    return [f"{folder}{stem}.{ext}"] + [f"{folder}{stem}_{n}.{ext}" for n in range(1, total)]


def total_text_pages(html: str, url: str) -> list[str]:
    """A windowed `index_N` pager extended to the printed total (`共 N 页`)."""
    total = printed_total(html)
    if total is None or not linked_page_names(html):
        return []
    stem, ext = _stem_and_ext(html, url)
    folder = url.split("?", 1)[0].rsplit("/", 1)[0] + "/"
    return [f"{folder}{stem}_{n}.{ext}" for n in range(1, total)]


@functools.lru_cache(maxsize=4096)  # pure; a pager's links repeat on every page of a column
def _page_param(target: str, here: str) -> tuple[str, int] | None:
    """(parameter, page) when `target` is `here` with only a page parameter changed or added."""
    t, h = urlsplit(target), urlsplit(here)
    if (t.netloc, t.path) != (h.netloc, h.path):
        return None
    t_params, h_params = dict(parse_qsl(t.query)), dict(parse_qsl(h.query))
    changed = [k for k in t_params if t_params.get(k) != h_params.get(k)]
    if len(changed) != 1:
        return None
    name = changed[0]
    if name.lower() not in PAGE_PARAMS and not _NUMBERED_PARAM.match(name):
        return None
    value = t_params[changed[0]]
    return (changed[0], int(value)) if value.isdigit() else None


def _with_param(params: list[tuple[str, str]], name: str, page: int) -> str:
    """The query with `name` set to `page` in its place (appended when absent)."""
    out = [(k, str(page) if k == name else v) for k, v in params]
    if not any(k == name for k, _ in params):
        out.append((name, str(page)))
    return urlencode(out)


def query_pages(root: lxml.html.HtmlElement, html: str, url: str) -> list[str]:
    """Every page of a list numbered by a query parameter, up to the highest page linked or
    the printed total, whichever is larger."""
    base = document_base(root, url)
    highest: dict[str, int] = {}
    for anchor in root.iter("a"):
        target = absolute_url(anchor.get("href"), base)
        found = _page_param(target, url) if target else None
        if found:
            name, page = found
            highest[name] = max(highest.get(name, 0), page)
    total = printed_total(html) or 0
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    pages: list[str] = []
    for name, top in highest.items():
        present = any(k == name for k, _ in params)
        first = 1 if present else 2  # without the parameter this page is page 1
        for n in range(first, min(max(top, total), PAGE_LIMIT) + 1):
            query = _with_param(params, name, n)
            pages.append(urlunsplit((parts.scheme, parts.netloc, parts.path, query, "")))
    return pages
