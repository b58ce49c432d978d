"""`scrapy crawl annual_reports`: walk portals' 年报 columns and yield every response raw.

Thin by design: the registry says where to start, the platform strategy says how a list paginates
and which links are items, the title classifier says which items are reports. Everything the
spider sees becomes a PageItem; storage and extraction happen in the pipeline.

Arguments (`-a name=value`):
  portal=ID[,ID…]   crawl these registry entries (default: every enabled entry)
  start_url=URL     crawl one ad-hoc list URL instead of the registry
  platform=NAME     a platform hint for start_url (default auto: each list page's markup
                    decides; a hint adds mechanisms, never removes detected ones)
  registry=PATH     another registry file (fixture portals carry their own portal.toml)
  base_url=URL      base for relative URLs in that registry (a local fixture server)
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import scrapy
from lxml.html import HtmlElement
from scrapy.http import Response
from twisted.python.failure import Failure

from gxcrawl.config import crawl_config
from gxcrawl.extract.encoding import decode_html
from gxcrawl.extract.titles import classify_title, is_candidate
from gxcrawl.fetch_outcomes import (
    MAX_REASON_CHARS,
    NOT_MODIFIED,
    FailureAction,
    OffsiteRedirect,
    classify_failure,
    classify_page,
    classify_response,
    length_mismatch,
    redirected_away,
    spider_error_reason,
)
from gxcrawl.items import PageItem
from gxcrawl.platforms.base import (
    Link,
    Listing,
    ListRequest,
    attachments_in,
    is_attachment_url,
    parse_html,
)
from gxcrawl.platforms.detect import strategy_for
from gxcrawl.registry import Portal, select_portals
from gxcrawl.revalidation import entry_changed
from gxcrawl.shutdown import Postponed
from gxcrawl.spiders.bounds import ListPageBounds, list_key
from gxcrawl.store.crawlstore import CrawlStore
from gxcrawl.store.health import NOT_DUE_KEY, REPORTS_SEEN_PREFIX
from gxcrawl.store.models import utcnow
from gxcrawl.store.state import KnownDocument
from gxcrawl.urls import canonical_url
from gxcrawl.vocab import Disposition, DocumentKind, DocumentState

# Statuses the spider wants to see rather than have Scrapy drop: they are recorded, not parsed.
RECORDED_STATUSES = [304, 400, 401, 403, 404, 410, 412, 429, 500, 502, 503]
# Dispositions of a list page whose links are followed (a 304 replays the stored copy).
FOLLOWED = (Disposition.CONTENT, Disposition.NOT_MODIFIED)
# A callback's work on one response: the response's PageItem, then the requests it leads to.
Parsed = tuple[PageItem, list[Any]]


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
        # digests of (portal id, report URL): a 20k-report crawl holds 1 MB, not its URLs' 4 MB
        self._reports_seen: set[bytes] = set()
        self._revalidating: set[str] = set()  # canonical URLs in this run's revalidation slice
        self._started = utcnow()  # reset when the crawl starts; "due" is judged against it
        self.list_bounds = ListPageBounds()
        # (portal, column, column depth, request) of every list request made: a pager that
        # links all N pages would otherwise re-request each page from every page, O(N²).
        self._lists_requested: set[tuple[str, str, int, ListRequest]] = set()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> AnnualReportsSpider:
        spider: AnnualReportsSpider = super().from_crawler(crawler, *args, **kwargs)
        spider._select_portals(spider._registry_arg or crawl_config(crawler).registry)
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
        plan = self._plan_revalidation()  # before any list answers: decides what is not due
        for portal in self.portals.values():
            # 0 until a report link is seen: "found none" is then a fact the health check reads
            self.crawler.stats.set_value(f"{REPORTS_SEEN_PREFIX}{portal.id}", 0)
            for url in portal.start_urls:
                request = self._follow_list(ListRequest(url), portal.id, columns=0, column=url)
                if request is not None:
                    yield request
        for portal_id, known_docs in plan.items():
            for known in known_docs:
                link = Link(known.url, known.link_title or "")
                self.crawler.stats.inc_value("gxcrawl/revalidations_scheduled")
                yield self._item_request(link, portal_id, parent=known.parent_url)

    def _plan_revalidation(self) -> dict[str, list[KnownDocument]]:
        """Per portal, the known reports this run revalidates directly (so deletions are
        noticed): a budgeted slice, least recently checked first (gxcrawl/revalidation.py)."""
        config = crawl_config(self.crawler)
        self._started = utcnow()
        if not config.store_enabled:
            return {}
        store = CrawlStore.for_crawler(self.crawler)
        plan: dict[str, list[KnownDocument]] = {}
        stats = self.crawler.stats
        for portal in self.portals.values():
            docs, chosen = store.revalidation_slice(
                portal.id, window=config.recheck_after, force=config.force_refresh
            )
            plan[portal.id] = docs
            self._revalidating.update(d.url for d in docs)
            stats.inc_value("gxcrawl/revalidation/revalidated", len(docs))
            stats.inc_value("gxcrawl/revalidation/overdue", chosen.overdue)
            stats.inc_value("gxcrawl/revalidation/budget", chosen.budget)
            stats.inc_value("gxcrawl/revalidation/still_due", chosen.waiting)
        return plan

    def _not_due(self, link: Link) -> bool:
        """A known report or file inside its revalidation window, not in this run's slice, whose
        list entry is unchanged: not requested at all (no request, so no exception counted)."""
        config = crawl_config(self.crawler)
        if not config.store_enabled or config.force_refresh:
            return False
        url = canonical_url(link.url)
        if url in self._revalidating:
            return False
        state = CrawlStore.for_crawler(self.crawler).url_state(url)
        if (
            state is None
            or state.content_sha256 is None
            or state.state != DocumentState.LIVE
            or state.next_check_at is None
            or state.next_check_at <= self._started
        ):
            return False
        if entry_changed(state.link_title, link.title):
            self.crawler.stats.inc_value("gxcrawl/revalidation/entry_changed")
            return False  # a retitled list entry: its report is due at once
        self.crawler.stats.inc_value(NOT_DUE_KEY)
        return True

    # --- requests ------------------------------------------------------------------------------

    def _list_request(
        self, req: ListRequest, portal_id: str, *, columns: int = 0, column: str | None = None
    ) -> scrapy.Request:
        # Bounds instead of Scrapy's DEPTH_LIMIT, which would count every 下一页 hop: how deep
        # into sub-columns, and how many distinct list pages per column and per portal.
        meta = {
            "kind": DocumentKind.LIST,
            "portal": portal_id,
            "columns": columns,
            "column": column or req.url,  # the column's first page names the column
        }
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
        kind = DocumentKind.ATTACHMENT if is_attachment_url(link.url) else DocumentKind.REPORT
        return scrapy.Request(
            link.url,
            callback=self.parse_file if kind == DocumentKind.ATTACHMENT else self.parse_report,
            errback=self.on_error,
            meta={"kind": kind, "portal": portal_id, "link_title": link.title, "parent": parent},
        )

    # --- callbacks -----------------------------------------------------------------------------

    def parse_list(self, response: Response) -> Iterator[Any]:
        return self._guarded(response, self._parse_list)

    def _parse_list(self, response: Response) -> Parsed:
        item, text, _ = self._page_item(response)
        if item.disposition not in FOLLOWED or text is None:
            return item, []
        portal = self.portals[response.meta["portal"]]
        strategy = strategy_for(portal.platform)  # detection on this page + the registry hint
        listing = strategy.parse_listing(text, response.url, portal.selectors)
        follow = [
            *self._list_requests(listing, portal.id, response.meta),
            *self._report_requests(listing.items, portal.id),
        ]
        return item, follow

    def _list_requests(
        self, listing: Listing, portal_id: str, meta: dict[str, Any]
    ) -> Iterator[scrapy.Request]:
        """The next pages and the sub-columns of a list page, within the link-policy bounds."""
        config = crawl_config(self.crawler)
        columns, column = meta.get("columns", 0), meta.get("column") or ""
        for req in listing.pages:
            page = self._follow_list(req, portal_id, columns=columns, column=column)
            if page is not None:
                yield page
        if columns < config.max_column_depth:
            for req in listing.columns:
                sub = self._follow_list(req, portal_id, columns=columns + 1, column=req.url)
                if sub is not None:
                    yield sub
        elif listing.columns:
            self.crawler.stats.inc_value("gxcrawl/columns_over_bound", len(listing.columns))

    def _follow_list(
        self, req: ListRequest, portal_id: str, *, columns: int, column: str
    ) -> scrapy.Request | None:
        """The request for a list page within the bounds, or None. A request made before (same
        page, column and depth) is not made again: Scrapy's duplicate filter would drop it, and
        the bounds have counted it already (`admit` is a no-op for a counted page)."""
        key = (portal_id, column, columns, req)
        if key in self._lists_requested or not self._admit_list_page(portal_id, column, req):
            return None
        self._lists_requested.add(key)
        return self._list_request(req, portal_id, columns=columns, column=column)

    def _report_requests(self, items: Iterable[Link], portal_id: str) -> Iterator[scrapy.Request]:
        """Requests for the list's items whose titles say "annual report"; look-alikes counted."""
        for link in items:
            verdict = classify_title(link.title)
            if verdict.is_report:
                self._count_report_seen(link.url, portal_id)
            if verdict.is_report or (not is_attachment_url(link.url) and is_candidate(link.title)):
                if not self._not_due(link):
                    yield self._item_request(link, portal_id)
            elif verdict.reason != "unrelated" and link.url not in self.lookalikes:
                self.lookalikes[link.url] = link.title
                self.crawler.stats.inc_value("gxcrawl/lookalikes_rejected")
                self.logger.debug(
                    "rejected look-alike %r (%s): %s", link.title, verdict.reason, link.url
                )

    def _count_report_seen(self, url: str, portal_id: str) -> None:
        """Count each report link once per portal, due or not: the zero-reports health check
        compares it with the portal's last healthy run."""
        key = _seen_key(portal_id, url)
        if key not in self._reports_seen:
            self._reports_seen.add(key)
            self.crawler.stats.inc_value(f"{REPORTS_SEEN_PREFIX}{portal_id}")

    def _admit_list_page(self, portal_id: str, column: str, req: ListRequest) -> bool:
        """Whether a list page may be requested: within both page bounds (a trap is logged once)."""
        config = crawl_config(self.crawler)
        over = self.list_bounds.admit(
            portal_id, column, list_key(req), config.max_list_pages, config.max_portal_list_pages
        )
        if over is None:
            return True
        self.crawler.stats.inc_value("gxcrawl/list_pages_over_bound")
        if self.list_bounds.first_trap(portal_id, column, over):
            self.crawler.stats.inc_value("gxcrawl/list_traps")
            self.crawler.stats.inc_value(f"gxcrawl/list_traps/{over}")
            self.logger.warning(
                "list trap: %s of portal %s reached its bound of %s distinct list pages "
                "(%s); further pages not followed",
                column if over == "column" else "the portal",
                portal_id,
                config.max_list_pages if over == "column" else config.max_portal_list_pages,
                over,
            )
        return False

    def parse_report(self, response: Response) -> Iterator[Any]:
        return self._guarded(response, self._parse_report)

    def _parse_report(self, response: Response) -> Parsed:
        item, text, root = self._page_item(response, parse=True)
        if item.disposition != Disposition.CONTENT or text is None or root is None:
            return item, []  # (no tree: an empty or unparsable page has no attachment links)
        links = [x for x in attachments_in(root, response.url) if not self._not_due(x)]
        return item, [self._item_request(x, item.portal_id or "", parent=item.url) for x in links]

    def parse_file(self, response: Response) -> Iterator[Any]:
        return self._guarded(response, lambda r: (self._page_item(r, decode=False)[0], []))

    def _guarded(self, response: Response, parse: Callable[[Response], Parsed]) -> Iterator[Any]:
        """Run a callback so that whatever it raises, the response still yields one PageItem.

        The item is yielded only once the parse is done, so an exception can still put its
        reason on the one item (the raw body kept: `scrapy reparse` retries offline)."""
        try:
            item, follow = parse(response)
        except Exception as exc:
            self.crawler.stats.inc_value("gxcrawl/spider_errors")
            self.logger.exception("spider error on %s; raw response kept", response.url)
            yield self._spider_error_item(response, exc)
            return
        yield item
        yield from follow

    def _spider_error_item(self, response: Response, exc: Exception) -> PageItem:
        """The raw response as a PageItem whose reason names what the spider's parsing raised."""
        item = _raw_item(response)
        verdict = classify_response(response.status, item.kind)
        item.disposition, item.reason = verdict.disposition, spider_error_reason(exc)
        if response.status == NOT_MODIFIED or response.meta.get("gxcrawl_not_modified"):
            item.body = None  # the store has it
        return item

    def on_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        assert failure.value is not None  # an errback's Failure always carries its exception
        if isinstance(failure.value, Postponed):  # Ctrl-C: not fetched, not an error
            return
        if request.meta.get("kind") is None:  # not one of the spider's requests (robots.txt)
            return
        verdict = classify_failure(failure.value)
        if verdict.action == FailureAction.NOT_DUE:
            self.crawler.stats.inc_value("gxcrawl/not_due")
            return
        if isinstance(failure.value, OffsiteRedirect):  # it went away to another site
            self.crawler.stats.inc_value("gxcrawl/redirected_offsite")
            reason = str(failure.value)[:MAX_REASON_CHARS]
            yield _failed_item(request, Disposition.REDIRECTED, reason)
            return
        if verdict.action == FailureAction.IGNORED:
            self.crawler.stats.inc_value("gxcrawl/ignored")
            self.logger.info("not fetched: %s (%s)", request.url, verdict.reason)
            return
        self.crawler.stats.inc_value(f"gxcrawl/errors/{verdict.stat_key}")
        self.logger.warning("fetch failed: %s (%s)", request.url, verdict.reason)
        yield _failed_item(request, Disposition.ERROR, verdict.reason)

    # --- helpers -------------------------------------------------------------------------------

    def _page_item(
        self, response: Response, *, decode: bool = True, parse: bool = False
    ) -> tuple[PageItem, str | None, HtmlElement | None]:
        """The response as a PageItem with its disposition, and its text when worth reading;
        with `parse`, also that text's tree (`parse_html`), parsed once for the block-page
        check and the caller."""
        item = _raw_item(response)
        text: str | None = None
        if decode and response.body and response.status != NOT_MODIFIED:
            text, item.encoding = decode_html(response.body, item.headers.get("Content-Type"))
        root = parse_html(text) if parse and text else None
        block = classify_page(response.status, item.headers, text or "", root)
        replayed = bool(response.meta.get("gxcrawl_not_modified"))  # a list page from the store
        verdict = classify_response(
            response.status,
            item.kind,
            replayed=replayed,
            block=block,
            redirected_to=response.url
            if redirected_away(item.url, response.url, bool(response.meta.get("redirect_urls")))
            else None,
        )
        item.disposition, item.reason = verdict.disposition, verdict.reason
        cut = length_mismatch(item.headers) if not replayed else None
        if cut is not None and verdict.disposition == Disposition.CONTENT:
            # Half a page that looks whole: kept raw as evidence, never parsed as a report.
            item.disposition, item.reason, text = Disposition.ERROR, cut, None
            self.crawler.stats.inc_value("gxcrawl/errors/length_mismatch")
            self.logger.warning("body cut short at %s: %s", response.url, cut)
        if verdict.disposition == Disposition.NOT_MODIFIED or replayed:
            item.body = None  # the store has it
        if verdict.disposition in (Disposition.BLOCKED, Disposition.SOFT_404):
            self.crawler.stats.inc_value(f"gxcrawl/{verdict.disposition}")
            self.logger.warning(
                "%s page at %s (HTTP %s)", verdict.disposition, response.url, response.status
            )
        if not verdict.keep_text:
            return item, None, None
        return item, text, root


