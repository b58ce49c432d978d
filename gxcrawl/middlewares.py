"""Downloader middleware for incremental recrawls.

- Which report pages and attachments are due is decided by the spider before a request exists
  (gxcrawl/revalidation.py), so a "not due" skip is never a downloader exception.
- Every request for a URL with stored validators is conditional (If-None-Match /
  If-Modified-Since). A 304 for a report is handed to the spider as "unchanged"; a 304 for a list
  page is replayed from the stored body so its links can still be followed.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.http import Response

from gxcrawl.fetch_outcomes import NOT_MODIFIED, NotDue, RedirectLoop
from gxcrawl.store.crawlstore import CrawlStore, require_store
from gxcrawl.urls import canonical_url
from gxcrawl.vocab import DocumentKind, DocumentState

__all__ = ["ConditionalRequestMiddleware", "NotDue", "RedirectLoop", "RedirectLoopMiddleware"]

REDIRECT_STATUSES = (301, 302, 303, 307, 308)


class ConditionalRequestMiddleware:
    def __init__(self, crawler: Any) -> None:
        require_store(crawler)
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> ConditionalRequestMiddleware:
        return cls(crawler)

    @property
    def store(self) -> CrawlStore:
        return CrawlStore.for_crawler(self.crawler)

    def process_request(self, request: Request) -> None:
        if request.url.endswith("/robots.txt"):
            return None
        state = self.store.url_state(canonical_url(request.url, request.method, request.body))
        if state is None or state.content_sha256 is None or state.state != DocumentState.LIVE:
            return None
        if request.method != "GET":
            return None
        if state.etag:
            request.headers.setdefault(b"If-None-Match", state.etag.encode("latin-1"))
        if state.last_modified:
            request.headers.setdefault(b"If-Modified-Since", state.last_modified.encode("latin-1"))
        if state.etag or state.last_modified:
            request.meta["gxcrawl_conditional"] = True
            self.crawler.stats.inc_value("gxcrawl/conditional_requests")
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status != NOT_MODIFIED or not request.meta.get("gxcrawl_conditional"):
            return response
        self.crawler.stats.inc_value("gxcrawl/not_modified")
        if request.meta.get("kind") != DocumentKind.LIST:
            return response
        body = self.store.latest_content_body(
            canonical_url(request.url, request.method, request.body)
        )
        if body is None:  # nothing to replay: ask again without validators
            retry = request.replace(dont_filter=True)
            for header in (b"If-None-Match", b"If-Modified-Since"):
                retry.headers.pop(header, None)
            retry.meta.pop("gxcrawl_conditional", None)
            return retry  # type: ignore[return-value]
        request.meta["gxcrawl_not_modified"] = True
        return response.replace(status=200, body=body, flags=[*response.flags, "gxcrawl-replayed"])


class RedirectLoopMiddleware:
    """Turn redirect loops into a recorded failure.

    Scrapy's duplicate filter silently drops a redirect back to the same URL, so a page that
    redirects to itself would vanish without a trace; here it fails with a reason instead.
    """

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if response.status not in REDIRECT_STATUSES or not location:
            return response
        target = response.urljoin(location.decode("latin-1"))
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if target in chain:
            raise RedirectLoop(f"redirect loop: {response.status} {request.url} -> {target}")
        return response
