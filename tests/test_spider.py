"""Spider callbacks on saved fixture pages, built as Responses from the RAW bytes and the headers
the server sends (GBK bodies behind missing or wrong charset headers stay as they are)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from scrapy import FormRequest, Request
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler
from twisted.internet.error import TimeoutError as TxTimeoutError
from twisted.python.failure import Failure

from gxcrawl.extract.process import RawDocument, extract_document
from gxcrawl.items import PageItem
from gxcrawl.spiders.annual_reports import AnnualReportsSpider
from gxcrawl.testing.fixtureserver import served_file
from gxcrawl.testing.responses import portal_response

from .conftest import FIXTURES

BASE = "http://portal.example"


def spider_for(portal: str) -> AnnualReportsSpider:
    crawler = get_crawler(AnnualReportsSpider, {"GXCRAWL_STORE_ENABLED": False})
    registry = FIXTURES / "portals" / portal / "portal.toml"
    spider = AnnualReportsSpider.from_crawler(crawler, registry=str(registry), base_url=BASE)
    crawler.spider = spider
    return spider


def content_type(portal: str, path: str) -> str:
    """The Content-Type the fixture server sends for `path` (per `_site.toml`)."""
    return served_file(FIXTURES / "portals" / portal, path)[1]


def response(portal: str, path: str, meta: dict[str, Any], status: int = 200) -> Response:
    # raw bytes, never re-encoded, with the server's headers
    return portal_response(FIXTURES / "portals" / portal, path, BASE, meta=meta, status=status)


def expected(portal: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "portals" / portal / "expected.json").read_text("utf-8"))


def split(out: list[Any]) -> tuple[list[PageItem], list[Request]]:
    return [o for o in out if isinstance(o, PageItem)], [o for o in out if isinstance(o, Request)]


def test_trs_gbk_list_without_charset_header() -> None:
    spider = spider_for("trs")
    path = "/xxgk/ndbg/index_2.html"
    assert content_type("trs", path) == "text/html"  # the header names no charset
    items, requests = split(
        list(spider.parse_list(response("trs", path, {"kind": "list", "portal": "fixture-trs"})))
    )
    (item,) = items
    assert (item.kind, item.disposition) == ("list", "content")
    assert item.body == (FIXTURES / "portals/trs" / path.lstrip("/")).read_bytes()
    gold = {r["path"]: r["title"] for r in expected("trs")["reports"]}
    details = [r for r in requests if r.meta["kind"] in ("report", "attachment")]
    assert details, "no report requested from a list page that has reports"
    for req in details:
        p = urlsplit(req.url).path
        if p in gold:
            assert req.meta["link_title"] == gold[p]  # decoded from GBK: no mojibake
    lookalikes = set(expected("trs")["lookalikes"])
    assert not {urlsplit(r.url).path for r in details} & lookalikes


def test_trs_report_with_wrong_charset_header_keeps_raw_bytes() -> None:
    spider = spider_for("trs")
    path = "/xxgk/ndbg/202101/t20210115_4521041.htm"
    assert content_type("trs", path) == "text/html; charset=utf-8"  # a lie: the bytes are GBK
    meta = {"kind": "report", "portal": "fixture-trs", "link_title": "x"}
    items, _ = split(list(spider.parse_report(response("trs", path, meta))))
    item = items[0]
    assert item.disposition == "content"
    out = extract_document(RawDocument(item.body or b"", item.url, item.headers))
    result, encoding = out.result, out.encoding
    gold = {r["path"]: r for r in expected("trs")["reports"]}[path]
    assert encoding == "gb18030"
    assert (result.title, result.year) == (gold["title"], gold["year"])


def test_challenge_page_is_blocked_and_not_followed() -> None:
    spider = spider_for("trs")
    (path,) = expected("trs")["blocked"]
    meta = {"kind": "report", "portal": "fixture-trs", "link_title": "x"}
    out = list(spider.parse_report(response("trs", path, meta, status=412)))
    items, requests = split(out)
    assert [i.disposition for i in items] == ["blocked"] and requests == []
    assert items[0].reason and "412" in items[0].reason
    assert spider.crawler.stats.get_value("gxcrawl/blocked") == 1


def test_hanweb_column_page_posts_each_group_once() -> None:
    spider = spider_for("hanweb")
    gold = expected("hanweb")
    column = gold["list_pages"][0]
    _, requests = split(
        list(
            spider.parse_list(
                response("hanweb", column, {"kind": "list", "portal": "fixture-hanweb"})
            )
        )
    )
    posts = [r for r in requests if isinstance(r, FormRequest) and r.method == "POST"]
    got = sorted(f"POST {urlsplit(r.url).path}?{urlsplit(r.url).query}" for r in posts)
    assert got == sorted(p for p in gold["list_pages"] if p.startswith("POST "))
    assert all(b"columnid=1229" in r.body for r in posts)


def test_not_modified_report_is_recorded_without_body() -> None:
    spider = spider_for("demo")
    url = BASE + "/xxgk/ndbg/202101/t20210106_1001.html"
    resp = Response(
        url, status=304, request=Request(url, meta={"kind": "report", "portal": "fixture-demo"})
    )
    items, requests = split(list(spider.parse_report(resp)))
    assert [(i.disposition, i.body) for i in items] == [("not_modified", None)] and requests == []


def test_report_redirected_to_home_page_is_classified() -> None:
    spider = spider_for("demo")
    asked = BASE + "/xxgk/ndbg/202101/t20210106_1001.html"
    meta = {"kind": "report", "portal": "fixture-demo", "redirect_urls": [asked]}
    home = HtmlResponse(
        BASE + "/",
        body=(FIXTURES / "portals/demo/index.html").read_bytes(),
        headers={"Content-Type": "text/html; charset=utf-8"},
        request=Request(BASE + "/", meta=meta),
    )
    items, _ = split(list(spider.parse_report(home)))
    assert (items[0].url, items[0].disposition) == (asked, "redirected")


def test_timeout_becomes_an_error_item_with_reason() -> None:
    spider = spider_for("demo")
    request = Request(BASE + "/slow.html", meta={"kind": "report", "portal": "fixture-demo"})
    failure = Failure(TxTimeoutError("took too long"))
    failure.request = request  # type: ignore[attr-defined]
    (item,) = list(spider.on_error(failure))
    assert item.disposition == "error" and item.reason is not None
    assert item.reason.startswith("timeout")


def test_unknown_portal_id_fails_fast() -> None:
    crawler = get_crawler(AnnualReportsSpider, {"GXCRAWL_STORE_ENABLED": False})
    with pytest.raises(ValueError, match="unknown portal id"):
        AnnualReportsSpider.from_crawler(crawler, portal="no-such-portal")


def test_default_registry_starts_from_enabled_real_portals() -> None:
    crawler = get_crawler(AnnualReportsSpider, {"GXCRAWL_STORE_ENABLED": False})
    spider = AnnualReportsSpider.from_crawler(crawler)
    assert len(spider.portals) >= 40
    assert all(p.enabled for p in spider.portals.values())
    assert "www.fjax.gov.cn" in spider.allowed_domains


def test_items_carry_canonical_url_and_detected_encoding() -> None:
    spider = spider_for("trs")
    path = "/xxgk/ndbg/202101/t20210115_4521041.htm"
    meta = {"kind": "report", "portal": "fixture-trs", "link_title": "x"}
    resp = response("trs", path, meta)
    resp = resp.replace(
        url=resp.url + "#content", request=Request(resp.url + "#content", meta=meta)
    )
    items, _ = split(list(spider.parse_report(resp)))
    assert items[0].url == BASE + path  # fragment gone
    assert items[0].requested_url == BASE + path + "#content"
    assert items[0].encoding == "gb18030"  # the header said utf-8
