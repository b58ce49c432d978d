"""Extraction in worker processes, so the crawl's reactor keeps fetching while pages are parsed
and a second core does the parsing.

The pool runs the one entry point, `extract_document`, on a `RawDocument` (plain, picklable
data) and hands back the `Extraction` without its lxml tree (elements do not cross processes).
A document whose extraction raised comes back as None: the pipeline then extracts it again in
its own process, where the failure is logged and recorded exactly as it always was.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor

from gxcrawl.extract.process import Extraction, RawDocument, extract_document

# Workers when GXCRAWL_EXTRACT_WORKERS is unset (-1): every core but the one the reactor and the
# database writes run on, at least one.
AUTO_WORKERS = -1


# Seconds between a worker's checks that the crawl that forked it is still alive.
PARENT_POLL_SECONDS = 1.0


def default_workers() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


def init_worker(parent_pid: int) -> None:
    """In each worker: the crawl's signal handlers are not the worker's (Ctrl-C and SIGTERM go
    to the crawl, which shuts the pool down), and a worker whose crawl died (kill -9) exits
    instead of waiting forever on a pipe it holds open itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent_watch(parent_pid)


def parent_watch(parent_pid: int) -> None:
    """Exit this (forked) process soon after `parent_pid`, its crawl, dies."""
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()


def _exit_with_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(0)


def worker_extract(doc: RawDocument) -> Extraction | None:
    """Runs in a worker process: the extraction as picklable data, or None if it raised."""
    try:
        out = extract_document(doc)
    except Exception:  # re-run in the crawl's process, which records the failure
        return None
    out.result.content_root = None  # an lxml element cannot be pickled; nobody needs it after
    return out


class ExtractionPool:
    """A process pool of `workers` extraction workers, forked once per crawl."""

    def __init__(self, workers: int) -> None:
        # fork: the workers start in milliseconds with gxcrawl already imported, and they only
        # run pure extraction (no sockets, no database handles are used in them).
        context = multiprocessing.get_context("fork")
        self.workers = workers
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=init_worker,
            initargs=(os.getpid(),),
        )

    @classmethod
    def available(cls) -> bool:
        """Worker processes need `fork` (Linux, BSD; not Windows)."""
        return "fork" in multiprocessing.get_all_start_methods()

    def submit(self, doc: RawDocument) -> asyncio.Future[Extraction | None]:
        """Extract `doc` in a worker; the future completes on the running event loop."""
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._executor, worker_extract, doc)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
