"""Platform detection from the page itself, and the `auto` strategy built on it.

A start URL alone must work on portals whose markup nobody here has seen, and one portal often
mixes families (a TRS column next to a Hanweb one). So each list page's own markup decides which
list and pagination mechanisms apply: `detect(html, url)` names every mechanism it finds, each
with the evidence it saw (`createPageHTML(5, 0, "index", "html")`, `<datastore> totalrecord=215`,
…), and the platform that best explains them. `AutoStrategy` runs the existing strategies'
parsers for every detected mechanism and merges what they find. A registry `platform` is a hint:
it can add mechanisms (a TRS hint also reads the TRS script), never remove detected ones.

Pure: HTML text and URL in, data out; nothing here fetches.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import lxml.html

from gxcrawl.platforms.base import (
    Listing,
    ListRequest,
    Strategy,
    dedupe_links,
    dedupe_requests,
    generic_pages,
    is_directory_url,
    parse_html,
    split_url,
    strip_fragment,
)
from gxcrawl.platforms.generic import parse_generic
from gxcrawl.platforms.hanweb import parse_hanweb
from gxcrawl.platforms.jpage import jpage_requests
from gxcrawl.platforms.jsonapi import DEFAULTS, GKMLPT_DEFAULTS, load_json, parse_jsonapi
from gxcrawl.platforms.pagers import (
    PAGE_COUNT_VAR,
    count_var_pages,
    linked_page_names,
    printed_total,
    query_pages,
    total_text_pages,
)
from gxcrawl.platforms.tree import find_subcolumns
from gxcrawl.platforms.trs import parse_trs, trs_pages
from gxcrawl.platforms.vsb import VSB_GOTOPAGE, vsb_pages
from gxcrawl.textutil import collapse_whitespace

__all__ = [
    "MECHANISMS",
    "AutoStrategy",
    "Detection",
    "Signal",
    "UnknownPlatformError",
    "auto_listing",
    "detect",
    "known_platforms",
    "strategy_for",
    "validate_platform",
]

# mechanism -> the platform family it points to
MECHANISMS: Mapping[str, str] = {
    "json_api": "jsonapi",
    "gkmlpt": "gkmlpt",
    "hanweb_datastore": "hanweb",
    "hanweb_dataproxy": "hanweb",
    "hanweb_links": "hanweb",
    "vsb_gotopage": "vsb",
    "vsb_links": "vsb",
    "trs_script": "trs",
    "trs_countpage": "trs",
    "trs_links": "trs",
    "ucap_markers": "ucap",
    "page_count_var": "generic",
    "query_pager": "generic",
    "pager_links": "generic",
    "page_total_text": "generic",
    "subcolumns": "tree",
}
# Which family wins when several explain a page: list machinery first, link shapes last.
_PLATFORM_ORDER = ("gkmlpt", "hanweb", "vsb", "trs", "ucap", "jsonapi", "tree", "generic")
# Registry names accepted for `platform`; `auto` (and an empty name) means detection alone.
_PLATFORMS = frozenset(
    {"auto", "generic", "trs", "tree", "hanweb", "jcms", "jsonapi", "gkmlpt", "vsb", "ucap"}
    | {"aspnet", "jpaas"}  # families seen in the registry; detection and their pagers cover them
)
_ALIASES: Mapping[str, str] = {
    "": "auto",
    "html": "generic",
    "trs wcm": "trs",
    "trswcm": "trs",
    "wcm": "trs",
    "拓尔思": "trs",
    "hanweb jcms": "hanweb",
    "大汉": "hanweb",
    "开普云": "ucap",
    "博达": "vsb",
}
# Mechanisms a registry hint adds to whatever the page shows.
_HINTS: Mapping[str, frozenset[str]] = {
    "trs": frozenset({"trs_script"}),
    "tree": frozenset({"subcolumns", "tree_hint"}),
    "hanweb": frozenset({"hanweb_datastore"}),
    "jcms": frozenset({"hanweb_datastore", "query_pager"}),
    "gkmlpt": frozenset({"gkmlpt"}),
    "vsb": frozenset({"vsb_gotopage"}),
    "ucap": frozenset({"page_count_var"}),
    "aspnet": frozenset({"query_pager"}),
}
_EVIDENCE_MAX = 120  # characters of evidence kept per signal: enough to recognise, short to print
_SHOWN_EXAMPLES = 3  # example links named in one evidence string

_CREATE_PAGE = re.compile(r"createPageHTML\s*\(([^()]*)\)")
_COUNT_PAGE = re.compile(r"\b(?:var\s+)?countPage\s*=\s*\d+")
_TRS_LINK = re.compile(r"""href\s*=\s*["']([^"']*/t(?:19|20)\d{6}_\d+(?:_\w+)?\.s?html?)["']""")
_HANWEB_LINK = re.compile(r"""["']([^"']*/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html)["']""")
_VSB_LINK = re.compile(r"""href\s*=\s*["']([^"']*\binfo/\d+/\d+\.htm)["']""")
# VSB's resource paths and scripts; not a bare "vsb", which base64 blobs contain by chance
_VSB_MARKER = re.compile(r"/system/resource/|_sitegray|vsbscreen")
_UCAP_LINK = re.compile(r"""href\s*=\s*["']([^"']*/\d{6}/[0-9a-f]{32}\.s?html?)["']""")
_UCAP_MARKER = re.compile(r"ucapcontent|UCAP-CONTENT|ucap\.|开普云", re.I)
_DATASTORE_TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
_GKMLPT = re.compile(r"/gkmlpt/[\w/]*")


class UnknownPlatformError(ValueError):
    """A platform name no strategy knows; the message lists the known names."""


@dataclass(frozen=True)
class Signal:
    mechanism: str  # a key of MECHANISMS
    evidence: str  # what was seen, verbatim where possible


@dataclass(frozen=True)
class Detection:
    platform: str  # the family that best explains the signals
    signals: tuple[Signal, ...]

    @property
    def mechanisms(self) -> frozenset[str]:
        return frozenset(s.mechanism for s in self.signals)

    def evidence(self) -> list[str]:
        return [f"{s.mechanism}: {s.evidence}" for s in self.signals]


# --- platform names ------------------------------------------------------------------------------


def known_platforms() -> list[str]:
    """Every name `platform` may take (registry entries and `-a platform=`)."""
    return sorted(_PLATFORMS)


def validate_platform(name: str | None) -> str:
    """The normalised platform name; UnknownPlatformError listing the known names otherwise."""
    key = (name or "").strip().lower()
    key = _ALIASES.get(key, key)
    if key in _PLATFORMS:
        return key
    close = difflib.get_close_matches(key, sorted(_PLATFORMS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise UnknownPlatformError(
        f"unknown platform {name!r}{hint}; known platforms: {', '.join(known_platforms())}"
    )


# --- detection -----------------------------------------------------------------------------------


def _short(text: str) -> str:
    text = collapse_whitespace(text)
    return text if len(text) <= _EVIDENCE_MAX else text[: _EVIDENCE_MAX - 1] + "…"


def _examples(matches: list[str]) -> str:
    unique = list(dict.fromkeys(matches))
    return f"{len(unique)} links like {', '.join(unique[:_SHOWN_EXAMPLES])}"


def _script_signals(html: str) -> list[Signal]:
    """Pagination written by scripts: TRS createPageHTML/countPage, VSB, page-count variables."""
    signals = []
    for match in _CREATE_PAGE.finditer(html):
        args = [a.strip().strip("'\"") for a in match.group(1).split(",")]
        if any(a.isdigit() for a in args[:2]):  # a call, not the function's definition
            signals.append(Signal("trs_script", _short(match.group(0))))
            break
    count = _COUNT_PAGE.search(html)
    if count:
        signals.append(Signal("trs_countpage", _short(count.group(0))))
    vsb = VSB_GOTOPAGE.search(html)
    if vsb:
        signals.append(Signal("vsb_gotopage", _short(vsb.group(0))))
    var = PAGE_COUNT_VAR.search(html)
    if var:
        signals.append(Signal("page_count_var", _short(var.group(0))))
    return signals


def _record_signals(html: str, url: str) -> list[Signal]:
    """Lists carried as data: JSON APIs, Guangdong gkmlpt, Hanweb datastores and dataproxy."""
    signals = []
    data = load_json(html)
    if isinstance(data, (dict, list)):
        keys = list(data)[:5] if isinstance(data, dict) else [f"array of {len(data)}"]
        signals.append(Signal("json_api", _short(f"JSON answer with {', '.join(map(str, keys))}")))
    gkmlpt = _GKMLPT.search(urlsplit(url).path) or _GKMLPT.search(html)
    if gkmlpt:
        signals.append(Signal("gkmlpt", _short(gkmlpt.group(0))))
    if "<datastore" in html.lower():
        total = _DATASTORE_TOTAL.search(html)
        records = len(re.findall(r"<record\b", html, re.I))
        told = f"totalrecord={total.group(1)}, " if total else ""
        signals.append(Signal("hanweb_datastore", f"<datastore> {told}{records} records inline"))
    if "dataproxy.jsp" in html or urlsplit(url).path.endswith("dataproxy.jsp"):
        signals.append(Signal("hanweb_dataproxy", "dataproxy.jsp"))
    return signals


def _link_signals(html: str) -> list[Signal]:
    """Detail-link shapes that name a family (they add no pagination of their own)."""
    signals = []
    shapes = (
        ("trs_links", _TRS_LINK),
        ("hanweb_links", _HANWEB_LINK),
        ("vsb_links", _VSB_LINK),
        ("ucap_links", _UCAP_LINK),
    )
    for mechanism, pattern in shapes:
        found = pattern.findall(html)
        if found:
            name = "ucap_markers" if mechanism == "ucap_links" else mechanism
            signals.append(Signal(name, _examples(found)))
    marker = _UCAP_MARKER.search(html)
    if marker and not any(s.mechanism == "ucap_markers" for s in signals):
        signals.append(Signal("ucap_markers", _short(marker.group(0))))
    vsb = _VSB_MARKER.search(html)
    if vsb and not any(s.mechanism == "vsb_links" for s in signals):
        signals.append(Signal("vsb_links", _short(vsb.group(0))))
    return signals


def _page_signals(root: lxml.html.HtmlElement, html: str, url: str) -> list[Signal]:
    """Pagers in the markup: 下一页/尾页/numbered links, page parameters, a printed total."""
    signals = []
    pages = generic_pages(root, url, {})
    if pages:
        signals.append(Signal("pager_links", _examples([p.url for p in pages])))
    by_query = query_pages(root, html, url)
    if by_query:
        signals.append(Signal("query_pager", _examples(by_query)))
    total = printed_total(html)
    if total:
        signals.append(Signal("page_total_text", f"共{total}页"))
    columns = [c for c in find_subcolumns(html, url) if _plausible_column(c, url)]
    if columns:
        signals.append(Signal("subcolumns", _examples(columns)))
    return signals


def _best_platform(mechanisms: Iterable[str]) -> str:
    families = {MECHANISMS[m] for m in mechanisms}
    return next((p for p in _PLATFORM_ORDER if p in families), "generic")


def detect(html: str, url: str) -> Detection:
    """Every list mechanism this page shows, with evidence, and the best platform name."""
    signals = _record_signals(html, url)
    if not any(s.mechanism == "json_api" for s in signals):
        signals += _script_signals(html) + _link_signals(html)
        root = parse_html(html)
        if root is not None and not _is_dataproxy_answer(html, url):
            signals += _page_signals(root, html, url)
    return Detection(_best_platform(s.mechanism for s in signals), tuple(signals))


def _is_dataproxy_answer(html: str, url: str) -> bool:
    head = html.lstrip()[:200].lower()
    return urlsplit(url).path.endswith("dataproxy.jsp") or head.startswith(("<?xml", "<datastore"))


# --- the auto strategy -----------------------------------------------------------------------


def _merge(listings: Iterable[Listing], url: str) -> Listing:
    items, pages, columns = [], [], []
    for listing in listings:
        items.extend(listing.items)
        pages.extend(listing.pages)
        columns.extend(listing.columns)
    here = strip_fragment(url)
    merged_columns = dedupe_requests(columns, exclude=here)
    column_urls = {c.url for c in merged_columns}
    # a sub-column's index link is a column to walk, not an item
    kept = [i for i in items if not (is_directory_url(i.url) and _folder(i.url) in column_urls)]
    return Listing(
        items=dedupe_links(kept),
        pages=[p for p in dedupe_requests(pages, exclude=here) if p.url not in column_urls],
        columns=merged_columns,
    )


# A year standing alone in a folder name (`2023n`, `gknb2017`), not inside a column id
# (`col1620982`), or a folder named as a report column.
_YEAR_FOLDER = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_REPORT_FOLDER = re.compile(r"nb|ndbg|ndbb|gkbg|nianbao", re.I)
_COLUMN_ID = re.compile(r"^(?:col|c|cid|catid|channel|lm)\d+$", re.I)  # `col2019` is an id


def _plausible_column(column: str, url: str) -> bool:
    """Without a `tree` hint, walk only sub-columns below this one or named for reports or a
    year: a side menu of other columns (`/col/col1620982/`) is not part of this list."""
    if urlsplit(column).path.startswith(_folder(urlsplit(url).path)):
        return True
    last = urlsplit(column).path.rstrip("/").rsplit("/", 1)[-1]
    if _COLUMN_ID.match(last):
        return False
    return bool(_YEAR_FOLDER.search(last) or _REPORT_FOLDER.search(last))


def _folder(url: str) -> str:
    return url if url.endswith("/") else url.rsplit("/", 1)[0] + "/"


def _script_pages(html: str, url: str, mechanisms: frozenset[str]) -> list[ListRequest]:
    """Pages that exist only through a script or a printed total, per detected mechanism."""
    urls: list[str] = []
    if mechanisms & {"trs_script", "trs_countpage"}:
        urls += trs_pages(html, url)
    if "vsb_gotopage" in mechanisms:
        urls += vsb_pages(html, url)
    if "page_count_var" in mechanisms:  # named like the pager's own links (see below)
        urls += count_var_pages(html, url)
    if "page_total_text" in mechanisms:
        urls += total_text_pages(html, url)
    return [ListRequest(u) for u in urls]


_NUMBERED = re.compile(r"/(?P<stem>[A-Za-z]+)(?:_\d+)?\.(?P<ext>s?html?)$")


def _named_as_linked(urls: list[str], html: str) -> list[str]:
    """Drop generated pages whose extension contradicts the page's own pager links (a script
    says `index_N`, the links say `index_1.shtml`: no `index_1.html` exists)."""
    linked = dict(linked_page_names(html))  # stem -> extension
    kept = []
    for url in urls:
        match = _NUMBERED.search(split_url(url).path)
        if match and linked.get(match.group("stem"), match.group("ext")) != match.group("ext"):
            continue
        kept.append(url)
    return kept


def auto_listing(
    html: str, url: str, selectors: Mapping[str, str], mechanisms: frozenset[str]
) -> Listing:
    """Run the parser of every mechanism in `mechanisms` over one list page and merge."""
    if "json_api" in mechanisms:
        defaults = GKMLPT_DEFAULTS if "gkmlpt" in mechanisms else DEFAULTS
        return parse_jsonapi(html, url, selectors, defaults)
    if _is_dataproxy_answer(html, url):
        return parse_hanweb(html, url, selectors)  # a POST answer: items only, never pages
    listings = [parse_generic(html, url, selectors)]
    if mechanisms & {"hanweb_datastore", "hanweb_dataproxy"}:
        listings.append(parse_hanweb(html, url, selectors))
        listings.append(Listing(pages=jpage_requests(html, url)))  # datastore without nextgroup
    if mechanisms & {"trs_script", "trs_countpage", "trs_links"}:
        listings.append(parse_trs(html, url, selectors))
    listings.append(Listing(pages=_script_pages(html, url, mechanisms)))
    if "query_pager" in mechanisms:
        root = parse_html(html)
        found = query_pages(root, html, url) if root is not None else []
        listings.append(Listing(pages=[ListRequest(u) for u in found]))
    if "subcolumns" in mechanisms:
        columns = find_subcolumns(html, url)
        if "tree_hint" not in mechanisms:
            columns = [c for c in columns if _plausible_column(c, url)]
        listings.append(Listing(columns=[ListRequest(c) for c in columns]))
    merged = _merge(listings, url)
    consistent = set(_named_as_linked([p.url for p in merged.pages], html))
    merged.pages = [p for p in merged.pages if p.method != "GET" or p.url in consistent]
    return merged


class AutoStrategy:
    """Detection on every page, plus the mechanisms the registry's platform hints at."""

    name = "auto"

    def __init__(self, hint: str | None = None) -> None:
        self.hint = validate_platform(hint)

    def mechanisms(self, html: str, url: str) -> frozenset[str]:
        return detect(html, url).mechanisms | _HINTS.get(self.hint, frozenset())

    def parse_listing(self, html: str, url: str, selectors: Mapping[str, str]) -> Listing:
        return auto_listing(html, url, selectors, self.mechanisms(html, url))


@functools.cache
def strategy_for(platform: str | None) -> AutoStrategy:
    """The strategy for a registry/`-a platform=` name: detection plus that name as a hint
    (UnknownPlatformError for names no family knows). Meant to replace `get_strategy`."""
    return AutoStrategy(platform)


_IS_A_STRATEGY: type[Strategy] = AutoStrategy  # mypy checks AutoStrategy against the protocol
