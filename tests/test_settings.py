"""The crawl is polite by default, and operators can point it at their own contact URL."""

from __future__ import annotations

import os
import subprocess
import sys

from scrapy.utils.project import get_project_settings

from .conftest import ROOT


def test_polite_defaults() -> None:
    settings = get_project_settings()
    assert settings.getbool("ROBOTSTXT_OBEY")
    assert settings.getbool("AUTOTHROTTLE_ENABLED")
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") <= 2
    assert settings.getfloat("DOWNLOAD_DELAY") >= 1.0
    assert not settings.getbool("REMOTE_CONTROL_ENABLED", True)
    assert settings["USER_AGENT"].startswith("gxcrawl/")


def test_contact_url_comes_from_the_environment() -> None:
    code = "from scrapy.utils.project import get_project_settings as g; print(g()['USER_AGENT'])"
    env = {**os.environ, "GXCRAWL_CONTACT_URL": "mailto:data@uni.example"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    assert "+mailto:data@uni.example" in out
