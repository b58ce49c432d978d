"""JSON list APIs, configured by data: a portal whose 年报 list is a JSON API needs a registry
entry, not Python.

The registry entry's start URL is the API's first page. Its `[portal.selectors]` table says how
to read the answer (keys are optional unless noted; `|` separates alternatives tried in order,
dots walk into nested objects and list indexes, e.g. `data.list` or `result.0.rows`):

- `api_items`: path to the item array; empty means the answer itself is the array
  (`articles`, `data.list`).
- `api_title`: item key of the title; HTML tags and entities are removed (`title`).
- `api_url`: item key of the document URL; relative URLs join onto the API URL (`url|post_url`).
- `api_date`: item key of the date: a date string, or Unix seconds/milliseconds read in Beijing
  time (`create_time`).
- `api_page_param`: the query parameter holding the page number (default `page`), or
  `name=template` for a JSON-in-query value with a `{page}` placeholder
  (`paramJson={"pageNo":{page},"pageSize":15}`).
- `api_first_page`: number of the first page, `0` or `1` (default `1`).
- `api_total_pages`: path to the page count (`data.pageCount`).
- `api_total`: path to the item count, used when `api_total_pages` is absent (`total`).
- `api_page_size`: items per page, a number or a path (default: the first page's item count).

Paging: the first page (the page parameter is absent or equals `api_first_page`) yields every
further page at once, each exactly once; later pages, and a page parameter that does not fit
`api_page_param`, yield none, so a list is never walked twice.
Items without a usable title or URL are skipped. Answers wrapped as JSONP (`cb({...});`) or as a
script assignment (`var x = {...};`) are unwrapped; an answer that is not JSON at all (an HTML
error page, a challenge) gives an empty listing.

The `gkmlpt` platform is this strategy with the Guangdong gkmlpt defaults (`GKMLPT_DEFAULTS`):
`/gkmlpt/api/all/<catid>?page=N&sid=<sid>` answers `{"articles": [{"title", "url", …}], "total"}`.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

from gxcrawl.platforms.base import (
    DATE_RE,
    Link,
    Listing,
    ListRequest,
    dedupe_links,
    strip_fragment,
)
from gxcrawl.textutil import collapse_whitespace, remove_whitespace

__all__ = [
    "DEFAULTS",
    "GKMLPT_DEFAULTS",
    "SELECTOR_KEYS",
    "JsonApiStrategy",
    "config_errors",
    "load_json",
    "page_number",
    "page_url",
    "parse_jsonapi",
]

SELECTOR_KEYS = frozenset(
    {
        "api_items",
        "api_title",
        "api_url",
        "api_date",
        "api_page_param",
        "api_first_page",
        "api_total_pages",
        "api_total",
        "api_page_size",
    }
)
DEFAULTS: Mapping[str, str] = {
    "api_items": "",
    "api_title": "title",
    "api_url": "url",
    "api_date": "date",
    "api_page_param": "page",
    "api_first_page": "1",
}
GKMLPT_DEFAULTS: Mapping[str, str] = {
    "api_items": "articles",
    "api_title": "title",
    "api_url": "url|post_url",
    "api_date": "create_time|created_at|display_publish_time|publish_time",
    "api_page_param": "page",
    "api_first_page": "1",
    "api_total": "total",
}
# A corrupt total must not turn into a million requests; the spider bounds hops, not fan-out.
MAX_PAGES = 2000
_BEIJING = timezone(timedelta(hours=8))
# Unix times: below this a number is a year or a count (10**8 s is 1973); above
# MILLISECONDS_FROM it is in milliseconds (10**11 s would be the year 5138).
MIN_UNIX_TIME = 10**8
MILLISECONDS_FROM = 10**11
_TAG_RE = re.compile(r"<[^>]+>")
_JSONP_RE = re.compile(r"^[\w$.]+\s*\((.*)\)\s*;?$", re.S)
_ASSIGN_RE = re.compile(r"^(?:(?:var|let|const)\s+)?[\w$.\[\]'\"]+\s*=\s*(.*?);?$", re.S)


# --- configuration -----------------------------------------------------------------------------


def _config(selectors: Mapping[str, str], defaults: Mapping[str, str]) -> dict[str, str]:
    merged = dict(defaults)
    merged.update({k: v for k, v in selectors.items() if k in SELECTOR_KEYS})
    return merged


def _split_param(spec: str) -> tuple[str, str]:
    """`page` → ("page", "{page}"); `paramJson={"pageNo":{page}}` → ("paramJson", template)."""
    name, sep, template = spec.partition("=")
    return name.strip(), (template.strip() if sep else "{page}")


def config_errors(selectors: Mapping[str, str]) -> list[str]:
    """Problems with the `api_*` keys of a registry entry (the registry fails fast on them)."""
    errors = []
    first = selectors.get("api_first_page")
    if first is not None and first.strip() not in ("0", "1"):
        errors.append(f"api_first_page must be 0 or 1 (got {first!r})")
    spec = selectors.get("api_page_param")
    if spec is not None:
        name, template = _split_param(spec)
        if not name or "{page}" not in template:
            errors.append(f"api_page_param must be a name or name=template with {{page}}: {spec!r}")
    size = selectors.get("api_page_size", "").strip()
    if size.isdigit() and int(size) == 0:
        errors.append("api_page_size must be positive")
    return errors


# --- JSON --------------------------------------------------------------------------------------


def load_json(text: str) -> Any:
    """The JSON value of an API answer, unwrapping JSONP and `var x = …;`; None when the answer
    is not JSON (an HTML error page, a challenge script, an empty body)."""
    body = (text or "").lstrip("\ufeff").strip()
    if not body or body.startswith("<"):
        return None
    candidates = [body]
    for pattern in (_JSONP_RE, _ASSIGN_RE):
        match = pattern.match(body)
        if match:
            candidates.append(match.group(1).strip())
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            continue
    return None


def _walk(data: Any, path: str) -> Any:
    """Value at a dotted path (`data.list`, `rows.0.title`); None when any step is missing."""
    node = data
    for step in (s for s in path.split(".") if s):
        if isinstance(node, Mapping):
            node = node.get(step)
        elif isinstance(node, list) and step.lstrip("-").isdigit():
            index = int(step)
            node = node[index] if -len(node) <= index < len(node) else None
        else:
            return None
        if node is None:
            return None
    return node


def _first(data: Any, spec: str) -> Any:
    """The first non-empty value among `a|b|c` paths."""
    for path in spec.split("|"):
        value = _walk(data, path.strip()) if path.strip() else data
        if value not in (None, "", [], {}):
            return value
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _text(value: Any) -> str:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return ""
    text = html.unescape(_TAG_RE.sub("", str(value)))
    return collapse_whitespace(text)


def _date(value: Any) -> str | None:
    """ISO date from a date string or a Unix time in seconds or milliseconds (Beijing time)."""
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if isinstance(value, str) and re.fullmatch(r"\d{9,13}", value.strip()):
        number = int(value.strip())
    if number is not None:
        if number < MIN_UNIX_TIME:
            return None
        seconds = number / 1000 if number > MILLISECONDS_FROM else number
        try:
            return datetime.fromtimestamp(seconds, UTC).astimezone(_BEIJING).date().isoformat()
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        match = DATE_RE.search(value)
        if match:
            y, m, d = (int(x) for x in match.groups())
            if 1 <= m <= 12 and 1 <= d <= 31:
                return f"{y}-{m:02d}-{d:02d}"
    return None


# --- pages -------------------------------------------------------------------------------------


def _query_pairs(query: str) -> list[tuple[str, str, str]]:
    """(decoded key, raw value, raw `key=value` part) of each query parameter, in order."""
    pairs = []
    for part in query.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((unquote_plus(key), value, part))
    return pairs


def page_number(url: str, spec: str) -> int | None:
    """The page number a URL asks for; None when the page parameter is absent or unreadable."""
    return _page_param(url, spec)[1]


def _page_param(url: str, spec: str) -> tuple[bool, int | None]:
    """(the page parameter is present, the page number it holds)."""
    name, template = _split_param(spec)
    for key, raw, _ in _query_pairs(urlsplit(url).query):
        if key != name:
            continue
        value = unquote_plus(raw)
        # whitespace is insignificant in a JSON template: compare without it
        head, _, tail = remove_whitespace(template).partition("{page}")
        pattern = re.escape(head) + r"(-?\d+)" + re.escape(tail)
        match = re.fullmatch(pattern, remove_whitespace(value))
        return True, (int(match.group(1)) if match else None)
    return False, None


def page_url(url: str, spec: str, page: int) -> str:
    """`url` asking for `page`: the page parameter replaced in place (or appended), every other
    parameter kept byte for byte."""
    name, template = _split_param(spec)
    value = quote(template.replace("{page}", str(page)), safe="")
    parts = urlsplit(strip_fragment(url))
    pairs = _query_pairs(parts.query)
    replaced = False
    out = []
    for key, _, part in pairs:
        if key == name and not replaced:
            out.append(f"{part.partition('=')[0]}={value}")
            replaced = True
        else:
            out.append(part)
    if not replaced:
        out.append(f"{quote(name, safe='')}={value}")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(out), ""))


def _page_count(data: Any, config: Mapping[str, str], items_on_page: int) -> int | None:
    pages_path = config.get("api_total_pages", "")
    if pages_path:
        pages = _as_int(_first(data, pages_path))
        if pages is not None:
            return pages
    total_path = config.get("api_total", "")
    if not total_path:
        return None
    total = _as_int(_first(data, total_path))
    if total is None:
        return None
    size_spec = config.get("api_page_size", "").strip()
    size = None
    if size_spec:
        size = _as_int(size_spec) if size_spec.isdigit() else _as_int(_first(data, size_spec))
    size = size or items_on_page  # an API's page size is what its first page holds
    if not size:
        return None if total else 1
    return math.ceil(total / size)


# --- the strategy ------------------------------------------------------------------------------


def parse_jsonapi(
    text: str,
    url: str,
    selectors: Mapping[str, str] | None = None,
    defaults: Mapping[str, str] = DEFAULTS,
) -> Listing:
    """Items of one API answer and, on the first page, every further page."""
    config = _config(selectors or {}, defaults)
    data = load_json(text)
    if data is None:
        return Listing()
    raw_items = _first(data, config["api_items"]) if config["api_items"] else data
    if not isinstance(raw_items, list):
        raw_items = []
    links = []
    for raw in raw_items:
        if not isinstance(raw, Mapping):
            continue
        title = _text(_first(raw, config["api_title"]))
        target = _first(raw, config["api_url"])
        if not title or not isinstance(target, str) or not target.strip():
            continue
        absolute = strip_fragment(urljoin(url, target.strip()))
        if urlsplit(absolute).scheme not in ("http", "https"):
            continue
        links.append(Link(absolute, title, _date(_first(raw, config["api_date"]))))

    spec = config["api_page_param"]
    first = _as_int(config.get("api_first_page", "1")) or 0
    present, current = _page_param(url, spec)
    pages: list[ListRequest] = []
    # No page parameter: the start URL is page one. One that does not fit the template: we cannot
    # tell which page this is, so ask for nothing rather than walk the list again.
    if not present or current == first:
        count = _page_count(data, config, len(raw_items))
        if count is not None:
            last = first + min(count, MAX_PAGES) - 1
            pages = [ListRequest(page_url(url, spec, n)) for n in range(first + 1, last + 1)]
    return Listing(items=dedupe_links(links), pages=pages)


class JsonApiStrategy:
    """A JSON list API read through the `api_*` keys of `[portal.selectors]`."""

    def __init__(self, name: str = "jsonapi", defaults: Mapping[str, str] = DEFAULTS) -> None:
        self.name = name
        self.defaults = dict(defaults)

    def parse_listing(self, html: str, url: str, selectors: Mapping[str, str]) -> Listing:
        return parse_jsonapi(html, url, selectors, self.defaults)
