"""StorePipeline on a real SQLite database: raw first, parsed second, one transaction per item."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from scrapy.utils.test import get_crawler
from sqlalchemy import text

from gxcrawl import ingest
from gxcrawl.items import PageItem
from gxcrawl.pipelines import StorePipeline
from gxcrawl.spiders.annual_reports import AnnualReportsSpider
from gxcrawl.store.crawlstore import CrawlStore

from .conftest import FIXTURES

PAGES = FIXTURES / "pages"


@pytest.fixture
def pipeline(sqlite_url: str) -> Iterator[tuple[StorePipeline, Any]]:
    crawler = get_crawler(AnnualReportsSpider, {"GXCRAWL_DATABASE_URL": sqlite_url})
    spider = AnnualReportsSpider.from_crawler(
        crawler, registry=str(FIXTURES / "portals/demo/portal.toml"), base_url="http://p.example"
    )
    crawler.spider = spider
    pipe = StorePipeline.from_crawler(crawler)
    pipe.open_spider()
    yield pipe, crawler
    CrawlStore.for_crawler(crawler).close()


def page_item(name: str, **kw: Any) -> PageItem:
    meta = json.loads((PAGES / f"{name}.headers.json").read_text("utf-8"))
    return PageItem(
        url=meta["url"],
        kind=kw.pop("kind", "report"),
        portal_id="fixture-demo",
        status=meta.get("status", 200),
        headers=meta["headers"],
        body=(PAGES / f"{name}.html").read_bytes(),
        **kw,
    )


def rows(crawler: Any, sql: str) -> list[Any]:
    with CrawlStore.for_crawler(crawler).db.transaction() as s:
        return [tuple(r) for r in s.execute(text(sql))]


def test_report_item_is_stored_raw_and_parsed(pipeline: tuple[StorePipeline, Any]) -> None:
    pipe, crawler = pipeline
    item = page_item("seed003_trs")
    pipe.process_item(item)
    gold = json.loads((PAGES / "seed003_trs.gold.json").read_text("utf-8"))
    (title, agency, year, n_findings), *_ = rows(
        crawler, "SELECT title, agency, year, n_findings FROM reports"
    )
    assert (title, agency, year) == (gold["title"], gold["agency"], gold["year"])
    assert n_findings > 0  # seed 003's application table does not add up
    (body,) = rows(crawler, "SELECT b.data FROM bodies b")[0]
    assert body == item.body  # the raw bytes, not a re-encoding
    assert rows(crawler, "SELECT COUNT(*) FROM facts")[0][0] > 100


def test_same_item_twice_stores_nothing_new(pipeline: tuple[StorePipeline, Any]) -> None:
    pipe, crawler = pipeline
    pipe.process_item(page_item("seed000_dongyi"))
    pipe.process_item(page_item("seed000_dongyi"))
    counts = rows(
        crawler,
        "SELECT (SELECT COUNT(*) FROM snapshots), (SELECT COUNT(*) FROM parsed_reports), "
        "(SELECT COUNT(*) FROM fetches)",
    )
    assert counts == [(1, 1, 2)]
    assert crawler.stats.get_value("gxcrawl/outcome/unchanged") == 1


def test_gbk_page_is_parsed_from_its_bytes(pipeline: tuple[StorePipeline, Any]) -> None:
    pipe, crawler = pipeline
    pipe.process_item(page_item("variant_gbk"))
    gold = json.loads((PAGES / "variant_gbk.gold.json").read_text("utf-8"))
    assert rows(crawler, "SELECT title FROM reports") == [(gold["title"],)]


def test_blocked_and_failed_items_never_become_reports(pipeline: tuple[StorePipeline, Any]) -> None:
    pipe, crawler = pipeline
    pipe.process_item(
        page_item("seed001_hanweb", disposition="blocked", reason="blocked: HTTP 412")
    )
    pipe.process_item(
        PageItem(url="http://p.example/x.html", kind="report", portal_id="fixture-demo",
                 disposition="error", reason="timeout: took too long")
    )  # fmt: skip
    assert rows(crawler, "SELECT COUNT(*) FROM parsed_reports") == [(0,)]
    outcomes = rows(crawler, "SELECT outcome, reason FROM fetches ORDER BY id")
    assert outcomes == [("blocked", "blocked: HTTP 412"), ("error", "timeout: took too long")]


def test_lookalike_page_is_stored_raw_but_not_as_report(
    pipeline: tuple[StorePipeline, Any],
) -> None:
    pipe, crawler = pipeline
    # the notice about compiling reports, fetched as if its link had looked like a report
    body = FIXTURES / "portals/demo/xxgk/ndbg/202012/t20201210_200.html"
    item = PageItem(
        url="http://p.example/notice.html", kind="report", portal_id="fixture-demo", status=200,
        headers={"Content-Type": "text/html; charset=utf-8"}, body=body.read_bytes(),
    )  # fmt: skip
    pipe.process_item(item)
    assert rows(crawler, "SELECT COUNT(*) FROM snapshots") == [(1,)]
    assert rows(crawler, "SELECT COUNT(*) FROM parsed_reports") == [(0,)]
    assert crawler.stats.get_value("gxcrawl/parsed/not_a_report") == 1


def test_parser_crash_keeps_the_raw_page(
    pipeline: tuple[StorePipeline, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    pipe, crawler = pipeline

    def explode(*_: Any, **__: Any) -> Any:
        raise RuntimeError("parser bug")

    monkeypatch.setattr("gxcrawl.ingest.extract_document", explode)
    pipe.process_item(page_item("seed002_share_nav"))
    assert rows(crawler, "SELECT COUNT(*) FROM snapshots") == [(1,)]
    assert rows(crawler, "SELECT COUNT(*) FROM parsed_reports") == [(0,)]
    assert crawler.stats.get_value("gxcrawl/parse_errors") == 1
    assert rows(crawler, "SELECT reason FROM fetches") == [("RuntimeError: parser bug",)]


def test_a_page_past_its_time_budget_is_recorded_parse_timeout(
    pipeline: tuple[StorePipeline, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real entry point with a budget no page can meet: the raw page is kept, the fetch
    says `parse_timeout`, nothing half-parsed is stored."""
    pipe, crawler = pipeline
    real = ingest.extract_document

    def no_time(doc: Any) -> Any:
        return real(dataclasses.replace(doc, time_budget=1e-9))

    monkeypatch.setattr("gxcrawl.ingest.extract_document", no_time)
    pipe.process_item(page_item("seed002_share_nav"))
    assert rows(crawler, "SELECT COUNT(*) FROM snapshots") == [(1,)]
    assert rows(crawler, "SELECT COUNT(*) FROM parsed_reports") == [(0,)]
    ((reason,),) = rows(crawler, "SELECT reason FROM fetches")
    assert reason.startswith("parse_timeout: over budget in ")


def test_snapshot_records_requested_url_and_encoding(pipeline: tuple[StorePipeline, Any]) -> None:
    pipe, crawler = pipeline
    item = page_item(
        "variant_gbk", requested_url="http://p.example/Asked?b=1&a=2", encoding="gb18030"
    )
    pipe.process_item(item)
    assert rows(crawler, "SELECT requested_url, encoding FROM snapshots") == [
        ("http://p.example/Asked?b=1&a=2", "gb18030")
    ]
