"""Extraction in worker processes and the batched, ordered pipeline (issue 13): the same output
as in-process extraction, items written in arrival order with several per transaction, workers
that never outlive their crawl, and the translate-table `_norm` equal to the char-by-char one."""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import signal
import subprocess
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler
from sqlalchemy import text

from gxcrawl.extract.process import RawDocument, extract_document
from gxcrawl.extract.tables import _norm
from gxcrawl.extraction_pool import ExtractionPool, worker_extract
from gxcrawl.items import PageItem
from gxcrawl.pipelines import StorePipeline
from gxcrawl.spiders.annual_reports import AnnualReportsSpider
from gxcrawl.store.crawlstore import CrawlStore
from gxcrawl.vocab import DocumentKind

from .conftest import FIXTURES

PAGES = FIXTURES / "pages"
REPORTS = ["seed000_dongyi", "seed001_hanweb", "seed004_hacked", "variant_gbk"]
# Seconds a worker may take to notice its crawl died (it polls every second).
ORPHAN_GRACE = 10


def _doc(name: str) -> RawDocument:
    meta = json.loads((PAGES / f"{name}.headers.json").read_text("utf-8"))
    return RawDocument(
        body=(PAGES / f"{name}.html").read_bytes(), url=meta["url"], headers=meta["headers"]
    )


def _item(name: str) -> PageItem:
    meta = json.loads((PAGES / f"{name}.headers.json").read_text("utf-8"))
    return PageItem(
        url=meta["url"], kind=DocumentKind.REPORT, portal_id="fixture-demo", status=200,
        headers=meta["headers"], body=(PAGES / f"{name}.html").read_bytes(),
    )  # fmt: skip


def _norm_char_by_char(text: str) -> str:
    """The definition `_norm` must keep: NFKC char by char (expanding mappings kept as they
    are), whitespace removed."""
    out = []
    for ch in text:
        if ch.isspace():
            continue
        n = unicodedata.normalize("NFKC", ch)
        out.append(n if len(n) == 1 else ch)
    return "".join(out)


@pytest.mark.parametrize(
    "sample",
    [
        "（一）予以公开",
        "总 计\u3000１２３",
        "㍿ ﬁ ½ Ａｂ",
        "e\u0301 \t\n 申请人情况",
        "",
        "１,２３４万元",
    ],
)
def test_norm_is_nfkc_char_by_char_without_whitespace(sample: str) -> None:
    assert _norm(sample) == _norm_char_by_char(sample)


@pytest.mark.parametrize("name", REPORTS)
def test_worker_result_is_the_in_process_extraction(name: str) -> None:
    doc = _doc(name)
    out = worker_extract(doc)
    assert out is not None and out.result.content_root is None
    again = pickle.loads(pickle.dumps(out))  # it crosses a process boundary
    assert again.to_json_dict() == extract_document(doc).to_json_dict()
    assert again.to_json_dict()["tables"] or not name.startswith(("seed000", "seed001"))


