"""Item pipeline: a thin adapter from PageItems to the store (gxcrawl/writes.py).

Whole items or nothing: the raw response, its snapshot, its change record and its parsed report
are written in one transaction, so a crawl killed at any moment (even `kill -9`) loses no
half-item. In a crawl, several items share a transaction (`GXCRAWL_BATCH_ITEMS`): a kill loses
the last uncommitted batch whole, and the next run fetches it again.

In a crawl (a running event loop) the items go to the store writer process
(gxcrawl/writer_process.py), which extracts and writes them in arrival order on another core:
the reactor never parses or waits for the database. Without an event loop (tests, tools calling
`process_item` directly) or with `GXCRAWL_EXTRACT_WORKERS=0`, each item is extracted and
written at once, in this process, in a transaction of its own.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from gxcrawl.config import crawl_config
from gxcrawl.extract.types import PortalHints
from gxcrawl.extraction_pool import AUTO_WORKERS, default_workers
from gxcrawl.health import WRITE_ERRORS_STAT
from gxcrawl.items import PageItem
from gxcrawl.store import repository as repo
from gxcrawl.store.crawlstore import CrawlStore, require_store
from gxcrawl.writer_process import WriterConfig, WriterProcess
from gxcrawl.writes import ItemWriter, WriteJob, Written, fetch_record, needs_extraction

__all__ = ["StorePipeline", "WriteFailed", "fetch_record"]

log = logging.getLogger(__name__)


class WriteFailed(RuntimeError):
    """An item the store could not write (the message is the database's or the parser's)."""


class StorePipeline:
    def __init__(self, crawler: Any) -> None:
        require_store(crawler)
        config = crawl_config(crawler)
        self.crawler = crawler
        self.stats = crawler.stats
        self.recheck = config.recheck_after
        self.batch_items = max(1, config.batch_items)
        workers = config.extract_workers
        self.workers = default_workers() if workers == AUTO_WORKERS else max(0, workers)
        self.writer: WriterProcess | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        # The crawl run itself is started by CrawlRunExtension when the spider opens.
        self.store = CrawlStore.for_crawler(self.crawler)
        self.local = ItemWriter(self.store.db, self.recheck)
        if self.workers and _loop_running() and WriterProcess.available():
            config = WriterConfig(self.recheck, self.batch_items, self.workers)
            self.writer = WriterProcess(self.store.db, config)
            self.writer.died = self._write_orphans

    def close_spider(self) -> None:
        # Scrapy closes the spider once every item's future has completed: nothing is pending.
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem):
            return item
        job = WriteJob(item, self._hints(item), self.store.run_id)
        if self.writer is None or self.writer.dead:
            self._finish(item, self.local.write([job])[0])
            return item
        # Only a writer with an extraction pool extracts ahead: the hash check is wasted otherwise.
        job.ahead = self.workers > 1 and self._worth_extracting(item)
        future = self.writer.submit(job)
        # Items handed over and not yet written (held in this process until they are).
        self.stats.max_value("gxcrawl/writer_backlog_max", self.writer.backlog)
        return asyncio.ensure_future(self._written(item, future))

    async def _written(self, item: PageItem, future: asyncio.Future[Written]) -> PageItem:
        self._finish(item, await future)
        return item

    def _finish(self, item: PageItem, written: Written) -> None:
        """Count what the committed item earned; an item that could not be written fails as an
        item (Scrapy logs it with the item's URL)."""
        if written.error is not None:
            self.stats.inc_value(WRITE_ERRORS_STAT)  # the run is judged unhealthy
            raise WriteFailed(f"{item.url}: {written.error}")
        for key in written.stats:
            self.stats.inc_value(key)

    def _worth_extracting(self, item: PageItem) -> bool:
        """A report page or file whose body is not the stored one (a cheap hash check)."""
        if not needs_extraction(item):
            return False
        known = self.store.url_state(item.url)
        return known is None or known.content_sha256 != repo.sha256(item.body or b"")

    def _write_orphans(self, orphans: list[tuple[WriteJob, asyncio.Future[Written]]]) -> None:
        """The writer died: write what it had not, here (whole items; a batch it committed
        without replying is found unchanged and stores nothing new)."""
        for job, future in orphans:
            if not future.done():
                future.set_result(self.local.write([job])[0])

    def _hints(self, item: PageItem) -> PortalHints:
        """What the registry says about the item's portal (agency of last resort, region)."""
        portal = getattr(self.crawler.spider, "portals", {}).get(item.portal_id)
        return portal.hints() if portal is not None else PortalHints(portal_id=item.portal_id)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
