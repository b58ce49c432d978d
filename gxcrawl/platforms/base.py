"""Shared types and link helpers for the platform strategies.

A strategy turns one list (column) page into: candidate document links (`items`), further pages
of the same list (`pages`) and sub-columns to walk (`columns`). The spider decides what to
request; strategies are pure functions over decoded HTML and never fetch anything.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import SplitResult, parse_qsl, unquote, urljoin, urlsplit, urlunsplit

import lxml.html
from lxml import etree

from gxcrawl.extract.sanitize import MARKUP_UNPARSABLE, parse_document
from gxcrawl.textutil import collapse_whitespace

__all__ = [
    "ATTACHMENT_EXTENSIONS",
    "Link",
    "ListRequest",
    "Listing",
    "Strategy",
    "anchors",
    "body_links",
    "find_attachments",
    "generic_pages",
    "get_strategy",
    "is_attachment_url",
    "parse_html",
    "strip_fragment",
]

ATTACHMENT_EXTENSIONS = ("pdf", "doc", "docx", "wps", "xls", "xlsx", "et", "ofd")
_EXT_RE = re.compile(r"\.(" + "|".join(ATTACHMENT_EXTENSIONS) + r")$", re.I)
# Anchor texts that announce a file even when the href hides the extension (download servlets).
_DOWNLOAD_TEXT = re.compile(
    r"PDF\s*下载|下载\s*PDF|附件\s*[:：]?|文件下载|附件下载|全文下载|点击下载"
)

# Containers whose links are site chrome, not list items.
_CHROME_TAGS = frozenset({"header", "nav", "footer", "aside"})
_CHROME_TOKEN = re.compile(
    r"^(?:nav|navbar|menu|menus|header|head|footer|foot|top|topbar|bottom|breadcrumb|crumb|"
    r"crumbs|position|location|dqwz|share|pager|pagination|page|pages|pagebar|fenye|yqlj|"
    r"friendlink|links|sitemap|search|login|copyright)(?:[-_].*)?$",
    re.I,
)
_PAGER_TEXT = re.compile(
    r"^(?:下一页|下页|后页|上一页|上页|前页|首页|尾页|末页|最后一页|>|>>|»|<|<<|«)$"
)
# Only forward links are followed: earlier pages were seen on the way in (and "首页" is also the
# site's home link in most headers).
_FORWARD_TEXT = re.compile(r"^(?:下一页|下页|后页|尾页|末页|最后一页|>|>>|»)$")
_NUMBER_TEXT = re.compile(r"^\[?\d{1,4}\]?$")
_INDEX_PAGE = re.compile(r"^(?P<stem>[A-Za-z]+)(?:_(?P<n>\d+))?\.(?P<ext>s?html?|jsp)$")
# A list entry's date: 2023-01-17, 2023/1/17, 2023.01.17, 2023年1月17日.
DATE_RE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
# index_N pages above this are not a column's pagination (ids and years look like page numbers).
MAX_INDEX_PAGE = 500
_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "about:", "vbscript:")


@dataclass(frozen=True)
class Link:
    url: str  # absolute
    title: str  # the title attribute when present (anchor text is often truncated)
    date: str | None = None  # ISO YYYY-MM-DD when the list shows one


@dataclass(frozen=True)
class ListRequest:
    url: str
    method: str = "GET"
    formdata: tuple[tuple[str, str], ...] | None = None


@dataclass
class Listing:
    items: list[Link] = field(default_factory=list)
    pages: list[ListRequest] = field(default_factory=list)
    columns: list[ListRequest] = field(default_factory=list)


class Strategy(Protocol):
    name: str

    def parse_listing(self, html: str, url: str, selectors: Mapping[str, str]) -> Listing: ...


# --- parsing ---------------------------------------------------------------------------------


def parse_html(html: str) -> lxml.html.HtmlElement | None:
    """Tolerant parse of sanitised markup (see `extract.sanitize`); None for empty or
    unparsable input."""
    if not html or not html.strip():
        return None
    root, flags = parse_document(html, max_elements=None)  # a long list is not hostile
    return None if MARKUP_UNPARSABLE in flags else root


def clean_text(text: str | None) -> str:
    return collapse_whitespace(text)


# The URL helpers below are pure and cached: every list page of a column repeats the same menu,
# pager and page URLs (a pager linking all N pages makes N² of them over a column). The bound
# keeps memory flat: five caches of 16,384 URLs held ~28 MB by 20k pages; a column's working
# set (menu, pager, the page's own links) stays far below 2,048 entries, so LRU keeps it warm.
_URL_CACHE = 2048


@functools.lru_cache(maxsize=_URL_CACHE)
def split_url(url: str) -> SplitResult:
    """`urlsplit`, cached (a SplitResult is immutable)."""
    return urlsplit(url)


@functools.lru_cache(maxsize=_URL_CACHE)
def strip_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


@functools.lru_cache(maxsize=_URL_CACHE)
def absolute_url(href: str | None, base: str) -> str | None:
    """Absolute URL for an href, or None for script/mail/anchor-only links."""
    if href is None:
        return None
    href = re.sub(r"[\t\r\n]", "", href).strip()
    if not href or href.startswith("#") or href.lower().startswith(_SKIP_SCHEMES):
        return None
    try:
        url = strip_fragment(urljoin(base, href))
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port no request can use)
    except ValueError:  # `http://[::1/`, `:999999`: a broken link, not a broken list
        return None
    return url if parts.scheme in ("http", "https") else None


def document_base(root: lxml.html.HtmlElement, url: str) -> str:
    base = root.xpath("//base/@href")
    if not base:
        return url
    try:
        return urljoin(url, str(base[0]).strip())
    except ValueError:  # a malformed <base href>: resolve against the page itself
        return url


def _is_chrome(element: etree._Element) -> bool:
    for node in element.iterancestors():
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag.lower() in _CHROME_TAGS:
            return True
        tokens = f"{node.get('class', '')} {node.get('id', '')}".split()
        if any(_CHROME_TOKEN.match(token) for token in tokens):
            return True
    return False


def _near_date(anchor: etree._Element) -> str | None:
    """A date printed next to a list link (same li / tr / dd / p)."""
    for node in anchor.iterancestors():
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in ("li", "tr", "dd", "dt", "p", "div", "td"):
            match = DATE_RE.search(clean_text(node.text_content()))
            if match:
                y, m, d = match.groups()
                return f"{y}-{int(m):02d}-{int(d):02d}"
            if tag in ("li", "tr", "dd", "p"):
                return None
    return None


def anchor_title(anchor: etree._Element) -> str:
    title = clean_text(anchor.get("title"))
    return title or clean_text(anchor.text_content())


def anchors(
    root: lxml.html.HtmlElement, selectors: Mapping[str, str] | None = None
) -> list[etree._Element]:
    """`<a href>` elements of the list body: the `list`/`item` selector overrides when given,
    else every link outside header/nav/footer chrome."""
    selectors = selectors or {}
    list_css, item_css = selectors.get("list"), selectors.get("item")
    if list_css or item_css:
        try:
            containers = root.cssselect(list_css) if list_css else [root]
            found: list[etree._Element] = []
            for container in containers:
                nodes = container.cssselect(item_css) if item_css else [container]
                for node in nodes:
                    found.extend(node.iter("a") if node.tag != "a" else [node])
            if found:
                return [a for a in found if a.get("href") is not None]
        except (etree.XPathError, ValueError, SyntaxError):
            pass  # a bad override must not lose the page: fall back to the heuristic
    return [a for a in root.iter("a") if a.get("href") is not None and not _is_chrome(a)]


def is_pager_anchor(anchor: etree._Element) -> bool:
    text = clean_text(anchor.text_content())
    return bool(_PAGER_TEXT.match(text) or _NUMBER_TEXT.match(text))


@functools.lru_cache(maxsize=_URL_CACHE)
def is_attachment_url(url: str) -> bool:
    """A link to a PDF/DOC/DOCX/WPS/XLS(X)/OFD file, by the path or a file-name parameter."""
    parts = urlsplit(url)
    if _EXT_RE.search(unquote(parts.path)):
        return True
    # download servlets: downfile.jsp?filename=x.pdf, viewer.html?file=/upload/x.pdf
    return any(_EXT_RE.search(unquote(value).strip()) for _, value in parse_qsl(parts.query))


_DIRECTORY_INDEX = re.compile(r"(?:index|default)\.(?:s?html?|jsp|aspx?)")


@functools.lru_cache(maxsize=_URL_CACHE)
def is_directory_url(url: str) -> bool:
    """Column-like URL: a folder (`…/`) or its index page (not a paginated `index_N`)."""
    last = split_url(url).path.rsplit("/", 1)[-1]
    return last == "" or bool(_DIRECTORY_INDEX.fullmatch(last))


def dedupe_links(links: Iterable[Link]) -> list[Link]:
    seen: dict[str, Link] = {}
    for link in links:
        old = seen.get(link.url)
        # keep the longest title: a title attribute beats a truncated anchor text
        if old is None or len(link.title) > len(old.title):
            seen[link.url] = Link(link.url, link.title, link.date or (old.date if old else None))
    return list(seen.values())


def is_first_page_alias(page: str, current: str) -> bool:
    """`…/col/`, `…/col/index.html` and `…/col/default.htm` are one page (page 0 of the list the
    crawl came in through); pagination never needs to go back to it."""
    return _first_page_alias_test(current)(page)


def _first_page_alias_test(current: str) -> Callable[[str], bool]:
    """`is_first_page_alias(·, current)` with the current page's parts split once: a pager
    compares every one of its (often hundreds of) pages with the same current page."""
    here = strip_fragment(current)
    cur_parts = urlsplit(current)
    cur_folder = cur_parts.path.rsplit("/", 1)[0]

    def alias(page: str) -> bool:
        if strip_fragment(page) == here:
            return True
        page_parts = split_url(page)
        if page_parts.query or page_parts.netloc != cur_parts.netloc:
            return False
        folder = page_parts.path.rsplit("/", 1)[0]
        return folder == cur_folder and is_directory_url(page)

    return alias


def dedupe_requests(
    requests: Iterable[ListRequest], exclude: str | None = None
) -> list[ListRequest]:
    """Unique requests in order; GET pages that are `exclude` (the current page) or its
    first-page alias are dropped."""
    alias = _first_page_alias_test(exclude) if exclude else None
    out: dict[tuple[str, str, tuple[tuple[str, str], ...] | None], ListRequest] = {}
    for request in requests:
        key = (request.url, request.method, request.formdata)
        if key in out:
            continue  # kept already, so not an alias (the test depends on the URL alone)
        if request.method == "GET" and alias is not None and alias(request.url):
            continue
        out[key] = request
    return list(out.values())


# --- generic discovery -----------------------------------------------------------------------


def iter_body_links(
    root: lxml.html.HtmlElement, url: str, selectors: Mapping[str, str]
) -> Iterator[tuple[etree._Element, str]]:
    base = document_base(root, url)
    here = strip_fragment(url)
    for anchor in anchors(root, selectors):
        target = absolute_url(anchor.get("href"), base)
        if target and target != here:
            yield anchor, target


def body_links(root: lxml.html.HtmlElement, url: str, selectors: Mapping[str, str]) -> list[Link]:
    """Candidate document links: list-body links that are not pagination or columns."""
    links = []
    for anchor, target in iter_body_links(root, url, selectors):
        if is_pager_anchor(anchor):
            continue
        if is_directory_url(target) and not is_attachment_url(target):
            continue
        title = anchor_title(anchor)
        if not title:
            continue
        links.append(Link(target, title, _near_date(anchor)))
    return dedupe_links(links)


def _index_pages(url: str, page_urls: list[str]) -> list[str]:
    """Fill in `index_1 … index_N` when the pager shows a window or a 尾页 to `index_N`."""
    folder = url.rsplit("/", 1)[0] + "/"
    highest: dict[tuple[str, str], int] = {}
    for page in page_urls:
        if not page.startswith(folder) or "/" in page[len(folder) :].split("?")[0]:
            continue
        match = _INDEX_PAGE.match(page[len(folder) :])
        if match and match.group("n"):
            key = (match.group("stem"), match.group("ext"))
            highest[key] = max(highest.get(key, 0), int(match.group("n")))
    filled = []
    for (stem, ext), top in highest.items():
        if top > MAX_INDEX_PAGE:
            continue
        filled.append(f"{folder}{stem}.{ext}")
        filled.extend(f"{folder}{stem}_{n}.{ext}" for n in range(1, top + 1))
    return filled


def generic_pages(
    root: lxml.html.HtmlElement, url: str, selectors: Mapping[str, str]
) -> list[ListRequest]:
    """下一页 / 尾页 / numbered pager links (anywhere on the page), plus `index_N` ranges."""
    base = document_base(root, url)
    found: list[str] = []
    candidates: list[etree._Element] = []
    next_css = selectors.get("next")
    if next_css:
        with contextlib.suppress(etree.XPathError, ValueError, SyntaxError):
            for node in root.cssselect(next_css):
                candidates.extend([node] if node.tag == "a" else node.iter("a"))
    for anchor in root.iter("a"):
        text = clean_text(anchor.text_content())
        if _FORWARD_TEXT.match(text) or _NUMBER_TEXT.match(text):
            candidates.append(anchor)
    here_parts = split_url(url)
    here_folder = here_parts.path.rsplit("/", 1)[0]
    for anchor in candidates:
        target = absolute_url(anchor.get("href"), base)
        if not target or is_attachment_url(target):
            continue
        parts = split_url(target)
        if parts.netloc != here_parts.netloc:
            continue
        numbered = bool(_NUMBER_TEXT.match(clean_text(anchor.text_content())))
        if numbered and parts.path.rsplit("/", 1)[0] != here_folder:
            continue  # a number linking elsewhere is not this list's pager
        found.append(target)
    found = _index_pages(url, found) + found  # in page order first
    here = strip_fragment(url)
    return dedupe_requests((ListRequest(u) for u in found), exclude=here)


def find_attachments(html: str, url: str) -> list[Link]:
    """PDF/DOC/DOCX/WPS/XLS links on a detail page: by extension, by the anchor text of download
    links ("PDF下载", "附件：", "文件下载"), and embedded viewers (iframe/embed/object)."""
    root = parse_html(html)
    return [] if root is None else attachments_in(root, url)


def attachments_in(root: lxml.html.HtmlElement, url: str) -> list[Link]:
    """`find_attachments` on a page already parsed by `parse_html` (the tree is only read)."""
    base = document_base(root, url)
    links: list[Link] = []
    for anchor in root.iter("a"):
        target = absolute_url(anchor.get("href"), base)
        if not target:
            continue
        title = anchor_title(anchor)
        parent = anchor.getparent()
        parent_text = clean_text(parent.text_content()) if parent is not None else ""
        announced = bool(_DOWNLOAD_TEXT.search(title) or _DOWNLOAD_TEXT.match(parent_text))
        if is_attachment_url(target) or (announced and _may_be_file(target)):
            links.append(Link(_viewer_file(target) or target, title or _file_name(target)))
    for node in root.xpath("//iframe[@src] | //embed[@src] | //object[@data]"):
        target = absolute_url(node.get("src") or node.get("data"), base)
        if target and is_attachment_url(target):
            target = _viewer_file(target) or target
            links.append(Link(target, clean_text(node.get("title")) or _file_name(target)))
    return dedupe_links(links)


def _may_be_file(url: str) -> bool:
    """A download link without a file extension: a servlet with a query, or an extension-less
    path, but not a folder or a plain HTML page."""
    parts = urlsplit(url)
    if is_directory_url(url):
        return False
    if re.search(r"\.s?html?$", parts.path, re.I):
        return bool(parts.query)
    return True


def _viewer_file(url: str) -> str | None:
    """`/pdfjs/web/viewer.html?file=/upload/x.pdf` → the file's own URL."""
    parts = urlsplit(url)
    if _EXT_RE.search(unquote(parts.path)):
        return None
    for key, value in parse_qsl(parts.query):
        if key.lower() in ("file", "url", "src") and _EXT_RE.search(unquote(value)):
            return absolute_url(unquote(value), url)
    return None


def _file_name(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def get_strategy(name: str | None) -> Strategy:
    """The strategy for a platform family; unknown names and None get the generic one."""
    from gxcrawl.platforms import STRATEGIES  # late: the modules import this one

    key = (name or "generic").strip().lower()
    return STRATEGIES.get(key) or STRATEGIES["generic"]
