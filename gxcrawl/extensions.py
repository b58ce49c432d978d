"""Crawl-run bookkeeping: a `crawl_runs` row per crawl, progress lines, final stats."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from gxcrawl.store.crawlstore import CrawlStore, jsonable_stats

log = logging.getLogger(__name__)

# Scrapy close reasons -> run status. 'shutdown' is Ctrl-C / SIGTERM (resumable with JOBDIR).
STATUS_BY_REASON = {"finished": "finished", "shutdown": "interrupted"}


class CrawlRunExtension:
    def __init__(self, crawler: Any) -> None:
        if not crawler.settings.getbool("GXCRAWL_STORE_ENABLED", True):
            raise NotConfigured("storage disabled")
        self.crawler = crawler
        self.interval = crawler.settings.getfloat("GXCRAWL_PROGRESS_INTERVAL", 30.0)
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
        log.info("crawl run %s started; database %s", run_id, _redact(store.db.url))
        if self.interval > 0:
            self._loop = task.LoopingCall(self._progress)
            self._loop.start(self.interval, now=False)

    def _progress(self) -> None:
        get = self.crawler.stats.get_value
        log.info(
            "progress: %s responses, %s reports stored, %s unchanged, %s blocked, %s errors",
            get("response_received_count", 0),
            get("gxcrawl/reports_stored", 0),
            get("gxcrawl/outcome/unchanged", 0),
            get("gxcrawl/outcome/blocked", 0),
            get("gxcrawl/outcome/error", 0),
        )

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        store = CrawlStore.for_crawler(self.crawler)
        stats = jsonable_stats(self.crawler.stats.get_stats())
        stats["gxcrawl/lookalikes"] = sorted(getattr(spider, "lookalikes", {}).values())
        status = STATUS_BY_REASON.get(
            reason, "finished" if reason.startswith("closespider") else "failed"
        )
        store.finish_run(status, reason, stats)
        log.info("crawl run %s %s (%s)", store.run_id, status, reason)
        store.close()


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


class StatsFileExtension:
    """Write the final crawl stats as JSON to GXCRAWL_STATS_FILE (for cron checks and the bench)."""

    def __init__(self, crawler: Any, path: str) -> None:
        self.crawler = crawler
        self.path = path

    @classmethod
    def from_crawler(cls, crawler: Any) -> StatsFileExtension:
        # No NotConfigured when unset: Scrapy would log a warning on every ordinary crawl.
        ext = cls(crawler, crawler.settings.get("GXCRAWL_STATS_FILE") or "")
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Any, reason: str) -> None:
        if not self.path:
            return
        import json
        from pathlib import Path

        stats = jsonable_stats(self.crawler.stats.get_stats())
        stats["finish_reason"] = reason
        Path(self.path).write_text(json.dumps(stats, ensure_ascii=False, indent=1), "utf-8")
