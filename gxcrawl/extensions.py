"""Crawl-run bookkeeping: a `crawl_runs` row per crawl, progress lines, final stats."""

from __future__ import annotations

import logging
import os
import signal
import threading
from functools import partial
from pathlib import Path
from typing import Any

from scrapy import signals
from twisted.internet import task

from gxcrawl import health
from gxcrawl.config import crawl_config
from gxcrawl.store.crawlstore import CrawlStore, jsonable_stats, require_store
from gxcrawl.store.db import redacted
from gxcrawl.vocab import Outcome, RunStatus, outcome_stat

log = logging.getLogger(__name__)

# Scrapy close reasons -> run status. 'shutdown' is Ctrl-C / SIGTERM (resumable with JOBDIR).
STATUS_BY_REASON = {"finished": RunStatus.FINISHED, "shutdown": RunStatus.INTERRUPTED}


def run_status(reason: str) -> RunStatus:
    """A Scrapy close reason as a run status: CloseSpider limits are a normal end."""
    if reason in STATUS_BY_REASON:
        return STATUS_BY_REASON[reason]
    return RunStatus.FINISHED if reason.startswith("closespider") else RunStatus.FAILED


class CrawlRunExtension:
    def __init__(self, crawler: Any) -> None:
        require_store(crawler)
        self.crawler = crawler
        self.interval = crawl_config(crawler).progress_interval
        self._loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlRunExtension:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        store = CrawlStore.for_crawler(self.crawler)
        run_id = store.start_run(
            spider.name, spider.portal_rows() if hasattr(spider, "portal_rows") else []
        )
        self.crawler.stats.set_value("gxcrawl/run_id", run_id)
        log.info("crawl run %s started; database %s", run_id, redacted(store.db.url))
        if self.interval > 0:
            self._loop = task.LoopingCall(self._progress)
            self._loop.start(self.interval, now=False)

    def _progress(self) -> None:
        get = self.crawler.stats.get_value
        log.info(
            "progress: %s responses, %s reports stored, %s unchanged, %s blocked, %s errors",
            get("response_received_count", 0),
            get("gxcrawl/reports_stored", 0),
            get(outcome_stat(Outcome.UNCHANGED), 0),
            get(outcome_stat(Outcome.BLOCKED), 0),
            get(outcome_stat(Outcome.ERROR), 0),
        )

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        store = CrawlStore.for_crawler(self.crawler)
        stats = jsonable_stats(self.crawler.stats.get_stats())
        stats["gxcrawl/lookalikes"] = sorted(getattr(spider, "lookalikes", {}).values())
        status = run_status(reason)
        store.finish_run(status, reason, stats)
        log.info("crawl run %s %s (%s)", store.run_id, status, reason)
        try:
            store.refresh_quality()
        except Exception:  # the run's data is stored; `scrapy quality` recomputes by hand
            log.exception("report_quality not refreshed; run `scrapy quality`")
        store.close()


# The crawl process's own peak RSS in bytes, read when the engine stops (after the run's
# bookkeeping and quality refresh). Scrapy's `memusage/max` reads getrusage's ru_maxrss, which a
# process started by a bigger one (Scrapyd, a bench, a notebook) inherits from it at exec: that
# figure can be the parent's memory, not the crawl's.
PEAK_RSS_STAT = "gxcrawl/peak_rss_bytes"


def peak_rss_bytes(status_file: Path = Path("/proc/self/status")) -> int | None:
    """This process's peak resident set (Linux `VmHWM`), or None where /proc does not say."""
    return proc_status_bytes(status_file, "VmHWM")


def proc_status_bytes(status_file: Path, field: str) -> int | None:
    """A memory field (`VmHWM`, `VmRSS`, … in kB) of a /proc/<pid>/status file, in bytes; None
    when the file or the field is absent (not Linux, or the process has gone)."""
    try:
        status = status_file.read_text("ascii", errors="replace")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    return None


