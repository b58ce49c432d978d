"""A crawl of the `hostile` fixture portal (issue 12): a gzip bomb, an endless redirect chain to
new URLs, oversize files (announced and not), a Content-Length smaller than the body, a calendar
trap whose 尾页 moves forward on every page, control characters beside links, slow and stalled
pages, links no request can be made for (a malformed IPv6 host, a port out of range), a
robots.txt-disallowed URL and a refused connection. SIGINT/SIGTERM stop it within seconds.

The crawl ends by itself; every URL the lists link has exactly one `fetches` row with the reason
`expected_fetches.json` (written by hand from the page design) names; the trap stays within
GXCRAWL_MAX_LIST_PAGES; nothing half-received is stored as a report. Offsite links never become
requests: they are counted in stats (`offsite/filtered`), not in `fetches`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gxcrawl.testing.fixtureserver import serve

from .conftest import FAST_CRAWL, FIXTURES, ROOT, crawl_fixture, temporary_pg_schema
from .test_incremental import q

PORTAL = FIXTURES / "portals" / "hostile"
MAX_LIST_PAGES = 12  # small, so the trap's bound shows within seconds
CRAWL_SECONDS = 90  # the crawl must end by itself well before the subprocess timeout


def _expected() -> dict[str, Any]:
    return dict(json.loads((PORTAL / "expected_fetches.json").read_text("utf-8")))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hostile(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    if request.param == "sqlite":
        yield _crawl(f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'hostile.db'}")
        return
    with temporary_pg_schema() as url:
        yield _crawl(url)


def _crawl(db: str) -> dict[str, Any]:
    started = time.monotonic()
    with serve(PORTAL) as server:
        proc = crawl_fixture(
            "hostile", server.base_url, db,
            "-s", "DOWNLOAD_TIMEOUT=3", "-s", "RETRY_TIMES=0",
            "-s", f"GXCRAWL_MAX_LIST_PAGES={MAX_LIST_PAGES}",
        )  # fmt: skip
        requests = server.requests
        base = server.base_url
    elapsed = time.monotonic() - started
    # A server this broken makes the run unhealthy (error share): it says so and exits 1.
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "gxcrawl: unhealthy: error_share" in proc.stderr
    assert "gxcrawl: unhealthy: list_trap" in proc.stderr  # the calendar trap, in one line
    return {"db": db, "base": base, "requests": requests, "log": proc.stderr, "elapsed": elapsed}


def _path(url: str, base: str) -> str:
    return url[len(base) :] if url.startswith(base) else url


def test_the_crawl_ends_by_itself(hostile: dict[str, Any]) -> None:
    assert hostile["elapsed"] < CRAWL_SECONDS
    ((status, reason),) = q(hostile["db"], "SELECT status, close_reason FROM crawl_runs")
    assert (status, reason) == ("unhealthy", "finished")


@pytest.mark.parametrize("url", sorted(_expected()["fetches"]))
def test_every_linked_url_has_one_fetch_with_its_reason(hostile: dict[str, Any], url: str) -> None:
    outcome, reason = _expected()["fetches"][url]
    full = hostile["base"] + url if url.startswith("/") else url
    rows = q(hostile["db"], f"SELECT outcome, reason FROM fetches WHERE url = '{full}'")
    assert len(rows) == 1, rows
    ((got_outcome, got_reason),) = rows
    assert got_outcome == outcome
    if reason is None:
        assert got_reason is None
    else:
        assert got_reason is not None and got_reason.startswith(reason), got_reason


def test_the_calendar_trap_stays_within_the_bound(hostile: dict[str, Any]) -> None:
    trap = _expected()["trap"]
    served = {r.path for r in hostile["requests"] if r.path.startswith(trap)}
    assert len(served) == MAX_LIST_PAGES  # distinct pages, not hops
    fetched = q(hostile["db"], f"SELECT COUNT(*) FROM fetches WHERE url LIKE '%{trap}%'")
    assert fetched == [(MAX_LIST_PAGES,)]
    ((stats,),) = q(hostile["db"], "SELECT stats FROM crawl_runs")
    stats = json.loads(stats) if isinstance(stats, str) else stats
    assert stats["gxcrawl/list_traps/column"] == 1
    assert "list trap" in hostile["log"]


def test_nothing_half_received_is_a_report(hostile: dict[str, Any]) -> None:
    stored = {_path(u, hostile["base"]) for (u,) in q(hostile["db"], "SELECT url FROM reports")}
    assert stored == set(_expected()["reports"])
    ((disposition,),) = q(
        hostile["db"],
        "SELECT s.disposition FROM snapshots s JOIN documents d ON d.id = s.document_id "
        "WHERE d.url LIKE '%h04_short.html'",
    )
    assert disposition == "error"  # the half page is kept as evidence, never parsed


def test_offsite_links_are_counted_in_stats_not_fetches(hostile: dict[str, Any]) -> None:
    for url in _expected()["offsite"]:
        assert q(hostile["db"], f"SELECT COUNT(*) FROM fetches WHERE url = '{url}'") == [(0,)]
    ((stats,),) = q(hostile["db"], "SELECT stats FROM crawl_runs")
    stats = json.loads(stats) if isinstance(stats, str) else stats
    assert stats["offsite/filtered"] >= len(_expected()["offsite"])


def test_malformed_links_lose_nothing(hostile: dict[str, Any]) -> None:
    """A malformed IPv6 host or a port out of range is one broken link, skipped: the list and
    the report holding them still yield every other link (the spider's guard never fires)."""
    assert "spider error on" not in hostile["log"]
    ((stats,),) = q(hostile["db"], "SELECT stats FROM crawl_runs")
    stats = json.loads(stats) if isinstance(stats, str) else stats
    assert "gxcrawl/spider_errors" not in stats


STALL = "/nb/h12_stall.html"  # its body comes a minute after its headers
GRACE = 2  # GXCRAWL_SHUTDOWN_GRACE for the signal test
STOP_WITHIN = 20  # seconds from SIGTERM to exit: the grace, the run record and start-up slack
WAIT_FOR_STALL = 60  # seconds for the crawl to reach the stalled page


def start_crawl(portal: str, base_url: str, db_url: str, *extra: str) -> subprocess.Popen[str]:
    """`scrapy crawl` of a fixture portal, running in the background."""
    registry = FIXTURES / "portals" / portal / "portal.toml"
    args = ["crawl", "annual_reports", "-a", f"registry={registry}", "-a", f"base_url={base_url}"]
    return subprocess.Popen(
        [sys.executable, "-m", "scrapy", *args, *FAST_CRAWL, *extra],
        cwd=ROOT,
        env={**os.environ, "GXCRAWL_DATABASE_URL": db_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_crawl_within_seconds(tmp_path: Path, signum: int) -> None:
    db = f"sqlite:///{tmp_path / 'signal.db'}"
    with serve(PORTAL) as server:
        proc = start_crawl(
            "hostile", server.base_url, db,
            "-s", "DOWNLOAD_TIMEOUT=120", "-s", f"GXCRAWL_SHUTDOWN_GRACE={GRACE}",
        )  # fmt: skip
        try:
            deadline = time.monotonic() + WAIT_FOR_STALL
            while not any(r.path == STALL for r in server.requests):
                assert time.monotonic() < deadline and proc.poll() is None, "never reached"
                time.sleep(0.1)
            sent = time.monotonic()
            proc.send_signal(signum)
            proc.communicate(timeout=STOP_WITHIN + 10)
            took = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                proc.kill()
    assert took < STOP_WITHIN
    ((status, reason),) = q(db, "SELECT status, close_reason FROM crawl_runs")
    assert status == "interrupted", reason
