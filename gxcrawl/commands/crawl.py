"""`scrapy crawl`, with a preflight for `annual_reports`: the registry, the portal selection and
the database are checked (and the database migrated) before Scrapy starts, so a mistake ends in
one clear line instead of a traceback from inside the reactor."""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from gxcrawl import health
from gxcrawl.commands import open_database
from gxcrawl.config import CrawlConfig
from gxcrawl.registry import RegistryError, select_portals


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
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
        super().run(args, opts)
        # the health verdict (monitors), a stats file not written, …: the worst one wins
        self.exitcode = max(self.exitcode, health.process_exit_code())