class StatsFileExtension:
    """Write the final crawl stats as JSON to GXCRAWL_STATS_FILE (for cron checks and the bench),
    with the crawl process's own peak RSS (`gxcrawl/peak_rss_bytes`) added to them first.

    Written when the engine stops, after the health monitors (loaded before this extension), so
    the file carries `gxcrawl/health/status` and its reasons; atomically, and a failed write is
    an error (exit code 4) that never leaves the previous run's stats looking current.
    """

    def __init__(self, crawler: Any, path: str) -> None:
        self.crawler = crawler
        self.path = path

    @classmethod
    def from_crawler(cls, crawler: Any) -> StatsFileExtension:
        # No NotConfigured when unset: Scrapy would log a warning on every ordinary crawl.
        ext = cls(crawler, crawl_config(crawler).stats_file)
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    def engine_stopped(self) -> None:
        peak = peak_rss_bytes()
        if peak is not None:
            self.crawler.stats.set_value(PEAK_RSS_STAT, peak)
        if not self.path:
            return
        stats = jsonable_stats(self.crawler.stats.get_stats())
        try:
            health.write_stats_file(self.path, stats)
        except health.StatsFileError as exc:
            log.error("%s", exc)
            health.note_exit_code(health.EXIT_STATS_FILE)


# A reactor blocked (a parse stuck in C code) cannot run the watchdog: a thread ends the process
# after this many graces; the run, left `running`, is marked `interrupted` by the next crawl.
HARD_EXIT_GRACES = 3
SIGNAL_EXIT_BASE = 128  # the shell's exit status of a process ended by a signal: 128 + signum
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _reactor() -> Any:
    """The running reactor, imported late: importing it early would install the wrong one."""
    from twisted.internet import reactor

    return reactor


class ShutdownWatchdog:
    """Honour SIGINT/SIGTERM within seconds, whatever is in flight.

    Scrapy's first signal closes the spider gracefully, which waits for every request in flight
    (up to DOWNLOAD_TIMEOUT each). GXCRAWL_SHUTDOWN_GRACE seconds after the signal, the run is
    recorded `interrupted` and the reactor stopped; items are written one transaction each, so
    nothing is half-stored, and the next run completes the work.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.grace = crawl_config(crawler).shutdown_grace
        self.store_enabled = crawl_config(crawler).store_enabled
        self._armed = False
        self._closed = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> ShutdownWatchdog:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        # After Scrapy has installed its own handlers (at reactor start-up): chain onto them.
        _reactor().callLater(0, self._chain_handlers)

    def _chain_handlers(self) -> None:
        for signum in STOP_SIGNALS:
            previous = signal.getsignal(signum)
            signal.signal(signum, partial(self._on_signal, previous))

    def _on_signal(self, previous: Any, signum: int, frame: Any) -> None:
        if not self._armed and self.grace > 0:
            self._armed = True
            _reactor().callFromThread(self._arm, signum)
        if callable(previous):
            previous(signum, frame)

    def _arm(self, signum: int) -> None:
        _reactor().callLater(self.grace, self._force_stop, signum)
        hard = threading.Timer(self.grace * HARD_EXIT_GRACES, os._exit, [SIGNAL_EXIT_BASE + signum])
        hard.daemon = True
        hard.start()

    def _force_stop(self, signum: int) -> None:
        if self._closed:
            return
        name = signal.Signals(signum).name
        log.warning("%s: requests still in flight after %ss; stopping now", name, self.grace)
        if self.store_enabled:
            store = CrawlStore.for_crawler(self.crawler)
            stats = jsonable_stats(self.crawler.stats.get_stats())
            store.finish_run(RunStatus.INTERRUPTED, f"shutdown ({name}, forced)", stats)
            log.info("crawl run %s %s (shutdown)", store.run_id, RunStatus.INTERRUPTED)
        _reactor().stop()

    def spider_closed(self, spider: Any, reason: str) -> None:
        self._closed = True  # closed in time: the run record is already written
