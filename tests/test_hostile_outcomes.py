"""Issue 12, crawl part, as pure decisions: how hostile fetches are classified, the list-page
bounds, the spider's guard around its own parsing, and the fixture server's hostile modes."""

from __future__ import annotations

import gzip
import http.client
from typing import Any

import pytest
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.utils._compression import _DecompressionMaxSizeExceeded

from gxcrawl.fetch_outcomes import (
    EXTRA_BYTES_HEADER,
    FailureAction,
    RedirectLimit,
    RobotsDisallowed,
    classify_failure,
    length_mismatch,
    spider_error_reason,
)
from gxcrawl.items import PageItem
from gxcrawl.platforms.base import ListRequest, absolute_url
from gxcrawl.spiders.bounds import ListPageBounds
from gxcrawl.testing.fixtureserver import calendar_page, gzip_bomb, serve

from .conftest import FIXTURES
from .test_spider import response, spider_for


def bomb_ignore() -> IgnoreRequest:
    """What Scrapy's HttpCompressionMiddleware raises on a gzip bomb."""
    exc = IgnoreRequest("Ignored response <200 x> because its body exceeded DOWNLOAD_MAXSIZE")
    exc.__cause__ = _DecompressionMaxSizeExceeded(52_494_336, 52_428_800)
    return exc


RECORDED = [
    ("redirect chain", RedirectLimit("redirect limit: 6 redirects"), "redirect_limit: "),
    ("robots", RobotsDisallowed("forbidden by robots.txt: x"), "robots_disallowed: "),
    ("gzip bomb", bomb_ignore(), "too_large: decompressed: IgnoreRequest: "),
    (
        "size seen only while reading",
        DownloadCancelledError(),
        "too_large: DownloadCancelledError: download cancelled (over DOWNLOAD_MAXSIZE)",
    ),
]


@pytest.mark.parametrize(("case", "exc", "prefix"), RECORDED, ids=[r[0] for r in RECORDED])
def test_hostile_failures_are_recorded(case: str, exc: Exception, prefix: str) -> None:
    verdict = classify_failure(exc)
    assert verdict.action == FailureAction.RECORD, case
    assert verdict.reason.startswith(prefix), verdict.reason


def test_other_ignored_requests_stay_unrecorded() -> None:
    # e.g. a request another middleware drops on purpose: counted in stats, never fetched
    verdict = classify_failure(IgnoreRequest("Filtered offsite request"))
    assert verdict.action == FailureAction.IGNORED


def test_length_mismatch_reads_the_download_handlers_mark() -> None:
    headers = {"Content-Length": "375", EXTRA_BYTES_HEADER: "376"}
    assert length_mismatch(headers) == "length_mismatch: 376 bytes beyond Content-Length 375"
    assert length_mismatch({"Content-Length": "375"}) is None


def test_spider_error_reason_names_the_exception() -> None:
    assert spider_error_reason(ValueError("Invalid IPv6 URL")) == (
        "spider_error: ValueError: Invalid IPv6 URL"
    )


def test_bounds_count_distinct_pages_per_column_and_portal() -> None:
    bounds = ListPageBounds()
    admitted = [bounds.admit("p", "c", f"u{i}", 3, 5) for i in range(4)]
    assert admitted == [None, None, None, "column"]
    assert bounds.admit("p", "c", "u1", 3, 5) is None  # a page already counted is no new page
    assert [bounds.admit("p", "d", f"v{i}", 3, 5) for i in range(3)] == [None, None, "portal"]
    assert (bounds.count("p", "c"), bounds.count("p")) == (3, 5)
    assert bounds.first_trap("p", "c", "column") and not bounds.first_trap("p", "c", "column")


def test_spider_stops_a_column_at_its_page_bound() -> None:
    spider = spider_for("generic")
    spider.crawler.settings.frozen = False
    spider.crawler.settings.set("GXCRAWL_MAX_LIST_PAGES", 2)
    spider.crawler._gxcrawl_config = None
    pages = [ListRequest(f"http://portal.example/cal/index_{n}.html") for n in range(5)]
    admitted = [spider._admit_list_page("fixture-generic", "col", r) for r in pages]
    assert admitted == [True, True, False, False, False]
    assert spider.crawler.stats.get_value("gxcrawl/list_traps/column") == 1


def test_an_exception_in_the_spiders_parsing_still_yields_the_raw_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spider = spider_for("generic")

    def broken(*_args: Any) -> Any:
        raise ValueError("Invalid IPv6 URL")

    monkeypatch.setattr("gxcrawl.spiders.annual_reports.strategy_for", broken)
    meta = {"kind": "list", "portal": "fixture-generic"}
    resp = response("generic", "/zwgk/zfxxgkndbg/", meta)
    out = list(spider.parse_list(resp))
    assert len(out) == 1 and isinstance(out[0], PageItem)
    assert out[0].body == resp.body
    assert out[0].reason == "spider_error: ValueError: Invalid IPv6 URL"
    assert spider.crawler.stats.get_value("gxcrawl/spider_errors") == 1


def test_gzip_bomb_is_small_and_inflates() -> None:
    bomb = gzip_bomb(4)
    assert len(bomb) < 16 * 1024
    assert len(gzip.decompress(bomb)) == 4 * 1024 * 1024


def test_calendar_trap_moves_its_last_page_forward() -> None:
    page = calendar_page(3, 7).decode()
    assert 'href="index_4.html">下一页' in page and 'href="index_10.html">尾页' in page


def _get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body


def test_fixture_server_hostile_modes() -> None:
    with serve(FIXTURES / "portals" / "hostile") as server:
        status, headers, _ = _get(server.port, "/nb/h02_chain.html?hop=4")
        assert (status, headers["location"]) == (302, "/nb/h02_chain.html?hop=5")
        status, headers, body = _get(server.port, "/nb/h01_bomb.html")
        assert headers["content-encoding"] == "gzip" and len(body) < 1024 * 1024
        status, headers, _ = _get(server.port, "/cal/index_40.html")
        assert (
            status == 200 and "index_47.html" in _get(server.port, "/cal/index_40.html")[2].decode()
        )
        status, headers, body = _get(server.port, "/nb/h04_short.html")
        file_size = len((FIXTURES / "portals" / "hostile" / "nb" / "h04_short.html").read_bytes())
        assert int(headers["content-length"]) == file_size // 2 == len(body)


@pytest.mark.parametrize(
    "href", ["http://[::1/a.html", "http://127.0.0.1:999999/a.html", "//[zz/a.html"]
)
def test_a_link_no_request_can_be_made_for_is_skipped(href: str) -> None:
    assert absolute_url(href, "http://portal.example/nb/") is None
    assert absolute_url("a.html", "http://portal.example/nb/") == "http://portal.example/nb/a.html"


def test_malformed_links_leave_the_list_whole() -> None:
    spider = spider_for("hostile")
    meta = {"kind": "list", "portal": "fixture-hostile"}
    out = list(spider.parse_list(response("hostile", "/nb/", meta)))
    assert "spider_error" not in str(out[0].reason)
    requested = {getattr(o, "url", "") for o in out[1:]}
    assert "http://portal.example/nb/h10_ok.html" in requested
