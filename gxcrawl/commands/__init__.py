"""Custom `scrapy <command>`s (COMMANDS_MODULE): crawl (preflight), extract, reparse, export,
portals, summary, runs."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import UsageError

from gxcrawl.config import CrawlConfig
from gxcrawl.store.db import Database, StoreUnavailable


def open_database(settings: Any, *, must_exist: bool = True) -> Database:
    """The configured database, or a one-line usage error saying why it cannot be opened."""
    try:
        url = CrawlConfig.from_settings(settings).database_url
        return Database(url, must_exist=must_exist)
    except StoreUnavailable as exc:
        raise UsageError(str(exc), print_help=False) from None
