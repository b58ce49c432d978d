"""What the fast-path property tests share: the hypothesis settings, the parse, and the plain
reference of `chrome.strip_chrome_blocks` (tests/test_page_speedups.py,
tests/test_page_speed_paths.py)."""

from __future__ import annotations

import lxml.html
from hypothesis import HealthCheck, settings
from lxml.html import HtmlElement

from gxcrawl.extract import chrome, content, sanitize
from gxcrawl.extract.types import Removal

FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def parse(html: str) -> HtmlElement:
    return lxml.html.document_fromstring(html)


def strip_chrome_blocks_reference(root: HtmlElement) -> list[Removal]:
    """The pre-order walk `strip_chrome_blocks` replaced: it never enters a dropped block."""
    removed: list[Removal] = []
    dropped: list[HtmlElement] = []
    stack: list[HtmlElement] = list(reversed(root))
    while stack:
        el = stack.pop()
        if not isinstance(el.tag, str):
            continue
        kind = chrome.block_kind(el)
        if kind is None or (kind == "chrome" and el.find(".//table") is not None):
            stack.extend(reversed(el))
            continue
        removed.extend(Removal(kind, line) for line in content.element_lines(el))
        dropped.append(el)
    sanitize.drop_trees(dropped)
    return removed
