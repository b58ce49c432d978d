"""`scrapy crawl`, with a preflight for `annual_reports`: the registry, the portal selection and
the database are checked (and the database migrated) before Scrapy starts, so a mistake ends in
one clear line instead of a traceback from inside the reactor."""

from __future__ import annotations

import argparse
import logging

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from gxcrawl import health
from gxcrawl.commands import open_database, writable_dir, writable_file
from gxcrawl.config import CrawlConfig
from gxcrawl.registry import RegistryError, select_portals

log = logging.getLogger(__name__)


class Command(ScrapyCrawl):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        """Paths the crawl writes are checked before Scrapy opens them (a log file in a missing
        folder would otherwise end in a traceback from the logging setup)."""
        super().process_options(args, opts)
        assert self.settings is not None
        if self.settings.get("LOG_FILE"):
            writable_file(self.settings["LOG_FILE"], "--logfile")
        if self.settings.get("JOBDIR"):
            writable_dir(self.settings["JOBDIR"], "JOBDIR")
        stats_file = CrawlConfig.from_settings(self.settings).stats_file
        if stats_file:
            writable_file(stats_file, "GXCRAWL_STATS_FILE")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        try:
            self._preflight(args, opts)
        except UsageError as exc:
            # Also into the log file: under Scrapyd that is the job log, where stderr never
            # arrives, so a job that cannot start says why there. (On a console the usage error
            # itself is the one line.)
            assert self.settings is not None
            if self.settings.get("LOG_FILE"):
                log.error("crawl not started: %s", exc)
            raise
        super().run(args, opts)
        # the health verdict (monitors), a stats file not written, …: the worst one wins
        self.exitcode = max(self.exitcode, health.process_exit_code())

    def _preflight(self, args: list[str], opts: argparse.Namespace) -> None:
        if args and args[0] == "annual_reports":
            assert self.settings is not None
            config = CrawlConfig.from_settings(self.settings)
            spargs = opts.spargs
            try:
                select_portals(
                    registry=spargs.get("registry") or config.registry,
                    portal=spargs.get("portal"),
                    start_url=spargs.get("start_url"),
                    platform=spargs.get("platform"),
                    base_url=spargs.get("base_url"),
                )
            except RegistryError as exc:
                raise UsageError(str(exc), print_help=False) from None
            if config.store_enabled:
                open_database(self.settings, must_exist=False).close()
