"""Walk a served fixture portal's lists with one platform strategy, as the spider would, without
Scrapy: list pages (GET, and Hanweb dataproxy POSTs) and sub-columns, never the items."""

from __future__ import annotations

import importlib
import tomllib
import urllib.error
import urllib.request
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from gxcrawl.extract.encoding import decode_html
from gxcrawl.platforms.base import Link, ListRequest, Strategy

MAX_LIST_REQUESTS = 400  # far above any fixture portal; stops a runaway pager
TIMEOUT = 10  # seconds per local request


def fixtureserver() -> Any:
    """The fixture server module (gxcrawl/testing/fixtureserver.py)."""
    return importlib.import_module("gxcrawl.testing.fixtureserver")


def start_urls(portal_dir: Path, base_url: str) -> list[str]:
    with (portal_dir / "portal.toml").open("rb") as fh:
        entry = tomllib.load(fh)["portal"][0]
    return [urljoin(base_url + "/", u) for u in entry["start_urls"]]


def request_key(req: ListRequest) -> str:
    parts = urlsplit(req.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return f"POST {path}" if req.method == "POST" else path


def fetch(req: ListRequest) -> tuple[int, str]:
    data = urlencode(list(req.formdata or ())).encode() if req.method == "POST" else None
    http = urllib.request.Request(req.url, data=data, method=req.method)
    try:
        with urllib.request.urlopen(http, timeout=TIMEOUT) as answer:
            text, _ = decode_html(answer.read(), answer.headers.get("Content-Type"))
            return answer.status, text
    except urllib.error.HTTPError as exc:
        return exc.code, ""


@dataclass
class Walk:
    items: dict[str, Link] = field(default_factory=dict)  # path (+query) -> link
    requested: Counter[str] = field(default_factory=Counter)


def walk(strategy: Strategy, starts: list[str], selectors: dict[str, str] | None = None) -> Walk:
    result = Walk()
    queue = deque(ListRequest(u) for u in starts)
    host = urlsplit(starts[0]).netloc
    seen: set[str] = set()
    while queue and sum(result.requested.values()) < MAX_LIST_REQUESTS:
        req = queue.popleft()
        key = request_key(req) + repr(req.formdata)
        if key in seen or urlsplit(req.url).netloc != host:
            continue
        seen.add(key)
        result.requested[request_key(req)] += 1
        status, text = fetch(req)
        if status != 200:
            continue
        listing = strategy.parse_listing(text, req.url, selectors or {})
        for link in listing.items:
            parts = urlsplit(link.url)
            result.items.setdefault(parts.path + (f"?{parts.query}" if parts.query else ""), link)
        queue.extend(listing.pages)
        queue.extend(listing.columns)
    return result
