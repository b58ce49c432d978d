"""Scale-out (issue 14): `scrapy crawl` workers sharing one Redis frontier and one PostgreSQL store.

Real Redis (GXCRAWL_TEST_REDIS_URL, default 127.0.0.1:6379/0) and real PostgreSQL; every worker is
a real subprocess against the demo fixture portal. Each test uses its own Redis key prefix and
deletes it afterwards; no test leaves a worker running.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from gxcrawl.scaleout import reserve_turn
from gxcrawl.store.db import make_engine
from gxcrawl.testing.fixtureserver import FixtureServer, serve

from .conftest import FAST_CRAWL, FIXTURES, ROOT

REDIS_URL = os.environ.get("GXCRAWL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DEMO = FIXTURES / "portals" / "demo"
EXPECTED = json.loads((DEMO / "expected.json").read_text("utf-8"))
REPORT_PATHS = {r["path"] for r in EXPECTED["reports"]}
WORKER_TIMEOUT = 120  # seconds; a worker that has not exited by then has failed the test
# Short idle close and heartbeat expiry keep each test to seconds (defaults: 30 s and 15 s). The
# idle close is also the grace period for workers started together: one that joins after the
# others closed the run starts a new one, so it must exceed the start-up skew of two processes.
POOL = ["-s", "GXCRAWL_IDLE_CLOSE_SECONDS=3", "-s", "GXCRAWL_WORKER_TTL_SECONDS=3"]
# Slow enough that a worker can be stopped mid-crawl: one request at a time, 0.4 s apart.
SLOW = ["-s", "DOWNLOAD_DELAY=0.4", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]


def _redis_reason() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"Redis not reachable at {REDIS_URL} ({type(exc).__name__}: {exc})"
    return None


_REDIS_SKIP = _redis_reason()
pytestmark = pytest.mark.skipif(_REDIS_SKIP is not None, reason=_REDIS_SKIP or "")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    import redis

    prefix = f"gxtest-{uuid.uuid4().hex[:10]}"
    yield prefix
    server = redis.Redis.from_url(REDIS_URL)
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)


class Pool:
    """Worker subprocesses: `scrapy crawl annual_reports` on one fixture portal, one database."""

    def __init__(
        self, server: FixtureServer, db_url: str, prefix: str, portal: Path = DEMO
    ) -> None:
        self.server, self.db_url, self.prefix, self.portal = server, db_url, prefix, portal
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, *extra: str) -> subprocess.Popen[str]:
        cmd = [
            sys.executable, "-m", "scrapy", "crawl", "annual_reports",
            "-a", f"registry={self.portal / 'portal.toml'}",
            "-a", f"base_url={self.server.base_url}",
            *FAST_CRAWL, *POOL, "-s", f"GXCRAWL_REDIS_PREFIX={self.prefix}", *extra,
        ]  # fmt: skip
        env = {**os.environ, "GXCRAWL_DATABASE_URL": self.db_url, "GXCRAWL_REDIS_URL": REDIS_URL}
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self.procs.append(proc)
        return proc

    def wait(self, proc: subprocess.Popen[str]) -> str:
        """The worker's log; it must exit 0 by itself."""
        _, err = proc.communicate(timeout=WORKER_TIMEOUT)
        errors = [ln for ln in err.splitlines() if "ERROR" in ln or "Error" in ln][:20]
        assert proc.returncode == 0, "\n".join(errors) + err[-3000:]
        return err

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()

    def wait_for_requests(self, n: int) -> None:
        deadline = time.monotonic() + WORKER_TIMEOUT
        while len(self.server.requests) < n:
            assert time.monotonic() < deadline, "the crawl never got going"
            time.sleep(0.05)


@pytest.fixture
def pool(pg_url: str, redis_prefix: str) -> Iterator[Pool]:
    with serve(DEMO) as server:
        workers = Pool(server, pg_url, redis_prefix)
        try:
            yield workers
        finally:
            workers.stop_all()


def q(db_url: str, sql: str) -> list[Any]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql))]
    engine.dispose()
    return rows


def fetched(server: FixtureServer) -> collections.Counter[str]:
    return collections.Counter(f"{r.method} {r.path}" for r in server.requests)


def stored_report_paths(db_url: str) -> list[str]:
    urls = [r[0] for r in q(db_url, "SELECT url FROM report_documents")]
    return sorted("/" + u.split("/", 3)[3] for u in urls)


def assert_no_duplicate_rows(db_url: str) -> None:
    assert q(db_url, "SELECT url FROM documents GROUP BY url HAVING COUNT(*) > 1") == []
    assert q(db_url, "SELECT sha256 FROM bodies GROUP BY sha256 HAVING COUNT(*) > 1") == []
    versions = "SELECT document_id, version FROM snapshots GROUP BY 1, 2 HAVING COUNT(*) > 1"
    assert q(db_url, versions) == []
    parsed = "SELECT snapshot_id FROM parsed_reports GROUP BY 1 HAVING COUNT(*) > 1"
    assert q(db_url, parsed) == []


