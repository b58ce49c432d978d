"""Acceptance of issue 11: a start URL alone (no platform named, so `auto`) finds every report of
every fixture portal, through the real spider in a `scrapy crawl` subprocess."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from gxcrawl import health
from gxcrawl.testing.fixtureserver import serve

from .conftest import FAST_CRAWL, FIXTURES, run_scrapy
from .test_crawl_portals import PORTALS, _expected, _path, _rows


@pytest.mark.parametrize("portal", PORTALS)
def test_start_url_alone_finds_every_report(portal: str, tmp_path: Path) -> None:
    folder = FIXTURES / "portals" / portal
    registry = tomllib.loads((folder / "portal.toml").read_text("utf-8"))
    (entry,) = registry["portal"]
    db = f"sqlite:///{tmp_path / 'alone.db'}"
    with serve(folder) as server:
        for start in entry["start_urls"]:
            proc = run_scrapy(
                [
                    "crawl",
                    "annual_reports",
                    "-a",
                    f"start_url={server.base_url}{start}",
                    *FAST_CRAWL,
                ],
                db,
            )
            assert proc.returncode == health.EXIT_HEALTHY, proc.stderr[-3000:]
            assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    stored = {_path(url) for (url,) in _rows(db, "SELECT url FROM report_documents")}
    expected = {r["path"] for r in _expected(portal)["reports"]}
    assert expected - stored == set(), f"{portal}: missed with a start URL alone"
