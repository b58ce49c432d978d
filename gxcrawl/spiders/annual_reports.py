"""`scrapy crawl annual_reports`: walk portals' 年报 columns and yield every response raw.

Thin by design: the registry says where to start, the platform strategy says how a list paginates
and which links are items, the title classifier says which items are reports. Everything the
spider sees becomes a PageItem; storage and extraction happen in the pipeline.

Arguments (`-a name=value`):
  portal=ID[,ID…]   crawl these registry entries (default: every enabled entry)
  start_url=URL     crawl one ad-hoc list URL instead of the registry
  platform=NAME     platform strategy for start_url (generic, trs, tree, hanweb, …)
  registry=PATH     another registry file (fixture portals carry their own portal.toml)
  base_url=URL      base for relative URLs in that registry (a local fixture server)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from gxcrawl.extract.blocks import classify_fetch
from gxcrawl.extract.encoding import decode_html
from gxcrawl.extract.titles import classify_title, is_candidate
from gxcrawl.items import PageItem
from gxcrawl.middlewares import NotDue, RedirectLoop
from gxcrawl.platforms.base import (
    Link,
    ListRequest,
    find_attachments,
    get_strategy,
    is_attachment_url,
)
from gxcrawl.registry import Portal, select_portals
from gxcrawl.store.crawlstore import CrawlStore
from gxcrawl.urls import canonical_url

# Statuses the spider wants to see rather than have Scrapy drop: they are recorded, not parsed.
RECORDED_STATUSES = [304, 400, 401, 403, 404, 410, 412, 429, 500, 502, 503]


class AnnualReportsSpider(scrapy.Spider):
    name = "annual_reports"
    handle_httpstatus_list = RECORDED_STATUSES

    def __init__(
        self,
        portal: str | None = None,
        start_url: str | None = None,
        platform: str | None = None,
        registry: str | None = None,
        base_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._registry_arg = registry
        self._portal_arg = portal
        self._start_url = start_url
        self._platform = platform
        self._base_url = base_url
        self.portals: dict[str, Portal] = {}
        self.lookalikes: dict[str, str] = {}  # url -> title, rejected by the title classifier

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> AnnualReportsSpider:
        spider: AnnualReportsSpider = super().from_crawler(crawler, *args, **kwargs)
        spider._select_portals(spider._registry_arg or crawler.settings.get("GXCRAWL_REGISTRY"))
        return spider

    def _select_portals(self, registry: str | None) -> None:
        chosen = select_portals(
            registry=registry,
            portal=self._portal_arg,
            start_url=self._start_url,
            platform=self._platform,
            base_url=self._base_url,
        )
        self.portals = {p.id: p for p in chosen}
        self.allowed_domains = sorted({d for p in chosen for d in p.allowed_domains})

    def portal_rows(self) -> list[dict[str, Any]]:
        """The chosen registry entries as the store keeps them."""
        return [
            {
                "id": p.id,
                "name": p.name,
                "level": p.level or None,
                "province": p.province or None,
                "region_code": p.region_code or None,
                "homepage": p.homepage or None,
                "platform": p.platform,
                "confidence": p.confidence,
                "selectors": dict(p.selectors),
            }
            for p in self.portals.values()
        ]

    async def start(self) -> AsyncIterator[Any]:
        for portal in self.portals.values():
            for url in portal.start_urls:
                yield self._list_request(ListRequest(url), portal.id)
        for portal in self.portals.values():
            for known in self._due_documents(portal.id):
                link = Link(known.url, known.link_title or "")
                self.crawler.stats.inc_value("gxcrawl/revalidations_scheduled")
                yield self._item_request(link, portal.id, parent=known.parent_url)

    def _due_documents(self, portal_id: str) -> list[Any]:
        """Known reports due for a check, asked directly so deletions are noticed."""
        settings = self.crawler.settings
        if not settings.getbool("GXCRAWL_STORE_ENABLED", True):
            return []
        store = CrawlStore.for_crawler(self.crawler)
        return store.due_documents(portal_id, force=settings.getbool("GXCRAWL_FORCE_REFRESH"))

    # --- requests ------------------------------------------------------------------------------

    def _list_request(
        self, req: ListRequest, portal_id: str, *, columns: int = 0, pages: int = 0
    ) -> scrapy.Request:
        # Two bounds instead of Scrapy's DEPTH_LIMIT, which would count every 下一页 hop:
        # how deep into sub-columns, and how many pages along one column's pagination.
        meta = {"kind": "list", "portal": portal_id, "columns": columns, "pages": pages}
        if req.method.upper() == "POST":
            return scrapy.FormRequest(
                req.url,
                formdata=dict(req.formdata or ()),
                callback=self.parse_list,
                errback=self.on_error,
                meta=meta,
            )
        return scrapy.Request(req.url, callback=self.parse_list, errback=self.on_error, meta=meta)

    def _item_request(
        self, link: Link, portal_id: str, parent: str | None = None
    ) -> scrapy.Request:
        kind = "attachment" if is_attachment_url(link.url) else "report"
        return scrapy.Request(
            link.url,
            callback=self.parse_file if kind == "attachment" else self.parse_report,
            errback=self.on_error,
            meta={"kind": kind, "portal": portal_id, "link_title": link.title, "parent": parent},
        )

    # --- callbacks -----------------------------------------------------------------------------

    def parse_list(self, response: Response) -> Iterator[Any]:
        item, text = self._page_item(response)
        yield item
        if item.disposition not in ("content", "not_modified") or text is None:
            return
        portal = self.portals[response.meta["portal"]]
        strategy = get_strategy(portal.platform)
        listing = strategy.parse_listing(text, response.url, portal.selectors)
        columns, pages = response.meta.get("columns", 0), response.meta.get("pages", 0)
        settings = self.crawler.settings
        if pages < settings.getint("GXCRAWL_MAX_LIST_PAGES", 1000):
            for req in listing.pages:
                yield self._list_request(req, portal.id, columns=columns, pages=pages + 1)
        else:
            self.crawler.stats.inc_value("gxcrawl/list_pages_over_bound")
        if columns < settings.getint("GXCRAWL_MAX_COLUMN_DEPTH", 4):
            for req in listing.columns:
                yield self._list_request(req, portal.id, columns=columns + 1)
        elif listing.columns:
            self.crawler.stats.inc_value("gxcrawl/columns_over_bound", len(listing.columns))
        for link in listing.items:
            verdict = classify_title(link.title)
            if verdict.is_report or (not is_attachment_url(link.url) and is_candidate(link.title)):
                yield self._item_request(link, portal.id)
            elif verdict.reason != "unrelated" and link.url not in self.lookalikes:
                self.lookalikes[link.url] = link.title
                self.crawler.stats.inc_value("gxcrawl/lookalikes_rejected")
                self.logger.debug(
                    "rejected look-alike %r (%s): %s", link.title, verdict.reason, link.url
                )

    def parse_report(self, response: Response) -> Iterator[Any]:
        item, text = self._page_item(response)
        yield item
        if item.disposition != "content" or text is None:
            return
        for link in find_attachments(text, response.url):
            yield self._item_request(link, item.portal_id or "", parent=item.url)

    def parse_file(self, response: Response) -> Iterator[Any]:
        item, _ = self._page_item(response, decode=False)
        yield item

    def on_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        if failure.check(NotDue):
            self.crawler.stats.inc_value("gxcrawl/not_due")
            return
        if failure.check(IgnoreRequest) and not failure.check(RedirectLoop):
            # robots.txt, offsite: never fetched, nothing to record
            self.crawler.stats.inc_value("gxcrawl/ignored")
            self.logger.info("not fetched: %s (%s)", request.url, failure.value)
            return
        reason = _failure_reason(failure)
        self.crawler.stats.inc_value(f"gxcrawl/errors/{reason.split(':')[0]}")
        self.logger.warning("fetch failed: %s (%s)", request.url, reason)
        yield PageItem(
            url=canonical_url(request.url, request.method, request.body),
            kind=request.meta.get("kind", "report"),
            portal_id=request.meta.get("portal"),
            method=request.method,
            link_title=request.meta.get("link_title"),
            parent_url=request.meta.get("parent"),
            disposition="error",
            reason=reason,
        )

    # --- helpers -------------------------------------------------------------------------------

    def _page_item(self, response: Response, *, decode: bool = True) -> tuple[PageItem, str | None]:
        meta = response.meta
        request = response.request
        assert request is not None
        asked = (meta.get("redirect_urls") or [request.url])[0]
        url = canonical_url(asked, request.method, request.body)
        headers = _headers(response)
        item = PageItem(
            url=url,
            requested_url=asked,
            kind=meta.get("kind", "report"),
            portal_id=meta.get("portal"),
            method=request.method,
            final_url=response.url,
            status=response.status,
            headers=headers,
            body=response.body,
            link_title=meta.get("link_title"),
            parent_url=meta.get("parent"),
            conditional=bool(meta.get("gxcrawl_conditional")),
        )
        text: str | None = None
        if response.status == 304:
            item.disposition, item.body = "not_modified", None
            return item, None
        if meta.get("gxcrawl_not_modified"):  # a list page replayed from the store
            item.disposition, item.body = "not_modified", None
        if decode and response.body:
            text, item.encoding = decode_html(response.body, headers.get("Content-Type"))
        if response.status in (404, 410):
            item.disposition, item.reason = "gone", f"http_{response.status}"
            return item, None
        verdict = classify_fetch(response.status, headers, text or "")
        if verdict:
            item.disposition, item.reason = verdict, _block_reason(response.status, verdict)
            self.crawler.stats.inc_value(f"gxcrawl/{verdict}")
            self.logger.warning("%s page at %s (HTTP %s)", verdict, response.url, response.status)
            return item, None
        if response.status >= 400:
            item.disposition, item.reason = "error", f"http_{response.status}"
            return item, None
        if item.kind != "list" and _redirected_away(url, response.url, meta):
            item.disposition, item.reason = "redirected", f"redirected to {response.url}"
        return item, text


def _headers(response: Response) -> dict[str, str]:
    return {
        k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()
    }


def _redirected_away(url: str, final: str, meta: dict[str, Any]) -> bool:
    """A report URL that now redirects to a page outside its own path (often the home page)."""
    if not meta.get("redirect_urls"):
        return False
    a, b = urlsplit(url), urlsplit(final)
    return (
        a.netloc != b.netloc
        or b.path in ("", "/")
        or not b.path.startswith(a.path.rsplit("/", 1)[0])
    )


def _block_reason(status: int, verdict: str) -> str:
    return f"{verdict}: HTTP {status}"


# (text in the exception's class name or message, reason recorded in the fetch log)
_FAILURE_REASONS = (
    ("timeout", "timeout"),
    ("dnslookup", "dns"),
    ("dataloss", "truncated"),
    ("responsefailed", "truncated"),
    ("max redirections", "redirect_loop"),
    ("redirect loop", "redirect_loop"),
    ("maxsize", "too_large"),
    ("cancelling download", "too_large"),
    ("connectionrefused", "connection_refused"),
    ("connectionlost", "connection_lost"),
)


def _failure_reason(failure: Failure) -> str:
    """A short, stable reason for the fetch log: timeout, dns, redirect_loop, truncated, …"""
    name, message = type(failure.value).__name__, str(failure.value)
    haystack = f"{name} {message}".lower()
    for needle, reason in _FAILURE_REASONS:
        if needle in haystack:
            return f"{reason}: {name}: {message}"[:300]
    return f"{name}: {message}"[:300]
