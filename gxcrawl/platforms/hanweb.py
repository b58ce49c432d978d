"""Hanweb jcms (大汉) column lists.

The list is data, not links. A column page (`/col/col<ID>/index.html`) inlines its first records:

    <script type="text/xml"><datastore>
      <totalrecord>58</totalrecord><totalpage>4</totalpage>
      <nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&webid=1&path=/
        &columnid=123&unitid=456&col=1&appid=1&permissiontype=0"></a>]]></nextgroup>
      <recordset><record><![CDATA[<li><a href="/art/2021/2/20/art_123_456.html" title="…">…</a>
        <span>2021-02-20</span></li>]]></record>…</recordset>
    </datastore></script>

and the jpage client fetches the rest by POST to
`/module/web/jpage/dataproxy.jsp?startrecord=S&endrecord=E&perpage=15`, the nextgroup link's query
parameters (col, appid, webid, path, columnid, unitid, permissiontype, …) as form fields. It asks
one group of pages per POST: `groupSize` pages of `perPage` records, both read from the page's
`jpage({… perPage: 15, groupSize: 3 …})` call (defaults 15 and 3, i.e. 45 records); the answer
is a bare `<datastore>` of the same shape.

POST windows are computed once, from the column page: the first starts after the records the page
inlines (the real client inlines the first group), each window is one group long and, as in the
client, `endrecord` is not clipped at `totalrecord`. A dataproxy answer yields items only, never
pages again.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urljoin, urlsplit

from gxcrawl.platforms.base import (
    Link,
    Listing,
    ListRequest,
    body_links,
    dedupe_links,
    parse_html,
)
from gxcrawl.platforms.generic import parse_generic

__all__ = ["DATAPROXY_PATH", "DataStore", "HanwebStrategy", "dataproxy_requests", "parse_datastore"]

DATAPROXY_PATH = "/module/web/jpage/dataproxy.jsp"
GROUP_PAGES = 3  # pages per POST, as the jpage client asks
DEFAULT_PERPAGE = 15  # the jpage client's default perPage
ANSWER_HEAD_CHARS = 200  # an XML answer says so in its first bytes (declaration or <datastore>)

_DATASTORE = re.compile(r"<datastore\b.*?</datastore>", re.S | re.I)
_RECORD = re.compile(r"<record\b[^>]*>\s*(?:<!\[CDATA\[(.*?)\]\]>|(.*?))\s*</record>", re.S | re.I)
_NEXTGROUP = re.compile(
    r"<nextgroup\b[^>]*>\s*(?:<!\[CDATA\[(.*?)\]\]>|(.*?))\s*</nextgroup>", re.S | re.I
)
_PERPAGE = re.compile(r"\bper[_]?page\s*[:=]\s*['\"]?(\d+)", re.I)
_GROUPSIZE = re.compile(r"\bgroup[_]?size\s*[:=]\s*['\"]?(\d+)", re.I)
_FORM_ORDER = ("col", "appid", "webid", "path", "columnid", "unitid", "permissiontype")
# Parameters that belong to the query string, not the form.
_QUERY_ONLY = frozenset({"page", "startrecord", "endrecord", "perpage"})


def _tag_int(block: str, tag: str) -> int | None:
    match = re.search(rf"<{tag}\b[^>]*>\s*(\d+)\s*</{tag}>", block, re.I)
    return int(match.group(1)) if match else None


def _records(block: str, url: str) -> list[Link]:
    links: list[Link] = []
    for match in _RECORD.finditer(block):
        fragment = (
            match.group(1) if match.group(1) is not None else html_lib.unescape(match.group(2))
        )
        root = parse_html(f"<html><body>{fragment}</body></html>")
        if root is not None:
            links.extend(body_links(root, url, {}))
    return links


@dataclass(frozen=True)
class DataStore:
    total: int | None  # <totalrecord>
    inline: int  # records carried by this datastore
    params: tuple[tuple[str, str], ...]  # the nextgroup link's query


def parse_datastore(text: str, url: str) -> tuple[list[Link], list[DataStore]]:
    """Items of every `<datastore>` in `text`, and per datastore its paging facts
    (totalrecord, inlined record count, nextgroup parameters)."""
    items: list[Link] = []
    stores: list[DataStore] = []
    for block_match in _DATASTORE.finditer(text):
        block = block_match.group(0)
        records = _records(block, url)
        items.extend(records)
        params: list[tuple[str, str]] = []
        nextgroup = _NEXTGROUP.search(block)
        if nextgroup:
            fragment = nextgroup.group(1) or html_lib.unescape(nextgroup.group(2) or "")
            href = re.search(r"href\s*=\s*['\"]([^'\"]+)['\"]", fragment)
            if href:
                query = urlsplit(html_lib.unescape(href.group(1))).query
                params = parse_qsl(query, keep_blank_values=True)
        inline = len(re.findall(r"<record\b", block, re.I))
        stores.append(DataStore(_tag_int(block, "totalrecord"), inline, tuple(params)))
    return dedupe_links(items), stores


def dataproxy_requests(
    url: str,
    total: int,
    inline: int,
    params: Iterable[tuple[str, str]],
    perpage: int,
    group_pages: int = GROUP_PAGES,
) -> list[ListRequest]:
    """One POST per group of `group_pages` pages not inlined in the column page. Like the jpage
    client, `endrecord` is the group's end, not clipped at the total (the server stops there)."""
    form = [(k, v) for k, v in params if k.lower() not in _QUERY_ONLY]
    if not any(k == "col" for k, _ in form):
        form.insert(0, ("col", "1"))
    # the client's field order; parameters it does not know keep their place after these
    form.sort(key=lambda kv: _FORM_ORDER.index(kv[0]) if kv[0] in _FORM_ORDER else len(_FORM_ORDER))
    formdata = tuple(form)
    group = max(1, perpage) * max(1, group_pages)
    endpoint = urljoin(url, DATAPROXY_PATH)
    requests = []
    start = inline + 1
    while start <= total:
        end = start + group - 1
        requests.append(
            ListRequest(
                f"{endpoint}?startrecord={start}&endrecord={end}&perpage={perpage}",
                method="POST",
                formdata=formdata,
            )
        )
        start = end + 1
    return requests


def _is_dataproxy_answer(text: str, url: str) -> bool:
    if urlsplit(url).path.endswith("dataproxy.jsp"):
        return True
    head = text.lstrip()[:ANSWER_HEAD_CHARS].lower()
    return head.startswith("<?xml") or head.startswith("<datastore")


def parse_hanweb(html: str, url: str, selectors: Mapping[str, str]) -> Listing:
    if "<datastore" not in html.lower():
        return parse_generic(html, url, selectors)  # not a jpage list (e.g. ?pageNum= pages)
    items, stores = parse_datastore(html, url)
    if _is_dataproxy_answer(html, url):
        return Listing(items=items)  # POST answers never page again
    perpage_match, group_match = _PERPAGE.search(html), _GROUPSIZE.search(html)
    perpage = int(perpage_match.group(1)) if perpage_match else DEFAULT_PERPAGE
    group_pages = int(group_match.group(1)) if group_match else GROUP_PAGES
    pages: list[ListRequest] = []
    for store in stores:
        if store.total is not None and store.params:
            pages.extend(
                dataproxy_requests(
                    url, store.total, store.inline, store.params, perpage, group_pages
                )
            )
    return Listing(items=items, pages=pages)


class HanwebStrategy:
    name = "hanweb"

    def parse_listing(self, html: str, url: str, selectors: Mapping[str, str]) -> Listing:
        return parse_hanweb(html, url, selectors)
