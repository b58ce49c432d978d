"""What a contributor needs to test a portal of their own, offline.

- `fixtureserver`: serves a saved portal folder on 127.0.0.1 like a real government site
  (charsets, ETag/304, Hanweb feeds, failure modes); `python -m gxcrawl.testing.fixtureserver DIR`.
- `responses`: Scrapy Responses built from the raw bytes and headers of saved pages, for spider
  and platform tests without a server.
- `evaluation`: the evaluation gate (pages + hand-written gold → misses per field).
- `demo`: serve a fixture portal, crawl it into a store and print the summary (`make demo`).
- `scrapy_env`: the environment a `scrapy` subprocess needs to find gxcrawl's settings from any
  working directory.

Nothing in the crawl imports this package.
"""

from __future__ import annotations

import os
from pathlib import Path

SETTINGS_MODULE = "gxcrawl.settings"


def scrapy_env(database_url: str) -> dict[str, str]:
    """os.environ plus the store URL and gxcrawl's settings module.

    With SCRAPY_SETTINGS_MODULE set, `scrapy` finds the project without a scrapy.cfg in the
    working directory, so the demo and the bench also work from an installed package.
    """
    return {
        **os.environ,
        "GXCRAWL_DATABASE_URL": database_url,
        "SCRAPY_SETTINGS_MODULE": SETTINGS_MODULE,
    }


def checkout_fixtures() -> Path | None:
    """The `fixtures/` folder of the source checkout this package runs from, if any."""
    candidate = Path(__file__).resolve().parents[2] / "fixtures"
    return candidate if candidate.is_dir() else None