def test_worker_reports_a_parser_exception_as_none(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(_: RawDocument) -> Any:
        raise RuntimeError("parser bug")

    monkeypatch.setattr("gxcrawl.extraction_pool.extract_document", explode)
    assert worker_extract(_doc("seed003_trs")) is None


def test_pool_extracts_in_another_process() -> None:
    async def run() -> list[Any]:
        pool = ExtractionPool(1)
        try:
            return list(await asyncio.gather(*(pool.submit(_doc(n)) for n in REPORTS)))
        finally:
            pool.close()

    results = asyncio.run(run())
    for name, out in zip(REPORTS, results, strict=True):
        assert out is not None
        assert out.to_json_dict() == extract_document(_doc(name)).to_json_dict()


def _pooled_pipeline(sqlite_url: str, batch: int, workers: int = 1) -> tuple[StorePipeline, Any]:
    settings = {"GXCRAWL_DATABASE_URL": sqlite_url, "GXCRAWL_BATCH_ITEMS": batch}
    crawler = get_crawler(AnnualReportsSpider, {**settings, "GXCRAWL_EXTRACT_WORKERS": workers})
    crawler.spider = AnnualReportsSpider.from_crawler(
        crawler, registry=str(FIXTURES / "portals/demo/portal.toml"), base_url="http://p.example"
    )
    return StorePipeline.from_crawler(crawler), crawler


def _stored_urls(crawler: Any) -> tuple[list[str], int]:
    store = CrawlStore.for_crawler(crawler)
    with store.db.transaction() as s:
        stored = [u for (u,) in s.execute(text("SELECT url FROM documents ORDER BY id"))]
        reports = s.execute(text("SELECT COUNT(*) FROM parsed_reports")).scalar()
    store.close()
    return stored, int(reports or 0)


def _items() -> list[PageItem]:
    items = [_item(n) for n in REPORTS]
    listing = PageItem(url="http://p.example/list/", kind=DocumentKind.LIST,
                       portal_id="fixture-demo", status=200, body=b"<html></html>")  # fmt: skip
    items.insert(2, listing)
    return items


@pytest.mark.parametrize("workers", [1, 2])  # 2: the writer extracts ahead in a pool of its own
def test_writer_process_writes_in_arrival_order_in_batches(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    monkeypatch.setattr("gxcrawl.writer_process.BATCH_LINGER", 1.0)  # batches by count only
    pipe, crawler = _pooled_pipeline(sqlite_url, batch=3, workers=workers)
    writer_pids: list[int | None] = []
    urls = _write_items(pipe, lambda p: writer_pids.append(p.writer.pid))
    stored, reports = _stored_urls(crawler)
    assert writer_pids[0] not in (None, os.getpid())  # written in another process
    assert stored == urls  # written in the order the items arrived
    assert reports == len(REPORTS)
    assert crawler.stats.get_value("gxcrawl/reports_stored") == len(REPORTS)
    # Five items handed over at once, three per transaction: two transactions.
    assert crawler.stats.get_value("gxcrawl/write_transactions") == 2


def _write_items(pipe: StorePipeline, opened: Any = None) -> list[str]:
    """Open the pipeline in an event loop (the writer process is used), call `opened(pipe)`,
    hand it the items and close it; the URLs of the items in the order they completed."""

    async def run() -> list[str]:
        pipe.open_spider()
        if opened is not None:
            opened(pipe)
        done = await asyncio.wait_for(
            asyncio.gather(*(pipe.process_item(i) for i in _items())), timeout=30
        )
        pipe.close_spider()
        return [i.url for i in done]

    return asyncio.run(run())


def _kill_writer(pipe: StorePipeline) -> None:
    assert pipe.writer is not None and pipe.writer.pid is not None
    os.kill(pipe.writer.pid, signal.SIGKILL)


def test_a_dead_writer_leaves_its_items_to_the_crawl(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    pipe, crawler = _pooled_pipeline(sqlite_url, batch=3)
    urls = _write_items(pipe, _kill_writer)
    stored, reports = _stored_urls(crawler)
    assert stored == urls and reports == len(REPORTS)  # nothing lost, still in order
    assert "the store writer process died" in caplog.text


_ORPHAN_SCRIPT = """
import asyncio, sys
from gxcrawl.extraction_pool import ExtractionPool
from gxcrawl.extract.process import RawDocument

async def main():
    pool = ExtractionPool(2)
    await pool.submit(RawDocument(body=b"<p>x</p>", url="http://x/"))
    print(" ".join(str(p) for p in pool._executor._processes), flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def _survivors_of_killing(proc: subprocess.Popen[str], children: list[int]) -> list[int]:
    """Kill -9 `proc`; the `children` still alive after ORPHAN_GRACE seconds (killed too, so a
    failing test never leaves them behind)."""
    assert children and all(_alive(p) for p in children)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + ORPHAN_GRACE
    while any(_alive(p) for p in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [p for p in children if _alive(p)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return left


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to watch the workers")
def test_workers_exit_when_their_crawl_is_killed() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _ORPHAN_SCRIPT], stdout=subprocess.PIPE, text=True, env=os.environ
    )
    assert proc.stdout is not None
    workers = [int(p) for p in proc.stdout.readline().split()]
    left = _survivors_of_killing(proc, workers)
    assert not left, f"workers {left} outlived their killed crawl"


def test_a_failing_writer_leaves_its_items_to_the_crawl(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in the writer process (not a page's: those are recorded per item) stops it; the
    crawl then writes what it had handed over itself instead of waiting forever."""
    from gxcrawl.writes import ItemWriter

    class Broken(ItemWriter):
        def write(self, jobs: list[Any]) -> list[Any]:
            raise RuntimeError("writer bug")

    monkeypatch.setattr("gxcrawl.writer_process.ItemWriter", Broken)  # the forked writer's only
    pipe, crawler = _pooled_pipeline(sqlite_url, batch=3)
    urls = _write_items(pipe)
    stored, reports = _stored_urls(crawler)
    assert stored == urls and reports == len(REPORTS)
    assert "the store writer process died" in caplog.text


_WRITER_ORPHAN_SCRIPT = """
import asyncio, sys
from gxcrawl.store.db import Database
from gxcrawl.writer_process import WriterConfig, WriterProcess

async def main():
    writer = WriterProcess(Database(sys.argv[1]), WriterConfig(None, 25, 2))
    print(writer.pid, flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to watch the writer")
def test_the_writer_exits_when_its_crawl_is_killed(sqlite_url: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER_ORPHAN_SCRIPT, sqlite_url],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ,
    )
    assert proc.stdout is not None
    writer = int(proc.stdout.readline())
    assert not _survivors_of_killing(proc, [writer]), f"writer {writer} outlived its crawl"
