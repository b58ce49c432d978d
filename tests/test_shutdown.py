"""Ctrl-C stops scheduling at once: requests queued behind DOWNLOAD_DELAY are postponed (back
into JOBDIR's queue), only those in flight finish, and the process ends within seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from gxcrawl.testing.fixtureserver import serve

from .conftest import FAST_CRAWL, FIXTURES, ROOT
from .test_incremental import q

DEMO = FIXTURES / "portals" / "demo"
DELAY = 1.5  # seconds between requests to the one domain: a queue builds behind it
QUEUED_COST = 8 * DELAY  # what waiting for the queued requests would take at least


def test_ctrl_c_finishes_only_the_requests_in_flight(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    with serve(DEMO) as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "scrapy", "crawl", "annual_reports",
             "-a", f"registry={DEMO / 'portal.toml'}", "-a", f"base_url={server.base_url}",
             *FAST_CRAWL, "-s", f"DOWNLOAD_DELAY={DELAY}", "-s", "RANDOMIZE_DOWNLOAD_DELAY=False",
             "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", f"JOBDIR={tmp_path / 'job'}"],
            cwd=ROOT, env={**os.environ, "GXCRAWL_DATABASE_URL": db},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while len(server.requests) < 4:  # robots.txt, the list pages: the reports are queued
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        asked = len(server.requests)
        stopped = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        took = time.monotonic() - stopped
        after = len(server.requests) - asked
    assert proc.returncode == 0, err[-2000:]
    assert took < QUEUED_COST, (took, err[-2000:])
    assert after <= 1, after  # at most the one request that was on the wire
    assert "postponed; finishing those in flight" in err
    assert "Traceback" not in err
    assert [s for (s,) in q(db, "SELECT status FROM crawl_runs")] == ["interrupted"]
    assert (tmp_path / "job" / "requests.queue").exists()  # the postponed ones wait for resume
