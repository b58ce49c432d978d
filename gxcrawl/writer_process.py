"""The store writer process: extraction and database writes off the crawl's reactor.

The crawl's process (Scrapy's reactor) only hands each PageItem over; one forked writer process
extracts report pages and files and writes whole items, in arrival order, several per
transaction (`GXCRAWL_BATCH_ITEMS`). So the reactor keeps fetching at nearly bare-Scrapy speed
while a second core parses and writes. With more than one worker configured
(`GXCRAWL_EXTRACT_WORKERS`), the writer extracts a batch ahead in its own extraction pool.

Replies (the stats each item earned, or its error) come back on a queue that a thread of the
crawl's process reads and hands to the event loop, which completes the items' futures: Scrapy
counts an item as processed only once it is committed.

Dying: the writer exits when its crawl dies (`kill -9`) and never commits after that (whole
batches or nothing, as before). If the writer itself dies, the crawl says so in its log and
writes the items it had handed over, and every later one, in its own process.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any

from gxcrawl.extract.process import Extraction
from gxcrawl.extraction_pool import init_worker, parent_watch, worker_extract
from gxcrawl.ingest import SnapshotInput, raw_document
from gxcrawl.store.db import Database
from gxcrawl.writes import ItemWriter, WriteJob, Written

log = logging.getLogger(__name__)

# Seconds the writer waits for more items to fill a batch once it has one: short against a
# crawl, long against the time between two items of a busy crawl.
BATCH_LINGER = 0.05
# Seconds between the writer's checks that its crawl is alive while it has nothing to do.
IDLE_POLL = 0.25
# Seconds the crawl waits at close for the writer to finish and exit.
CLOSE_TIMEOUT = 60.0
_STOP = None  # sentinel on both queues: no more items / the writer has finished


@dataclass(frozen=True)
class WriterConfig:
    recheck_after: dt.timedelta | None
    batch_items: int
    workers: int  # extraction processes in all, the writer included


Reply = tuple[int, list[Written]]  # (sequence number of the first job, one Written per job)


class WriterProcess:
    """The crawl's side of the writer: submit items, get futures completed on the loop."""

    def __init__(self, db: Database, config: WriterConfig) -> None:
        context = multiprocessing.get_context("fork")
        self._jobs: Any = context.Queue()
        self._replies: Any = context.Queue()
        self._loop = asyncio.get_running_loop()
        self._pending: dict[int, tuple[WriteJob, asyncio.Future[Written]]] = {}
        self._next = 0
        self.dead = False
        self.died: Callable[[list[tuple[WriteJob, asyncio.Future[Written]]]], None] | None = None
        self._process: BaseProcess = context.Process(
            target=_writer_main,
            args=(self._jobs, self._replies, os.getpid(), db, config),
            name="gxcrawl-writer",
            daemon=False,  # it has extraction workers of its own; close() always joins it
        )
        self._process.start()
        self._reader = threading.Thread(target=self._read_replies, daemon=True)
        self._reader.start()

    @classmethod
    def available(cls) -> bool:
        return "fork" in multiprocessing.get_all_start_methods()

    @property
    def backlog(self) -> int:
        """Items handed over and not yet written."""
        return len(self._pending)

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def submit(self, job: WriteJob) -> asyncio.Future[Written]:
        future: asyncio.Future[Written] = self._loop.create_future()
        seq, self._next = self._next, self._next + 1
        self._pending[seq] = (job, future)
        self._jobs.put((seq, job))  # pickled and sent by the queue's feeder thread
        return future

    def close(self) -> None:
        """No more items: let the writer finish what it has, then wait for it."""
        self._jobs.put(_STOP)
        self._process.join(CLOSE_TIMEOUT)
        if self._process.is_alive():
            log.error("the store writer did not finish in %.0f s; stopping it", CLOSE_TIMEOUT)
            self._process.terminate()
            self._process.join(5)
        self._reader.join(5)
        self._jobs.close()
        if self.dead:  # nobody reads the queue: its feeder may never get its last bytes out
            self._jobs.cancel_join_thread()
        self._jobs.join_thread()

    # ------------------------------------------------------------------ replies (reader thread)

    def _read_replies(self) -> None:
        while True:
            try:
                reply = self._replies.get(timeout=IDLE_POLL)
            except queue.Empty:
                if self._process.is_alive():
                    continue
                try:  # the writer may have put its last replies just before it exited
                    reply = self._replies.get(timeout=IDLE_POLL)
                except queue.Empty:
                    self._call(self._on_death)
                    return
            if reply is _STOP:  # finished, or failed: then items are left pending
                self._call(self._on_stop)
                return
            self._call(self._on_reply, reply)

    def _call(self, func: Callable[..., None], *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: the crawl is over
            self._loop.call_soon_threadsafe(func, *args)

    # ------------------------------------------------------------------ on the event loop

    def _on_reply(self, reply: Reply) -> None:
        first, written = reply
        for seq, result in enumerate(written, start=first):
            _, future = self._pending.pop(seq)
            if not future.done():
                future.set_result(result)

    def _on_stop(self) -> None:
        if self._pending:
            self._on_death()

    def _on_death(self) -> None:
        self.dead = True
        log.error(
            "the store writer process died (exit code %s) with %d items not written: the crawl "
            "writes them, and every later item, itself",
            self._process.exitcode,
            len(self._pending),
        )
        orphans = [self._pending.pop(seq) for seq in sorted(self._pending)]
        if self.died is not None:
            self.died(orphans)


# ---------------------------------------------------------------------- the writer process


def _writer_main(jobs: Any, replies: Any, parent: int, db: Database, config: WriterConfig) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the crawl's: it closes us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent_watch(parent)
    # What the fork inherited (Scrapy, the crawl's objects) lives as long as we do: keep the
    # cyclic collector from traversing it again on every full collection.
    gc.freeze()
    db.engine.dispose(close=False)  # the crawl's connections are the crawl's: open our own

    def crawl_alive() -> None:
        if os.getppid() != parent:
            os._exit(0)  # the crawl died: never commit after it (its items are fetched again)

    writer = ItemWriter(db, config.recheck_after, before_commit=crawl_alive)
    pool = _extraction_pool(config.workers - 1)
    code = 0
    try:
        while (batch := _take_batch(jobs, config.batch_items, crawl_alive)) is not None:
            first = batch[0][0]
            batch_jobs = [job for _, job in batch]
            if pool is not None:
                _extract_ahead(pool, batch_jobs)
            replies.put((first, writer.write(batch_jobs)))
    except Exception:
        log.exception("the store writer failed")
        code = 1
    finally:
        replies.put(_STOP)
        replies.close()
        replies.join_thread()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        db.engine.dispose()
    os._exit(code)  # skip the crawl's atexit handlers and finalizers inherited by the fork


def _take_batch(jobs: Any, size: int, crawl_alive: Callable[[], None]) -> list[Any] | None:
    """The next batch of (seq, job) in arrival order, or None once the crawl says stop."""
    while True:
        try:
            first = jobs.get(timeout=IDLE_POLL)
            break
        except queue.Empty:
            crawl_alive()
    if first is _STOP:
        return None
    batch = [first]
    deadline = time.monotonic() + BATCH_LINGER
    while len(batch) < size:
        try:
            more = jobs.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if more is _STOP:
            jobs.put(_STOP)  # seen after this batch is written
            break
        batch.append(more)
    return batch


def _extraction_pool(workers: int) -> ProcessPoolExecutor | None:
    if workers <= 0:
        return None
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=init_worker,
        initargs=(os.getpid(),),
    )


def _extract_ahead(pool: ProcessPoolExecutor, jobs: list[WriteJob]) -> None:
    """Extract the batch's report pages and files in the pool, the writer taking its share."""
    futures: list[tuple[WriteJob, Future[Extraction | None]]] = []
    for job in jobs:
        if job.ahead:
            futures.append((job, pool.submit(worker_extract, _raw(job))))
    for job, future in futures:
        try:
            job.extraction = future.result()
        except Exception:  # a worker died: the write extracts it itself
            job.extraction = None


def _raw(job: WriteJob) -> Any:
    item = job.item
    snap = SnapshotInput(
        0, 0, item.url, item.kind, item.portal_id, item.body or b"", item.headers,
        item.link_title, standalone=item.parent_url is None,
    )  # fmt: skip
    return raw_document(None, snap, job.hints)
