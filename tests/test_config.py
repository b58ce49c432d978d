"""CrawlConfig: every GXCRAWL_* setting read once, typed, with its default in one place; the
User-Agent follows GXCRAWL_CONTACT_URL also when it is given with `-s` (README: Configuration)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler

from gxcrawl.config import DEFAULTS, ContactUserAgent, CrawlConfig, crawl_config
from gxcrawl.spiders.annual_reports import AnnualReportsSpider

from .conftest import ROOT


def test_settings_module_defaults_are_the_config_defaults() -> None:
    settings = get_project_settings()
    config = CrawlConfig.from_settings(settings)
    assert config == CrawlConfig.from_settings(Settings())  # nothing set = the same defaults
    for name in DEFAULTS:
        assert name in settings, f"{name} missing from gxcrawl/settings.py"


def test_overrides_are_typed() -> None:
    settings = Settings()
    settings.setdict(
        {
            "GXCRAWL_RECHECK_AFTER_DAYS": "0.5",
            "GXCRAWL_FORCE_REFRESH": "True",
            "GXCRAWL_STORE_ENABLED": "False",
            "GXCRAWL_MAX_LIST_PAGES": "3",
        },
        priority="cmdline",
    )
    config = CrawlConfig.from_settings(settings)
    assert config.recheck_after == dt.timedelta(hours=12)
    assert config.force_refresh is True and config.store_enabled is False
    assert config.max_list_pages == 3


def test_config_is_built_once_per_crawler() -> None:
    crawler = get_crawler(AnnualReportsSpider, {"GXCRAWL_PROGRESS_INTERVAL": 0})
    assert crawl_config(crawler) is crawl_config(crawler)
    assert crawl_config(crawler).progress_interval == 0


def test_contact_url_from_command_line_reaches_the_user_agent() -> None:
    settings = get_project_settings()
    settings.set("GXCRAWL_CONTACT_URL", "mailto:ops@uni.example", priority="cmdline")
    ContactUserAgent().update_settings(settings)
    assert settings["USER_AGENT"].endswith("(research crawler; +mailto:ops@uni.example)")


def test_explicit_user_agent_wins() -> None:
    settings = get_project_settings()
    settings.set("GXCRAWL_CONTACT_URL", "mailto:ops@uni.example", priority="cmdline")
    settings.set("USER_AGENT", "custom/1", priority="cmdline")
    ContactUserAgent().update_settings(settings)
    assert settings["USER_AGENT"] == "custom/1"


def test_crawl_sends_contact_url_given_with_s() -> None:
    """The real crawler: `-s GXCRAWL_CONTACT_URL=…` as `scrapy crawl` applies it."""
    code = (
        "from scrapy.crawler import Crawler\n"
        "from scrapy.utils.project import get_project_settings\n"
        "from gxcrawl.spiders.annual_reports import AnnualReportsSpider\n"
        "s = get_project_settings()\n"
        "s.set('GXCRAWL_CONTACT_URL', 'https://lab.example/crawl', priority='cmdline')\n"
        "c = Crawler(AnnualReportsSpider, s, init_reactor=True)\n"
        "c._apply_settings()\n"
        "print(c.settings['USER_AGENT'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "+https://lab.example/crawl)" in out