def run_rows(db_url: str) -> list[tuple[str, str | None]]:
    rows = q(db_url, "SELECT status, stats FROM crawl_runs ORDER BY id")
    return [
        (status, (json.loads(s) if isinstance(s, str) else s or {}).get("gxcrawl/run_key"))
        for status, s in rows
    ]


def test_two_workers_fetch_every_page_once_then_a_new_run_starts_clean(pool: Pool) -> None:
    first, second = pool.start(), pool.start()
    logs = [pool.wait(first), pool.wait(second)]

    counts = fetched(pool.server)
    assert counts, "nothing was fetched"
    assert {k: n for k, n in counts.items() if n > 1} == {}  # robots.txt and seeds included
    assert "GET /robots.txt" in counts
    assert set(stored_report_paths(pool.db_url)) == REPORT_PATHS
    assert_no_duplicate_rows(pool.db_url)
    # One row per worker, linked by the run key; both finished.
    rows = run_rows(pool.db_url)
    assert [status for status, _ in rows] == ["finished", "finished"]
    assert len({key for _, key in rows}) == 1 and rows[0][1]
    # Both did work, the last one out closed the run (its keys are gone, a new run starts clean).
    assert sum("started run" in log for log in logs) == 1
    assert sum("joined run" in log for log in logs) == 1
    assert sum("finished: its keys are deleted" in log for log in logs) == 1

    # Same arguments again: the run finished, so a new epoch starts clean (seeds not filtered).
    pool.server.clear_log()
    log = pool.wait(pool.start())
    assert "started run" in log and "(epoch 2)" in log
    assert {f"GET {p}" for p in EXPECTED["list_pages"]} <= set(fetched(pool.server))
    assert [key.rsplit("#", 1)[1] for _, key in run_rows(pool.db_url) if key] == ["1", "1", "2"]


def test_an_interrupted_run_resumes_where_it_stopped(pool: Pool) -> None:
    first = pool.start(*SLOW)
    pool.wait_for_requests(4)
    first.send_signal(signal.SIGINT)  # graceful: in-flight requests finish, the frontier stays
    pool.wait(first)
    before = fetched(pool.server)
    assert not {k.split(" ", 1)[1] for k in before} >= REPORT_PATHS, "stopped too late"

    log = pool.wait(pool.start())
    assert "joined run" in log and "(epoch 1)" in log  # resumed, not restarted
    counts = fetched(pool.server)
    assert {k: n for k, n in counts.items() if n > 1} == {}  # nothing fetched twice
    assert set(stored_report_paths(pool.db_url)) == REPORT_PATHS
    assert [status for status, _ in run_rows(pool.db_url)] == ["interrupted", "finished"]


def test_a_killed_worker_is_recovered_by_the_next_run(pool: Pool) -> None:
    victim, survivor = pool.start(*SLOW), pool.start(*SLOW)
    pool.wait_for_requests(5)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    log = pool.wait(survivor)  # exits by itself once the dead worker's heartbeat has expired
    assert "gxcrawl/shared_delay_waits" in log  # the two took turns on one per-site clock
    first_run = fetched(pool.server)
    assert {k: n for k, n in first_run.items() if n > 1} == {}
    stored_first = set(stored_report_paths(pool.db_url))

    pool.server.clear_log()
    pool.wait(pool.start())  # a new run: whatever died in flight with the victim is fetched now
    second_run = fetched(pool.server)
    assert {k: n for k, n in second_run.items() if n > 1} == {}
    assert set(stored_report_paths(pool.db_url)) == REPORT_PATHS
    assert_no_duplicate_rows(pool.db_url)
    # Reports the first run stored are not fetched again (not due); the missing ones are.
    assert not {p for p in stored_first if f"GET {p}" in second_run}
    assert {f"GET {p}" for p in REPORT_PATHS - stored_first} <= set(second_run)
    statuses = sorted(status for status, _ in run_rows(pool.db_url))
    assert statuses == ["finished", "finished", "interrupted"]  # the victim's row, marked dead


def test_workers_share_one_clock_per_domain(redis_prefix: str) -> None:
    import redis

    server = redis.Redis.from_url(REDIS_URL)
    key = f"{redis_prefix}:domain:example.gov.cn"
    interval = 60_000  # one minute: the calls below take far less, so the turns queue up
    waits = [reserve_turn(server, key, interval) for _ in range(3)]
    assert waits[0] == 0
    assert interval - 1_000 < waits[1] <= interval
    assert 2 * interval - 1_000 < waits[2] <= 2 * interval
    other = reserve_turn(server, f"{redis_prefix}:domain:other.gov.cn", interval)
    assert other == 0  # domains do not wait for each other


