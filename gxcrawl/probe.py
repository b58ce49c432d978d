"""`scrapy probe`: a small, polite look at one column before it becomes a registry entry.

The probe walks list pages only (never the reports themselves), with the `auto` strategy (plus
the registry platform as a hint), robots.txt obeyed and at most `max_requests` list requests. It
reports what an operator needs to write a `[[portal]]` entry: the detected platform and its
evidence, the list pages fetched (and the ones the budget left out), every report link with its
year and agency, every rejected look-alike with its reason, block or anti-bot signs, and the
robots.txt verdict.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from gxcrawl.extract.blocks import classify_fetch
from gxcrawl.extract.encoding import decode_html
from gxcrawl.extract.titles import classify_title
from gxcrawl.platforms.base import Link, ListRequest
from gxcrawl.platforms.detect import AutoStrategy, detect
from gxcrawl.registry import host_allowed
from gxcrawl.textutil import collapse_whitespace

__all__ = ["DEFAULT_MAX_REQUESTS", "ProbeResult", "ProbeSpider", "portal_entry"]

DEFAULT_MAX_REQUESTS = 20  # enough for a column's first pages; small enough to be polite
_ROBOTS_FORBIDDEN = "Forbidden by robots.txt"


@dataclass
class ListPage:
    url: str
    method: str
    status: int
    platform: str
    evidence: list[str]
    items: int


@dataclass
class ProbeResult:
    start_urls: list[str]
    hint: str | None = None
    list_pages: list[ListPage] = field(default_factory=list)
    not_fetched: list[str] = field(default_factory=list)  # pages the request budget left out
    reports: list[dict[str, Any]] = field(default_factory=list)
    lookalikes: list[dict[str, Any]] = field(default_factory=list)
    blocked: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    robots: dict[str, Any] = field(default_factory=dict)
    page_title: str = ""

    @property
    def platform(self) -> str:
        """The start page's platform; `mixed` names none when the list pages disagree."""
        found = list(dict.fromkeys(p.platform for p in self.list_pages))
        return found[0] if len(found) == 1 else ("mixed" if found else "unknown")

    def as_json(self) -> dict[str, Any]:
        return {
            "start_urls": self.start_urls,
            "platform": self.platform,
            "platforms": sorted({p.platform for p in self.list_pages}),
            "evidence": sorted({e for p in self.list_pages for e in p.evidence}),
            "list_pages": [asdict(p) for p in self.list_pages],
            "not_fetched": self.not_fetched,
            "reports": self.reports,
            "lookalikes": self.lookalikes,
            "blocked": self.blocked,
            "errors": self.errors,
            "robots": self.robots,
            "portal_entry": portal_entry(self),
        }


# --- the spider ----------------------------------------------------------------------------


