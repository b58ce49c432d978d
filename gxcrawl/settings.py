"""Scrapy settings for gxcrawl. Every GXCRAWL_* setting is documented in the README.

Operators override any of these with `-s NAME=value`; the database URL and contact URL also come
from the environment (GXCRAWL_DATABASE_URL, GXCRAWL_CONTACT_URL).
"""

import os

from gxcrawl import __version__

BOT_NAME = "gxcrawl"
SPIDER_MODULES = ["gxcrawl.spiders"]
NEWSPIDER_MODULE = "gxcrawl.spiders"
COMMANDS_MODULE = "gxcrawl.commands"

# --- gxcrawl ---------------------------------------------------------------------------------
GXCRAWL_DATABASE_URL = os.environ.get("GXCRAWL_DATABASE_URL", "sqlite:///data/gxcrawl.db")
GXCRAWL_REGISTRY = os.environ.get("GXCRAWL_REGISTRY", "")  # "" = the packaged gxcrawl/portals.toml
GXCRAWL_CONTACT_URL = os.environ.get("GXCRAWL_CONTACT_URL", "https://github.com/gxcrawl/gxcrawl")
GXCRAWL_STORE_ENABLED = True  # False = crawl only (used by `make bench` for the bare baseline)
# Report pages and attachments are revalidated (conditional request) once this old; list pages
# are revisited on every run. GXCRAWL_FORCE_REFRESH revalidates everything now.
GXCRAWL_RECHECK_AFTER_DAYS = 7.0
GXCRAWL_FORCE_REFRESH = False
GXCRAWL_PROGRESS_INTERVAL = 30.0  # seconds between progress lines
GXCRAWL_STATS_FILE = ""  # when set, the final crawl stats are written there as JSON

# --- politeness ------------------------------------------------------------------------------
USER_AGENT = f"gxcrawl/{__version__} (research crawler; +{GXCRAWL_CONTACT_URL})"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# Link policy bounds (Scrapy's DEPTH_LIMIT would count each 下一页 hop as depth, so it is off):
GXCRAWL_MAX_COLUMN_DEPTH = 4  # sub-column levels below a start URL (list trees)
GXCRAWL_MAX_LIST_PAGES = 1000  # pagination hops along one column
DEPTH_LIMIT = 0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 50 * 1024 * 1024  # attachments above this are refused, not truncated
DOWNLOAD_WARNSIZE = 10 * 1024 * 1024
DOWNLOAD_FAIL_ON_DATALOSS = True  # a truncated body is an error, never a stored page
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = True

DOWNLOADER_MIDDLEWARES = {
    "gxcrawl.middlewares.RedirectLoopMiddleware": 640,  # sees 3xx before RedirectMiddleware
    # Below DownloaderStats (850) so byte counts see the 304, not the body replayed from the store.
    "gxcrawl.middlewares.ConditionalRequestMiddleware": 800,
}
ITEM_PIPELINES = {
    "gxcrawl.pipelines.StorePipeline": 300,
}
ADDONS = {"gxcrawl.scaleout.ScaleOut": 0}  # shared Redis frontier when GXCRAWL_REDIS_URL is set
EXTENSIONS = {
    "gxcrawl.extensions.CrawlRunExtension": 500,
    "gxcrawl.extensions.StatsFileExtension": 510,
}

# --- housekeeping ----------------------------------------------------------------------------
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.19 opens a code-execution endpoint by default
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
