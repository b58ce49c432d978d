"""The spider's shortcuts return what the general path returns: the block-page check that skips
the regex scans on long pages, the cached first-page alias test, and list requests made once."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse

from gxcrawl.extract.blocks import classify_fetch
from gxcrawl.extract.sanitize import MAX_ELEMENTS
from gxcrawl.fetch_outcomes import classify_page
from gxcrawl.platforms.base import (
    ListRequest,
    attachments_in,
    dedupe_requests,
    find_attachments,
    is_directory_url,
    parse_html,
)

from . import test_blocks as pages
from .test_spider import spider_for

STATUSES = (200, 202, 203, 301, 403, 404, 405, 412, 429, 500, 521)
HEADERS = ({}, {"Server": "safedog-waf"}, {"X-Powered-By": "yunsuo"})


def _own_chars(n: int) -> str:
    """A body of exactly n own-text characters (no links): around the shortcut's threshold."""
    return "年" * n


def _tricky_pages() -> list[str]:
    """Block, challenge and soft-404 pages, and long pages that carry their markers."""
    blocks = [pages.RUISHU, pages.JIASULE, pages.UNKNOWN_CHALLENGE, pages.SAFEDOG]
    blocks += [pages.CHUANGYU, pages.CAPTCHA]
    out = [*blocks, "", "   ", pages._report("")]
    for marker in ("安全狗", "页面不存在", "404", "$_ts=1;", "验证码", "document.cookie=1;"):
        out.append(pages._report(marker))
        out.append(pages._report(f"<script>{marker}</script>"))
    for n in (0, 299, 300, 999, 1000, 1001, 3000):
        body = _own_chars(n)
        for title in ("页面不存在", "404 Not Found", "网站防火墙", "年度报告"):
            out.append(
                f"<html><head><title>{title}</title></head><body><p>{body}</p></body></html>"
            )
            out.append(f"<html><head><title>{title}</title></head><body>{body}$_ts=1</body></html>")
        # markers inside links and scripts count for the raw-text rules, not for own text
        out.append(f"<p>{body}</p><a href='/x'>{'页面不存在' * 300}</a><script>$_ts=1</script>")
        # own text around, inside and after the subtrees own_text drops (their tails stay)
        half = _own_chars(n // 2)
        out.append(
            f"<title>{body}</title><a href='/a'>{body}<script>{body}</script>{body}</a>{half}"
            f"<noscript>{body}</noscript>{half}<template>{body}</template><style>{body}</style>"
        )
        out.append(f"<div>{half}<!-- {body} --><a>{body}</a>{half}<![CDATA[{body}]]></div>")
        out.append(f"<p>{'&#24180;' * n}</p><a href='/f.pdf'>附件：{body}</a>")
    # more elements than own_text keeps: its tree is cut, a caller's is not
    many = "<p>年</p>" * (MAX_ELEMENTS + 10) + f"<div>{_own_chars(2000)}</div>"
    out.append(f"<html><head><title>页面不存在</title></head><body>{many}</body></html>")
    return out


@pytest.mark.parametrize("html", _tricky_pages())
def test_classify_page_is_classify_fetch(html: str) -> None:
    for status in STATUSES:
        for headers in HEADERS:
            expected = classify_fetch(status, headers, html)
            assert classify_page(status, headers, html) == expected
            root = parse_html(html)  # the spider's shared tree, read and left whole
            assert classify_page(status, headers, html, root) == expected
            assert (attachments_in(root, "http://a.gov.cn/") if root is not None else []) == (
                find_attachments(html, "http://a.gov.cn/")
            )


def _old_alias(page: str, current: str) -> bool:
    """The first-page alias test as it was before it was split per current page."""

    def strip(url: str) -> str:
        p = urlsplit(url)
        return urlunsplit((p.scheme, p.netloc, p.path, p.query, ""))

    if strip(page) == strip(current):
        return True
    page_parts, cur_parts = urlsplit(page), urlsplit(current)
    if page_parts.query or page_parts.netloc != cur_parts.netloc:
        return False
    folder = page_parts.path.rsplit("/", 1)[0]
    return folder == cur_parts.path.rsplit("/", 1)[0] and is_directory_url(page)


def _old_dedupe(requests: list[ListRequest], exclude: str | None) -> list[ListRequest]:
    out: dict[tuple[str, str, tuple[tuple[str, str], ...] | None], ListRequest] = {}
    for request in requests:
        if request.method == "GET" and exclude and _old_alias(request.url, exclude):
            continue
        out.setdefault((request.url, request.method, request.formdata), request)
    return list(out.values())


def test_dedupe_requests_matches_the_uncached_alias_test() -> None:
    base = "http://a.gov.cn/col/"
    urls = [
        base,
        base + "index.html",
        base + "index.html#top",
        base + "default.htm",
        base + "index_1.html",
        base + "index_1.html",
        base + "index.html?page=2",
        base + "sub/index.html",
        "http://b.gov.cn/col/index.html",
        "HTTP://a.gov.cn/col/index.html",
        "http://a.gov.cn/col",
        base + "index.jsp",
        base + "index_2.html#x",
    ]
    requests = [ListRequest(u) for u in urls]
    requests += [ListRequest(base + "index.html", "POST", (("p", "1"),))] * 2
    for exclude in (None, "", *urls, base + "index_1.html#frag"):
        assert dedupe_requests(requests, exclude=exclude) == _old_dedupe(requests, exclude)


def _pager_list(page: int, total: int) -> HtmlResponse:
    """List page `page` of a pager that links every page of the column (index, index_1 …)."""
    url = "http://portal.example/xxgk/ndbg/" + ("index.html" if page == 0 else f"index_{page}.html")
    links = "".join(
        f'<a href="index{"" if n == 0 else f"_{n}"}.html">{n + 1}</a>' for n in range(total)
    )
    body = f"<html><body><ul></ul><div class='page'>{links}</div></body></html>"
    meta = {"kind": "list", "portal": "fixture-demo", "columns": 0, "column": url}
    request = Request(url, meta=meta)
    return HtmlResponse(url, body=body.encode(), encoding="utf-8", request=request)


def test_list_requests_are_made_once_and_bounds_unchanged() -> None:
    """Every page linking every page: each page is requested once, and the bounds count each
    distinct page once, as when the repeats went to Scrapy's duplicate filter."""
    spider = spider_for("demo")
    total = 12
    first = _pager_list(0, total)
    column = first.url
    seen: list[str] = []
    for page in range(total):
        response = _pager_list(page, total)
        response.meta["column"] = column
        seen += [r.url for r in spider.parse_list(response) if isinstance(r, Request)]
    assert len(seen) == len(set(seen))
    assert set(seen) == {_pager_list(n, total).url for n in range(1, total)}
    assert spider.list_bounds.count("fixture-demo", column) == total - 1
