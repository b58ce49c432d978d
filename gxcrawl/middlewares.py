"""Downloader middleware for incremental recrawls.

- Which report pages and attachments are due is decided by the spider before a request exists
  (gxcrawl/revalidation.py), so a "not due" skip is never a downloader exception.
- Every request for a URL with stored validators is conditional (If-None-Match /
  If-Modified-Since). A 304 for a report is handed to the spider as "unchanged"; a 304 for a list
  page is replayed from the stored body so its links can still be followed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from gxcrawl.fetch_outcomes import (
    NOT_MODIFIED,
    NotDue,
    OffsiteRedirect,
    RedirectLimit,
    RedirectLoop,
    RobotsDisallowed,
)
from gxcrawl.registry import host_allowed
from gxcrawl.store.crawlstore import CrawlStore, require_store
from gxcrawl.urls import canonical_url
from gxcrawl.vocab import DocumentKind, DocumentState

__all__ = [
    "ConditionalRequestMiddleware",
    "NotDue",
    "OffsiteRedirectMiddleware",
    "RedirectLimitMiddleware",
    "RedirectLoop",
    "RedirectLoopMiddleware",
    "RobotsDisallowedMiddleware",
    "TolerantMetaRefreshMiddleware",
]

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


class RedirectLimitMiddleware:
    """Turn a redirect past REDIRECT_MAX_TIMES into a recorded failure (`redirect_limit`).

    Scrapy's RedirectMiddleware drops such a request with a bare IgnoreRequest and a log line, so
    an endless chain of redirects to ever new URLs would leave no `fetches` row. Sits above it
    (a higher number sees the response first) and raises a classifiable exception instead.
    """

    def __init__(self, max_times: int) -> None:
        self.max_times = max_times

    @classmethod
    def from_crawler(cls, crawler: Any) -> RedirectLimitMiddleware:
        return cls(crawler.settings.getint("REDIRECT_MAX_TIMES"))

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status not in REDIRECT_STATUSES or not response.headers.get(b"Location"):
            return response
        if request.meta.get("dont_redirect"):
            return response
        hops = int(request.meta.get("redirect_times", 0))
        if hops >= self.max_times:
            raise RedirectLimit(
                f"redirect limit: {hops + 1} redirects (REDIRECT_MAX_TIMES={self.max_times}) "
                f"from {(request.meta.get('redirect_urls') or [request.url])[0]}"
            )
        return response


class RobotsDisallowedMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, raising a classifiable exception for a disallowed URL.

    The rule itself is Scrapy's; only the exception changes, so the spider records the request
    (`robots_disallowed`) instead of dropping it silently. Replaces RobotsTxtMiddleware in
    settings.py.
    """

    def process_request_2(self, rp: Any, request: Request) -> None:
        try:
            super().process_request_2(rp, request)
        except RobotsDisallowed:
            raise
        except IgnoreRequest as exc:
            raise RobotsDisallowed(f"forbidden by robots.txt: {request.url}") from exc


class TolerantMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's <meta http-equiv="refresh"> redirects, without losing the page to bad markup.

    Scrapy's middleware resolves the page's <base href> and refresh URL; a malformed one
    (`http://[::1/`) raises ValueError there, before the spider sees the response, and the page
    would be lost. Here the response goes on to the spider unredirected. An endless chain of
    refreshes ends as a recorded `redirect_limit`, not a silent drop. Replaces
    MetaRefreshMiddleware in settings.py.
    """

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        del spider  # Scrapy's deprecated argument, accepted for its signature and never passed on
        try:
            return super().process_response(request, response)
        except RedirectLimit:
            raise
        except IgnoreRequest as exc:  # Scrapy's "max redirections reached": record it
            raise RedirectLimit(
                f"redirect limit: meta refresh past REDIRECT_MAX_TIMES at {response.url}"
            ) from exc
        except ValueError:
            return response


class OffsiteRedirectMiddleware:
    """A redirect to a host outside the spider's allowed domains ends as a recorded `redirected`.

    Scrapy's OffsiteMiddleware drops the redirected request when it is scheduled, with no
    errback, so the URL that redirected would leave no `fetches` row.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> OffsiteRedirectMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if response.status not in REDIRECT_STATUSES or not location:
            return response
        domains = list(getattr(self.crawler.spider, "allowed_domains", None) or [])
        target = response.urljoin(location.decode("latin-1"))
        offsite = domains and not host_allowed(urlsplit(target).hostname or "", domains)
        if offsite and not request.meta.get("allow_offsite"):
            raise OffsiteRedirect(target)
        return response
