"""Item pipeline: a thin adapter from PageItems to the store and the extraction functions.

Whole items or nothing: the raw response, its snapshot, its change record and its parsed report
are written in one transaction, so a crawl killed at any moment (even `kill -9`) loses no
half-item. In a crawl, several items share a transaction (`GXCRAWL_BATCH_ITEMS`): a kill loses
the last uncommitted batch whole, and the next run fetches it again.

In a crawl (a running event loop) report pages and files are extracted ahead of their write in
worker processes (`GXCRAWL_EXTRACT_WORKERS`), so parsing uses the other cores and never blocks
the reactor; items are still written in the order they arrived. Without an event loop (tests,
tools calling `process_item` directly) or with 0 workers, each item is extracted and written at
once, in this process, in a transaction of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError

from gxcrawl.config import crawl_config
from gxcrawl.extract.process import Extraction
from gxcrawl.extract.types import PortalHints
from gxcrawl.extraction_pool import AUTO_WORKERS, ExtractionPool, default_workers
from gxcrawl.ingest import SnapshotInput, extract_and_save, raw_document, record_parse_failure
from gxcrawl.items import PageItem
from gxcrawl.store import repository as repo
from gxcrawl.store.crawlstore import CrawlStore, require_store
from gxcrawl.store.models import utcnow
from gxcrawl.vocab import DocumentKind, ParseOutcome, outcome_stat

log = logging.getLogger(__name__)

# Seconds ready items may wait behind a slow extraction before they are written anyway: short
# against a crawl, long against the few ms an extraction takes.
FLUSH_SECONDS = 0.5
_EXTRACTED_KINDS = (DocumentKind.REPORT, DocumentKind.ATTACHMENT)


# Tries of one transaction that the database rolled back (deadlock, busy): concurrent workers
# deadlock now and then; a retry of the same whole items then goes through.
WRITE_ATTEMPTS = 3


@dataclass
class _Job:
    """An item waiting for its write: its extraction (if sent ahead) and who awaits it."""

    item: PageItem
    hints: PortalHints
    ahead: asyncio.Future[Extraction | None] | None
    done: asyncio.Future[Any]

    def ready(self) -> bool:
        return self.ahead is None or self.ahead.done()

    def extraction(self) -> Extraction | None:
        if self.ahead is None or self.ahead.cancelled() or self.ahead.exception() is not None:
            return None  # not sent, or the worker died: extracted in this process instead
        return self.ahead.result()


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
        self.pool: ExtractionPool | None = None
        self._queue: deque[_Job] = deque()
        self._timer: asyncio.TimerHandle | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        # The crawl run itself is started by CrawlRunExtension when the spider opens.
        self.store = CrawlStore.for_crawler(self.crawler)
        if self.workers and _loop_running() and ExtractionPool.available():
            self.pool = ExtractionPool(self.workers)

    def close_spider(self) -> None:
        # Scrapy closes the spider once every item's future has completed: the queue is empty.
        self._write_ready(force=True)
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem):
            return item
        if self.pool is None:
            self._write([(item, self._hints(item), None)])
            return item
        job = _Job(item, self._hints(item), self._send_ahead(item), _new_future())
        self._queue.append(job)
        if job.ahead is not None:
            job.ahead.add_done_callback(lambda _: self._write_ready())
        self._write_ready()
        return job.done

    # ------------------------------------------------------------------ ahead-of-write extraction

    def _send_ahead(self, item: PageItem) -> asyncio.Future[Extraction | None] | None:
        """Extract in a worker now what the write will most likely need: a report page or file
        whose body differs from the stored one (a cheap hash check first)."""
        assert self.pool is not None
        if item.kind not in _EXTRACTED_KINDS or item.body is None or not item.body:
            return None
        known = self.store.url_state(item.url)
        if known is not None and known.content_sha256 == repo.sha256(item.body):
            return None  # unchanged content: no new version, nothing to extract
        snap = SnapshotInput(
            0, 0, item.url, item.kind, item.portal_id, item.body, item.headers,
            item.link_title, standalone=item.parent_url is None,
        )  # fmt: skip
        return self.pool.submit(raw_document(None, snap, self._hints(item)))

    def _write_ready(self, *, force: bool = False) -> None:
        """Write the ready items at the head of the queue, in arrival order: a full batch, or
        every ready item when no extraction is pending, or when FLUSH_SECONDS pass."""
        while True:
            ready = 0
            while ready < len(self._queue) and self._queue[ready].ready():
                ready += 1
            # Under load workers are busy and batches fill; an idle crawl writes at once (a
            # kill -9 then loses no more than it would without batching).
            waiting = ready < len(self._queue)
            if ready == 0 or (ready < self.batch_items and waiting and not force):
                break
            jobs = [self._queue.popleft() for _ in range(min(ready, self.batch_items))]
            self._write_jobs(jobs)
        if self._queue and self._queue[0].ready() and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(FLUSH_SECONDS, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._write_ready(force=True)

    def _write_jobs(self, jobs: list[_Job], attempt: int = 1) -> None:
        try:
            self._write([(j.item, j.hints, j.extraction()) for j in jobs])
        except Exception as exc:
            if isinstance(exc, OperationalError) and attempt < WRITE_ATTEMPTS:
                # A deadlock or a busy database (workers writing at once): the transaction was
                # rolled back whole, so writing the same items again is safe.
                self.stats.inc_value("gxcrawl/write_retries")
                self._write_jobs(jobs, attempt + 1)
                return
            if len(jobs) == 1:
                jobs[0].done.set_exception(exc)  # Scrapy logs it, as for any failed item
                return
            # One bad item must not take its batch with it: each alone, as without batching.
            for job in jobs:
                self._write_jobs([job])
            return
        for job in jobs:
            job.done.set_result(job.item)

    # ------------------------------------------------------------------ the write

    def _write(self, batch: list[tuple[PageItem, PortalHints, Extraction | None]]) -> None:
        """One transaction for the batch, whole items only."""
        with self.store.db.transaction() as session:
            for item, hints, ahead in batch:
                self._store_item(session, item, hints, ahead)

    def _store_item(
        self, session: Any, item: PageItem, hints: PortalHints, ahead: Extraction | None
    ) -> None:
        # List pages are revisited every run; reports and files only when due.
        recheck = None if item.kind == DocumentKind.LIST else self.recheck
        stored = repo.record_fetch(
            session, fetch_record(item), run_id=self.store.run_id, recheck_after=recheck
        )
        self.stats.inc_value(outcome_stat(stored.outcome))
        if stored.change:
            self.stats.inc_value(f"gxcrawl/change/{stored.change}")
        if stored.is_new_version and item.body is not None and item.kind != DocumentKind.LIST:
            self._extract(session, self._snapshot(item, stored), hints, ahead)

    def _hints(self, item: PageItem) -> PortalHints:
        """What the registry says about the item's portal (agency of last resort, region)."""
        portal = getattr(self.crawler.spider, "portals", {}).get(item.portal_id)
        return portal.hints() if portal is not None else PortalHints(portal_id=item.portal_id)

    def _snapshot(self, item: PageItem, stored: repo.StoredFetch) -> SnapshotInput:
        assert item.body is not None and stored.snapshot_id is not None
        return SnapshotInput(
            stored.snapshot_id, stored.document_id, item.url, item.kind, item.portal_id,
            item.body, item.headers, item.link_title, standalone=item.parent_url is None,
            run_id=self.store.run_id, fresh=True,  # a new version: record_fetch just made it
        )  # fmt: skip

    def _extract(
        self, session: Any, snap: SnapshotInput, hints: PortalHints, ahead: Extraction | None
    ) -> None:
        try:
            with session.begin_nested():  # a parser bug must not lose the raw page
                what = extract_and_save(session, snap, hints, ahead)
        except DBAPIError:
            raise  # the database's trouble, not the page's: the whole write is retried
        except Exception as exc:
            self.stats.inc_value("gxcrawl/parse_errors")
            log.exception("extraction failed for %s; raw snapshot kept", snap.url)
            record_parse_failure(session, snap, exc)
            return
        self.stats.inc_value(f"gxcrawl/parsed/{what}")
        if what == ParseOutcome.REPORT:
            self.stats.inc_value("gxcrawl/reports_stored")
        elif what == ParseOutcome.NOT_A_REPORT:
            log.info("not a report after all: %s", snap.url)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _new_future() -> asyncio.Future[Any]:
    return asyncio.get_running_loop().create_future()


def fetch_record(item: PageItem) -> repo.FetchRecord:
    """A spider's PageItem as the store's input."""
    return repo.FetchRecord(
        url=item.url,
        kind=item.kind,
        method=item.method,
        requested_url=item.requested_url,
        final_url=item.final_url,
        status=item.status,
        headers=item.headers,
        body=item.body,
        encoding=item.encoding,
        fetched_at=item.fetched_at or utcnow(),
        portal_id=item.portal_id,
        link_title=item.link_title,
        parent_url=item.parent_url,
        disposition=item.disposition,
        reason=item.reason,
        conditional=item.conditional,
        body_size=len(item.body or b""),
    )
