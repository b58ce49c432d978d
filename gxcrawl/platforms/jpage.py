"""Hanweb jpage columns whose inlined `<datastore>` carries no `<nextgroup>` link: the dataproxy
form fields then come from the page's own `jpage({… ajaxParam: {col: 1, columnid: 1229, …}})`
call, as the browser client sends them.
"""

from __future__ import annotations

import re

from gxcrawl.platforms.base import ListRequest
from gxcrawl.platforms.hanweb import (
    DEFAULT_PERPAGE,
    GROUP_PAGES,
    dataproxy_requests,
    parse_datastore,
)

__all__ = ["jpage_requests"]

_AJAX_PARAM = re.compile(r"ajaxParam\s*:\s*\{(?P<body>[^{}]*)\}", re.S)
_PAIR = re.compile(r"""(\w+)\s*:\s*(?:'([^']*)'|"([^"]*)"|([^,\s}]+))""")
_TOTAL = re.compile(r"totalRecord\s*:\s*['\"]?(\d+)", re.I)
_PERPAGE = re.compile(r"\bperPage\s*:\s*['\"]?(\d+)", re.I)
_GROUPSIZE = re.compile(r"\bgroupSize\s*:\s*['\"]?(\d+)", re.I)


def _int(pattern: re.Pattern[str], html: str, default: int) -> int:
    match = pattern.search(html)
    return int(match.group(1)) if match else default


def jpage_requests(html: str, url: str) -> list[ListRequest]:
    """Dataproxy POSTs built from the jpage call (empty when the page has no such call, or
    when its datastore already names the next group)."""
    call = _AJAX_PARAM.search(html)
    if call is None:
        return []
    params = [(k, a or b or c) for k, a, b, c in _PAIR.findall(call.group("body"))]
    if not any(k.lower() == "columnid" for k, _ in params):
        return []
    _, stores = parse_datastore(html, url)
    if any(store.params for store in stores):
        return []  # the datastore's own nextgroup rules (hanweb.py)
    total = next((s.total for s in stores if s.total), None) or _int(_TOTAL, html, 0)
    inline = sum(store.inline for store in stores)
    perpage = _int(_PERPAGE, html, DEFAULT_PERPAGE)
    return dataproxy_requests(
        url, total, inline, params, perpage, _int(_GROUPSIZE, html, GROUP_PAGES)
    )