class ProbeSpider(scrapy.Spider):
    name = "gxcrawl_probe"

    def __init__(
        self,
        result: ProbeResult,
        max_requests: int = DEFAULT_MAX_REQUESTS,
        selectors: Mapping[str, str] | None = None,
        allowed_domains: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.result = result
        self.max_requests = max_requests
        self.selectors = dict(selectors or {})
        self.strategy = AutoStrategy(result.hint)
        hosts = [urlsplit(u).hostname or "" for u in result.start_urls]
        self.allowed_domains = allowed_domains or sorted(set(hosts))
        self._scheduled: set[tuple[str, str, Any]] = set()

    async def start(self) -> AsyncIterator[Any]:
        for url in self.result.start_urls:
            request = self._list_request(ListRequest(url))
            if request is not None:
                yield request

    def _list_request(self, req: ListRequest) -> scrapy.Request | None:
        key = (req.method, req.url, req.formdata)
        if key in self._scheduled or not host_allowed(
            urlsplit(req.url).hostname or "", self.allowed_domains
        ):
            return None
        if len(self._scheduled) >= self.max_requests:
            if req.url not in self.result.not_fetched:
                self.result.not_fetched.append(req.url)
            return None
        self._scheduled.add(key)
        meta = {"handle_httpstatus_all": True}
        if req.method.upper() == "POST":
            return scrapy.FormRequest(
                req.url, formdata=dict(req.formdata or ()), callback=self.parse_list,
                errback=self.on_error, meta=meta,
            )  # fmt: skip
        return scrapy.Request(req.url, callback=self.parse_list, errback=self.on_error, meta=meta)

    def parse_list(self, response: Response) -> Iterator[scrapy.Request]:
        headers = {
            k.decode("latin-1"): b", ".join(v).decode("latin-1")
            for k, v in response.headers.items()
        }
        text, _ = decode_html(response.body, headers.get("Content-Type"))
        method = response.request.method if response.request else "GET"
        verdict = classify_fetch(response.status, headers, text)
        if verdict or response.status >= 400:
            reason = verdict or f"http_{response.status}"
            self.result.blocked.append(
                {"url": response.url, "status": response.status, "reason": reason}
            )
            return
        if not self.result.page_title:
            found = re.search(r"<title[^>]*>(.*?)</title>", text, re.S | re.I)
            self.result.page_title = collapse_whitespace(found.group(1)) if found else ""
        detection = detect(text, response.url)
        listing = self.strategy.parse_listing(text, response.url, self.selectors)
        self.result.list_pages.append(
            ListPage(response.url, method, response.status, detection.platform,
                     detection.evidence(), len(listing.items))
        )  # fmt: skip
        for link in listing.items:
            self._classify(link)
        for req in [*listing.pages, *listing.columns]:
            request = self._list_request(req)
            if request is not None:
                yield request

    def _classify(self, link: Link) -> None:
        if any(r["url"] == link.url for r in self.result.reports):
            return
        verdict = classify_title(link.title)
        host = urlsplit(link.url).hostname or ""
        if verdict.is_report and not host_allowed(host, self.allowed_domains):
            reason = "offsite (outside allowed_domains: never crawled)"
        elif verdict.is_report and not self._robots_allow(link.url):
            reason = "disallowed by robots.txt"
        elif verdict.is_report:
            self.result.reports.append(
                {"title": link.title, "url": link.url, "year": verdict.year,
                 "agency": verdict.agency, "date": link.date}
            )  # fmt: skip
            return
        elif verdict.reason == "unrelated":
            return
        else:
            reason = verdict.reason
        if all(x["url"] != link.url for x in self.result.lookalikes):
            self.result.lookalikes.append({"title": link.title, "url": link.url, "reason": reason})

    def _robots_allow(self, url: str) -> bool:
        """The robots.txt rules Scrapy already fetched for this host (True when unknown)."""
        parser = _robots_parser(self.crawler, urlsplit(url).netloc)
        if parser is None:
            return True
        agent = self.crawler.settings.get("USER_AGENT") or "*"
        return bool(parser.allowed(url, agent))

    def on_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        message = str(failure.value)
        if failure.check(IgnoreRequest) and _ROBOTS_FORBIDDEN in message:
            self.result.robots.setdefault("disallowed", []).append(request.url)
            return
        name = type(failure.value).__name__
        self.result.errors.append({"url": request.url, "error": f"{name}: {message}"[:300]})

    def closed(self, reason: str) -> None:
        self.result.robots.update(robots_verdict(self.crawler.stats.get_stats(), self.result))


def _robots_parser(crawler: Any, netloc: str) -> Any:
    engine = getattr(crawler, "engine", None)
    manager = getattr(getattr(engine, "downloader", None), "middleware", None)
    for middleware in getattr(manager, "middlewares", ()):
        if isinstance(middleware, RobotsTxtMiddleware):
            parser = middleware._parsers.get(netloc)
            return parser if hasattr(parser, "allowed") else None
    return None


def robots_verdict(stats: Mapping[str, Any], result: ProbeResult) -> dict[str, Any]:
    """robots.txt as Scrapy saw it: its HTTP status (or the error), and whether the start URLs
    may be crawled."""
    statuses = [k.rsplit("/", 1)[-1] for k in stats if k.startswith("robotstxt/response_status")]
    errors = [k.rsplit("/", 1)[-1] for k in stats if k.startswith("robotstxt/exception_count/")]
    if statuses:
        fetched = f"HTTP {', '.join(statuses)}"
    else:
        fetched = f"unreachable ({', '.join(errors)})" if errors else "not fetched"
    disallowed = set(result.robots.get("disallowed", []))
    return {
        "robots_txt": fetched,
        "start_allowed": not any(u in disallowed for u in result.start_urls),
        "disallowed": sorted(disallowed),
    }


# --- the registry entry --------------------------------------------------------------------


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def portal_entry(result: ProbeResult) -> str:
    """A ready `[[portal]]` entry (review name, level and region code before enabling)."""
    first = urlsplit(result.start_urls[0])
    host = first.hostname or "portal"
    portal_id = re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-")
    name = re.split(r"[_|\-－—]", result.page_title)[-1].strip() or host
    platform = result.platform if result.platform not in ("mixed", "unknown") else "auto"
    starts = ", ".join(_toml_str(u) for u in result.start_urls)
    today = dt.date.today().isoformat()
    notes = f"probed {today}: {len(result.reports)} reports on {len(result.list_pages)} list pages"
    return "\n".join(
        [
            "[[portal]]",
            f"id = {_toml_str(portal_id)}",
            f"name = {_toml_str(name)}",
            f"homepage = {_toml_str(f'{first.scheme}://{first.netloc}/')}",
            f"start_urls = [{starts}]",
            f"platform = {_toml_str(platform)}",
            f"allowed_domains = [{_toml_str(host)}]",
            'confidence = "low"',
            "enabled = true",
            f"notes = {_toml_str(notes)}",
            "",
        ]
    )
