"""gxcrawl's own settings, typed and read once.

Every `GXCRAWL_*` default lives here; `gxcrawl/settings.py` exposes them to Scrapy (operators
override with `-s NAME=value`, some also through the environment) and components read the
result through `crawl_config(crawler)`, never with their own `settings.get(..., default)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gxcrawl import __version__

DEFAULT_DATABASE_URL = "sqlite:///data/gxcrawl.db"
DEFAULT_REGISTRY = ""  # "" = the packaged gxcrawl/portals.toml
DEFAULT_CONTACT_URL = "https://github.com/gxcrawl/gxcrawl"
DEFAULT_STORE_ENABLED = True  # False = crawl only (the bare baseline of `make bench`)
DEFAULT_RECHECK_AFTER_DAYS = 7.0  # reports are rarely edited; a weekly check catches deletions
DEFAULT_FORCE_REFRESH = False
DEFAULT_PROGRESS_INTERVAL = 30.0  # seconds: often enough for a cron log, rare enough to read
DEFAULT_STATS_FILE = ""  # "" = do not write the final stats
DEFAULT_MAX_COLUMN_DEPTH = 4  # province → city → county → department trees are 3-4 deep
# Distinct list pages requested per column (a start URL or sub-column and its pagination): far
# above any real column (~100 pages), yet it ends a calendar-style trap whose 尾页 link moves.
DEFAULT_MAX_LIST_PAGES = 1000
# Distinct list pages per portal, all columns together: a province's tree of a few hundred
# columns of tens of pages each stays below it; a trap spread over many columns does not.
DEFAULT_MAX_PORTAL_LIST_PAGES = 20000
# Seconds a SIGINT/SIGTERM stop waits for requests in flight before the run is recorded
# `interrupted` and the crawl stops anyway: a slow page must not hold a stop for DOWNLOAD_TIMEOUT.
DEFAULT_SHUTDOWN_GRACE = 5.0
# Health checks (gxcrawl/health.py): a run over these is marked unhealthy and exits 1.
DEFAULT_HEALTH_MAX_BLOCKED_SHARE = 0.2  # a WAF that blocks 1 page in 5 is blocking the crawl
DEFAULT_HEALTH_MAX_ERROR_SHARE = 0.2  # same for timeouts, DNS, 5xx …
DEFAULT_HEALTH_MAX_PARSE_ERRORS = 0  # any extractor crash is a bug worth a look
DEFAULT_HEALTH_MIN_FETCHES = 5  # below this a share is noise (one failure of two is not 50%)
# Items per transaction: amortises the commit; a kill -9 loses at most this many whole items.
DEFAULT_BATCH_ITEMS = 25
DEFAULT_EXTRACT_WORKERS = -1  # extraction processes; -1 = one per core but one, 0 = in-process

# The name → default table behind `CrawlConfig.from_settings`.
DEFAULTS: Mapping[str, Any] = {
    "GXCRAWL_DATABASE_URL": DEFAULT_DATABASE_URL,
    "GXCRAWL_REGISTRY": DEFAULT_REGISTRY,
    "GXCRAWL_CONTACT_URL": DEFAULT_CONTACT_URL,
    "GXCRAWL_STORE_ENABLED": DEFAULT_STORE_ENABLED,
    "GXCRAWL_RECHECK_AFTER_DAYS": DEFAULT_RECHECK_AFTER_DAYS,
    "GXCRAWL_FORCE_REFRESH": DEFAULT_FORCE_REFRESH,
    "GXCRAWL_PROGRESS_INTERVAL": DEFAULT_PROGRESS_INTERVAL,
    "GXCRAWL_STATS_FILE": DEFAULT_STATS_FILE,
    "GXCRAWL_MAX_COLUMN_DEPTH": DEFAULT_MAX_COLUMN_DEPTH,
    "GXCRAWL_MAX_LIST_PAGES": DEFAULT_MAX_LIST_PAGES,
    "GXCRAWL_HEALTH_MAX_BLOCKED_SHARE": DEFAULT_HEALTH_MAX_BLOCKED_SHARE,
    "GXCRAWL_HEALTH_MAX_ERROR_SHARE": DEFAULT_HEALTH_MAX_ERROR_SHARE,
    "GXCRAWL_HEALTH_MAX_PARSE_ERRORS": DEFAULT_HEALTH_MAX_PARSE_ERRORS,
    "GXCRAWL_HEALTH_MIN_FETCHES": DEFAULT_HEALTH_MIN_FETCHES,
    "GXCRAWL_MAX_PORTAL_LIST_PAGES": DEFAULT_MAX_PORTAL_LIST_PAGES,
    "GXCRAWL_SHUTDOWN_GRACE": DEFAULT_SHUTDOWN_GRACE,
    "GXCRAWL_BATCH_ITEMS": DEFAULT_BATCH_ITEMS,
    "GXCRAWL_EXTRACT_WORKERS": DEFAULT_EXTRACT_WORKERS,
}


def user_agent(contact_url: str) -> str:
    """The User-Agent: names the crawler and how to reach its operator."""
    return f"gxcrawl/{__version__} (research crawler; +{contact_url})"


@dataclass(frozen=True)
class CrawlConfig:
    database_url: str = DEFAULT_DATABASE_URL
    registry: str = DEFAULT_REGISTRY
    contact_url: str = DEFAULT_CONTACT_URL
    store_enabled: bool = DEFAULT_STORE_ENABLED
    recheck_after_days: float = DEFAULT_RECHECK_AFTER_DAYS
    force_refresh: bool = DEFAULT_FORCE_REFRESH
    progress_interval: float = DEFAULT_PROGRESS_INTERVAL
    stats_file: str = DEFAULT_STATS_FILE
    max_column_depth: int = DEFAULT_MAX_COLUMN_DEPTH
    max_list_pages: int = DEFAULT_MAX_LIST_PAGES
    health_max_blocked_share: float = DEFAULT_HEALTH_MAX_BLOCKED_SHARE
    health_max_error_share: float = DEFAULT_HEALTH_MAX_ERROR_SHARE
    health_max_parse_errors: int = DEFAULT_HEALTH_MAX_PARSE_ERRORS
    health_min_fetches: int = DEFAULT_HEALTH_MIN_FETCHES
    max_portal_list_pages: int = DEFAULT_MAX_PORTAL_LIST_PAGES
    shutdown_grace: float = DEFAULT_SHUTDOWN_GRACE
    batch_items: int = DEFAULT_BATCH_ITEMS
    extract_workers: int = DEFAULT_EXTRACT_WORKERS

    @classmethod
    def from_settings(cls, settings: Any) -> CrawlConfig:
        """Read a Scrapy Settings object; unset names take DEFAULTS."""

        def get(name: str) -> Any:
            value = settings.get(name)
            return DEFAULTS[name] if value is None else value

        return cls(
            database_url=str(get("GXCRAWL_DATABASE_URL")),
            registry=str(get("GXCRAWL_REGISTRY")),
            contact_url=str(get("GXCRAWL_CONTACT_URL")),
            store_enabled=settings.getbool("GXCRAWL_STORE_ENABLED", DEFAULT_STORE_ENABLED),
            recheck_after_days=float(get("GXCRAWL_RECHECK_AFTER_DAYS")),
            force_refresh=settings.getbool("GXCRAWL_FORCE_REFRESH", DEFAULT_FORCE_REFRESH),
            progress_interval=float(get("GXCRAWL_PROGRESS_INTERVAL")),
            stats_file=str(get("GXCRAWL_STATS_FILE")),
            max_column_depth=int(get("GXCRAWL_MAX_COLUMN_DEPTH")),
            max_list_pages=int(get("GXCRAWL_MAX_LIST_PAGES")),
            health_max_blocked_share=float(get("GXCRAWL_HEALTH_MAX_BLOCKED_SHARE")),
            health_max_error_share=float(get("GXCRAWL_HEALTH_MAX_ERROR_SHARE")),
            health_max_parse_errors=int(get("GXCRAWL_HEALTH_MAX_PARSE_ERRORS")),
            health_min_fetches=int(get("GXCRAWL_HEALTH_MIN_FETCHES")),
            max_portal_list_pages=int(get("GXCRAWL_MAX_PORTAL_LIST_PAGES")),
            shutdown_grace=float(get("GXCRAWL_SHUTDOWN_GRACE")),
            batch_items=int(get("GXCRAWL_BATCH_ITEMS")),
            extract_workers=int(get("GXCRAWL_EXTRACT_WORKERS")),
        )

    @property
    def recheck_after(self) -> dt.timedelta:
        return dt.timedelta(days=self.recheck_after_days)

    @property
    def user_agent(self) -> str:
        return user_agent(self.contact_url)


_ATTR = "_gxcrawl_config"


def crawl_config(crawler: Any) -> CrawlConfig:
    """The crawler's CrawlConfig, built once from its (frozen) settings and shared."""
    config = getattr(crawler, _ATTR, None)
    if config is None:
        config = CrawlConfig.from_settings(crawler.settings)
        setattr(crawler, _ATTR, config)
    return config


class ContactUserAgent:
    """Scrapy add-on: the User-Agent names GXCRAWL_CONTACT_URL as finally configured.

    settings.py builds USER_AGENT before `-s` overrides exist; an add-on runs after them. The
    User-Agent is rebuilt only when the contact URL was set with a higher priority than
    USER_AGENT, so a USER_AGENT the operator gives explicitly always wins.
    """

    def update_settings(self, settings: Any) -> None:
        contact_priority = settings.getpriority("GXCRAWL_CONTACT_URL") or 0
        if contact_priority > (settings.getpriority("USER_AGENT") or 0):
            contact = settings.get("GXCRAWL_CONTACT_URL") or DEFAULT_CONTACT_URL
            settings.set("USER_AGENT", user_agent(contact), priority=contact_priority)