def _failed_item(request: scrapy.Request, disposition: Disposition, reason: str) -> PageItem:
    """A request that got no response of its own, under the URL first asked for."""
    asked = (request.meta.get("redirect_urls") or [request.url])[0]  # not where it led
    return PageItem(
        url=canonical_url(asked, request.method, request.body),
        requested_url=asked,
        kind=request.meta.get("kind", DocumentKind.REPORT),
        portal_id=request.meta.get("portal"),
        method=request.method,
        link_title=request.meta.get("link_title"),
        parent_url=request.meta.get("parent"),
        disposition=disposition,
        reason=reason,
    )


def _raw_item(response: Response) -> PageItem:
    """A PageItem with what the response says about itself (disposition still to decide)."""
    meta = response.meta
    request = response.request
    assert request is not None
    asked = (meta.get("redirect_urls") or [request.url])[0]
    return PageItem(
        url=canonical_url(asked, request.method, request.body),
        requested_url=asked,
        kind=meta.get("kind", DocumentKind.REPORT),
        portal_id=meta.get("portal"),
        method=request.method,
        final_url=response.url,
        status=response.status,
        headers=_headers(response),
        body=response.body,
        link_title=meta.get("link_title"),
        parent_url=meta.get("parent"),
        conditional=bool(meta.get("gxcrawl_conditional")),
    )


def _headers(response: Response) -> dict[str, str]:
    return {
        k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()
    }


def _seen_key(portal_id: str, url: str) -> bytes:
    """16 bytes standing for (portal, URL) in a seen set: no collision at any crawl's size."""
    return hashlib.blake2b(f"{portal_id}\n{url}".encode(), digest_size=16).digest()
