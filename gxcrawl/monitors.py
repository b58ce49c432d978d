"""Spidermon monitors for unattended crawls: the checks of `gxcrawl.health`, one monitor each.

Run when the engine stops (after the run row is finished and its stats are stored), so a failed
check can turn the run `unhealthy`:

    SPIDERMON_ENABLED = True
    EXTENSIONS = {"spidermon.contrib.scrapy.extensions.Spidermon": 400, …}
    SPIDERMON_ENGINE_STOP_MONITORS = ["gxcrawl.monitors.HealthMonitorSuite"]

On failure `MarkUnhealthy` prints one line per reason to stderr, stores the reasons in
`crawl_runs.stats["gxcrawl/health/reasons"]` with status `unhealthy`, sets the crawl stats
`gxcrawl/health/status` and notes the process exit code (`gxcrawl.health.process_exit_code()`).
"""

from __future__ import annotations

import logging
import sys
from typing import Any, ClassVar

from spidermon import Monitor, MonitorSuite, monitors
from spidermon.core.actions import Action

from gxcrawl import health
from gxcrawl.store.db import StoreUnavailable

__all__ = ["HealthMonitorSuite", "MarkHealthy", "MarkUnhealthy", "reasons_for"]

log = logging.getLogger(__name__)
_CACHE_ATTR = "_gxcrawl_health_reasons"


def _portals(crawler: Any) -> dict[str, list[str]]:
    """portal id → start URLs of the crawl's spider (`spider.portals`: id → registry Portal)."""
    portals = getattr(getattr(crawler, "spider", None), "portals", None) or {}
    return {pid: list(getattr(p, "start_urls", ())) for pid, p in portals.items()}


def _judged(crawler: Any) -> bool:
    reason = str(crawler.stats.get_value("finish_reason") or "")
    return reason.startswith(health.JUDGED_CLOSE_REASONS)


def reasons_for(crawler: Any) -> list[health.Reason]:
    """The run's failed checks, computed once per crawler and shared by the monitors."""
    cached = getattr(crawler, _CACHE_ATTR, None)
    if cached is None:
        cached = []
        if _judged(crawler):
            settings = crawler.settings
            store_on = settings.getbool("GXCRAWL_STORE_ENABLED", True)
            cached = health.judge(
                settings.get("GXCRAWL_DATABASE_URL") if store_on else None,
                crawler.stats.get_value("gxcrawl/run_id"),
                _portals(crawler),
                crawler.stats.get_stats(),
                health.Thresholds.from_settings(settings),
            )
        setattr(crawler, _CACHE_ATTR, cached)
    return list(cached)


class HealthMonitor(Monitor):
    """One check of gxcrawl.health: fails with that check's reasons."""

    check: ClassVar[str] = ""

    def assert_check_passes(self) -> None:
        failed = [r for r in reasons_for(self.data.crawler) if r.check == self.check]
        if failed:
            self.fail("; ".join(r.line() for r in failed))


@monitors.name("Start URLs")
class StartUrlsMonitor(HealthMonitor):
    check = "start_url"

    @monitors.name("every start URL was fetched and answered with a list")
    def test_start_urls_answer(self) -> None:
        self.assert_check_passes()


@monitors.name("Reports found")
class ZeroReportsMonitor(HealthMonitor):
    check = "zero_reports"

    @monitors.name("no portal drops to zero reports after a healthy run with some")
    def test_reports_found(self) -> None:
        self.assert_check_passes()


@monitors.name("Blocked pages")
class BlockedShareMonitor(HealthMonitor):
    check = "blocked_share"

    @monitors.name("blocked pages stay under their share of fetches")
    def test_blocked_share(self) -> None:
        self.assert_check_passes()


@monitors.name("Fetch errors")
class ErrorShareMonitor(HealthMonitor):
    check = "error_share"

    @monitors.name("fetch errors stay under their share of fetches")
    def test_error_share(self) -> None:
        self.assert_check_passes()


@monitors.name("Parse errors")
class ParseErrorsMonitor(HealthMonitor):
    check = "parse_errors"

    @monitors.name("no page made the extraction fail")
    def test_parse_errors(self) -> None:
        self.assert_check_passes()


@monitors.name("Write errors")
class WriteErrorsMonitor(HealthMonitor):
    check = "write_errors"

    @monitors.name("the store took every fetched page")
    def test_write_errors(self) -> None:
        self.assert_check_passes()


@monitors.name("List traps")
class ListTrapMonitor(HealthMonitor):
    check = "list_trap"

    @monitors.name("no column or portal reached its list-page bound")
    def test_no_list_trap(self) -> None:
        self.assert_check_passes()


@monitors.name("Database")
class DatabaseMonitor(HealthMonitor):
    check = "database"

    @monitors.name("the run history could be read")
    def test_database_reachable(self) -> None:
        self.assert_check_passes()


class MarkUnhealthy(Action):
    """Print one line per reason, store them with the run, set the exit code."""

    def run_action(self) -> None:
        crawler = self.data.crawler
        reasons = reasons_for(crawler)
        code = health.exit_code(reasons)
        for reason in reasons:
            sys.stderr.write(f"gxcrawl: unhealthy: {reason.line()}\n")
        crawler.stats.set_value(health.STATUS_KEY, "unhealthy")
        crawler.stats.set_value(health.REASONS_KEY, [r.line() for r in reasons])
        try:
            settings = crawler.settings
            store_on = settings.getbool("GXCRAWL_STORE_ENABLED", True)
            health.record(
                settings.get("GXCRAWL_DATABASE_URL") if store_on else None,
                crawler.stats.get_value("gxcrawl/run_id"),
                reasons,
            )
        except StoreUnavailable as exc:
            sys.stderr.write(f"gxcrawl: cannot record the run's health: {exc}\n")
            code = health.EXIT_DATABASE
        health.note_exit_code(code)


class MarkHealthy(Action):
    def run_action(self) -> None:
        self.data.crawler.stats.set_value(health.STATUS_KEY, "healthy")
        health.note_exit_code(health.EXIT_HEALTHY)


class HealthMonitorSuite(MonitorSuite):
    monitors: ClassVar[list[Any]] = [
        DatabaseMonitor,
        StartUrlsMonitor,
        ZeroReportsMonitor,
        BlockedShareMonitor,
        ErrorShareMonitor,
        ParseErrorsMonitor,
        WriteErrorsMonitor,
        ListTrapMonitor,
    ]
    monitors_passed_actions: ClassVar[list[Any]] = [MarkHealthy]
    monitors_failed_actions: ClassVar[list[Any]] = [MarkUnhealthy]
