"""Scrapy settings for gxcrawl. Every GXCRAWL_* setting is documented in the README.

Operators override any of these with `-s NAME=value`; the database URL, the registry and the
contact URL also come from the environment (GXCRAWL_DATABASE_URL, GXCRAWL_REGISTRY,
GXCRAWL_CONTACT_URL).
"""

import os

from gxcrawl import config

BOT_NAME = "gxcrawl"
SPIDER_MODULES = ["gxcrawl.spiders"]
NEWSPIDER_MODULE = "gxcrawl.spiders"
COMMANDS_MODULE = "gxcrawl.commands"

# --- gxcrawl ---------------------------------------------------------------------------------
# The defaults, each with its reason, are in gxcrawl/config.py; components read these settings
# through `config.crawl_config(crawler)`.
GXCRAWL_DATABASE_URL = os.environ.get("GXCRAWL_DATABASE_URL", config.DEFAULT_DATABASE_URL)
GXCRAWL_REGISTRY = os.environ.get("GXCRAWL_REGISTRY", config.DEFAULT_REGISTRY)
GXCRAWL_CONTACT_URL = os.environ.get("GXCRAWL_CONTACT_URL", config.DEFAULT_CONTACT_URL)
GXCRAWL_STORE_ENABLED = config.DEFAULT_STORE_ENABLED
# Report pages and attachments are revalidated (conditional request) once this old; list pages
# are revisited on every run. GXCRAWL_FORCE_REFRESH revalidates everything now.
GXCRAWL_RECHECK_AFTER_DAYS = config.DEFAULT_RECHECK_AFTER_DAYS
GXCRAWL_FORCE_REFRESH = config.DEFAULT_FORCE_REFRESH
GXCRAWL_PROGRESS_INTERVAL = config.DEFAULT_PROGRESS_INTERVAL
GXCRAWL_STATS_FILE = config.DEFAULT_STATS_FILE
# Link policy bounds, instead of Scrapy's DEPTH_LIMIT (which would count each 下一页 hop):
GXCRAWL_MAX_COLUMN_DEPTH = config.DEFAULT_MAX_COLUMN_DEPTH  # sub-column levels below a start URL
GXCRAWL_MAX_LIST_PAGES = config.DEFAULT_MAX_LIST_PAGES  # distinct list pages per column
GXCRAWL_MAX_PORTAL_LIST_PAGES = config.DEFAULT_MAX_PORTAL_LIST_PAGES  # … per portal
GXCRAWL_SHUTDOWN_GRACE = config.DEFAULT_SHUTDOWN_GRACE  # seconds a signalled stop waits
# Health checks: over these shares a run is `unhealthy` and the crawl exits 1 (README).
GXCRAWL_HEALTH_MAX_BLOCKED_SHARE = config.DEFAULT_HEALTH_MAX_BLOCKED_SHARE
GXCRAWL_HEALTH_MAX_ERROR_SHARE = config.DEFAULT_HEALTH_MAX_ERROR_SHARE
GXCRAWL_HEALTH_MAX_PARSE_ERRORS = config.DEFAULT_HEALTH_MAX_PARSE_ERRORS
GXCRAWL_HEALTH_MIN_FETCHES = config.DEFAULT_HEALTH_MIN_FETCHES
GXCRAWL_BATCH_ITEMS = config.DEFAULT_BATCH_ITEMS  # items per transaction (whole items only)
GXCRAWL_EXTRACT_WORKERS = config.DEFAULT_EXTRACT_WORKERS  # extraction processes (-1 auto, 0 none)

# --- politeness ------------------------------------------------------------------------------
USER_AGENT = config.user_agent(GXCRAWL_CONTACT_URL)
ADDONS = {
    # Rebuilds USER_AGENT when GXCRAWL_CONTACT_URL comes from `-s` (read after this module).
    "gxcrawl.config.ContactUserAgent": 0,
    # A shared Redis frontier when GXCRAWL_REDIS_URL is set (inert otherwise).
    "gxcrawl.scaleout.ScaleOut": 0,
}
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
# Scrapy starts this many worker tasks for every response's output, whatever its size (a report
# page yields one item; a list page's requests are queued synchronously). At Scrapy's 100 that
# was 0.8 ms of CPU a page, a quarter of a bare crawl's (`make bench`); 16 is plenty.
CONCURRENT_ITEMS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DEPTH_LIMIT = 0  # see GXCRAWL_MAX_COLUMN_DEPTH / GXCRAWL_MAX_LIST_PAGES
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 50 * 1024 * 1024  # attachments above this are refused, not truncated
DOWNLOAD_WARNSIZE = 10 * 1024 * 1024
DOWNLOAD_FAIL_ON_DATALOSS = True  # a truncated body is an error, never a stored page
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = True

DOWNLOADER_MIDDLEWARES = {
    # Scrapy's robots.txt rule, raising an exception the spider records (robots_disallowed).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "gxcrawl.middlewares.RobotsDisallowedMiddleware": 100,
    # Scrapy's meta-refresh redirects; a malformed <base> or refresh URL no longer loses the page.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "gxcrawl.middlewares.TolerantMetaRefreshMiddleware": 580,
    "gxcrawl.middlewares.RedirectLoopMiddleware": 640,  # sees 3xx before RedirectMiddleware
    "gxcrawl.middlewares.RedirectLimitMiddleware": 645,  # a chain too long: recorded, not dropped
    "gxcrawl.middlewares.OffsiteRedirectMiddleware": 646,  # away to another site: recorded
    # Below DownloaderStats (850) so byte counts see the 304, not the body replayed from the store.
    "gxcrawl.middlewares.ConditionalRequestMiddleware": 800,
}
# Scrapy's HTTP/1.1 handler, marking a body longer than its Content-Length (length_mismatch).
DOWNLOAD_HANDLERS = {
    "http": "gxcrawl.download.LengthCheckingDownloadHandler",
    "https": "gxcrawl.download.LengthCheckingDownloadHandler",
}
ITEM_PIPELINES = {
    "gxcrawl.pipelines.StorePipeline": 300,
}
EXTENSIONS = {
    "gxcrawl.extensions.CrawlRunExtension": 500,
    # a finished run clears JOBDIR's seen/queued requests: the next run does real work
    "gxcrawl.jobdir.JobDirReset": 505,
    # Ctrl-C: queued requests are postponed (back into JOBDIR), only those in flight finish
    "gxcrawl.shutdown.StopSchedulingOnShutdown": 506,
    "spidermon.contrib.scrapy.extensions.Spidermon": 510,
    # after Spidermon: its engine_stopped handler (the health verdict) runs first
    "gxcrawl.extensions.StatsFileExtension": 520,
    # a signalled stop waits GXCRAWL_SHUTDOWN_GRACE for requests in flight, then stops anyway
    "gxcrawl.extensions.ShutdownWatchdog": 530,
}
# Health checks when the engine stops: after CrawlRunExtension stored the run (spider_closed),
# so a failed check can turn it `unhealthy` (gxcrawl/monitors.py, gxcrawl/health.py).
SPIDERMON_ENABLED = True
SPIDERMON_ENGINE_STOP_MONITORS = ["gxcrawl.monitors.HealthMonitorSuite"]

# --- housekeeping ----------------------------------------------------------------------------
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.19 opens a code-execution endpoint by default
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