def test_the_addon_switches_only_with_a_redis_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from scrapy.settings import Settings

    from gxcrawl.scaleout import ScaleOut

    monkeypatch.delenv("GXCRAWL_REDIS_URL", raising=False)
    plain = Settings({"DOWNLOADER_MIDDLEWARES": {"gxcrawl.middlewares.RedirectLoopMiddleware": 1}})
    ScaleOut().update_settings(plain)
    assert plain.get("SCHEDULER") == "scrapy.core.scheduler.Scheduler"  # unchanged
    assert dict(plain.getdict("DOWNLOADER_MIDDLEWARES")) == {
        "gxcrawl.middlewares.RedirectLoopMiddleware": 1
    }

    scaled = Settings({"DOWNLOADER_MIDDLEWARES": {"gxcrawl.middlewares.RedirectLoopMiddleware": 1}})
    scaled.set("GXCRAWL_REDIS_URL", REDIS_URL, priority="cmdline")
    ScaleOut().update_settings(scaled)
    assert scaled.get("SCHEDULER") == "gxcrawl.scaleout.RunScheduler"
    assert scaled.get("REDIS_URL") == REDIS_URL
    names = {getattr(k, "__name__", k) for k in scaled.getdict("DOWNLOADER_MIDDLEWARES")}
    assert {
        "gxcrawl.middlewares.RedirectLoopMiddleware",
        "SharedRobotsTxtMiddleware",
        "SharedPolitenessMiddleware",
    } <= names


def test_joining_resumes_only_a_run_with_work_or_workers_left(redis_prefix: str) -> None:
    import redis

    from gxcrawl.scaleout import join_run

    server = redis.Redis.from_url(REDIS_URL)
    base, ttl = f"{redis_prefix}:run", 60
    keys, fresh = join_run(server, base, "w1", ttl)
    assert (keys.epoch, fresh) == (1, True)
    assert join_run(server, base, "w2", ttl) == (keys, False)  # w1 is registered: join it
    server.delete(keys.worker("w1"), keys.worker("w2"))  # both stopped...
    server.zadd(keys.requests, {b"a request": 0})  # ...leaving work in the frontier
    assert join_run(server, base, "w3", ttl) == (keys, False)  # resumed
    server.delete(keys.requests, keys.worker("w3"))  # w3 died after the work ran out
    server.sadd(keys.dupefilter, "fingerprint")
    again, fresh = join_run(server, base, "w4", ttl)
    assert (again.epoch, fresh) == (2, True)  # nothing to resume: a clean run
    assert not server.exists(keys.dupefilter)
    assert server.smembers(again.workers) == {b"w4"}


def test_the_frontier_interleaves_domains(redis_prefix: str) -> None:
    """A worker pulls the next request of every domain before a second one of any domain."""
    import redis
    from scrapy import Request, Spider

    from gxcrawl.scaleout import DomainFairQueue

    queue = DomainFairQueue(
        redis.Redis.from_url(REDIS_URL), Spider(name="t"), f"{redis_prefix}:requests"
    )
    for url in ["http://a/1", "http://a/2", "http://a/3", "http://b/1", "http://b/2"]:
        queue.push(Request(url))
    queue.push(Request("http://c/urgent", priority=5))
    popped = [queue.pop().url for _ in range(len(queue))]
    assert popped == [
        "http://c/urgent", "http://a/1", "http://b/1", "http://a/2", "http://b/2", "http://a/3",
    ]  # fmt: skip
    queue.clear()
    assert len(queue) == 0


def _generate_portal(folder: Path, pages: int) -> None:
    """The bench's generated portal (benchmarks/benchportal.py)."""
    from benchmarks.benchportal import generate

    generate(folder, pages=pages, report_share=0.9)


# Generated portal: one chain of list pages, so the frontier keeps running dry and refilling —
# the pattern in which a worker that misread another's state once closed the run too early.
CHAIN_PAGES = 600
BUSY_POOL = ["-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "GXCRAWL_IDLE_CLOSE_SECONDS=1"]


def test_a_frontier_that_runs_dry_and_refills_is_not_closed_early(
    pg_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    portal = tmp_path / "portal"
    _generate_portal(portal, CHAIN_PAGES)
    with serve(portal) as server:
        workers = Pool(server, pg_url, redis_prefix, portal)
        try:
            logs = [workers.wait(p) for p in (workers.start(*BUSY_POOL), workers.start(*BUSY_POOL))]
        finally:
            workers.stop_all()
        counts = fetched(server)
    assert {k: n for k, n in counts.items() if n > 1} == {}
    assert sum("finished: its keys are deleted" in log for log in logs) == 1
    expected = json.loads((portal / "expected.json").read_text("utf-8"))
    stored = q(pg_url, "SELECT COUNT(*) FROM report_documents")[0][0]
    assert stored == len(expected["reports"])
    assert_no_duplicate_rows(pg_url)
