"""`make bench-workers`: two scale-out workers against one, on the same generated local portal.

Each crawl is real `scrapy crawl annual_reports` subprocesses sharing one Redis frontier
(GXCRAWL_REDIS_URL) and writing into one new PostgreSQL schema (SQLite when PostgreSQL is not
reachable, which then serialises the writers). The portal is served by the fixture server in a
process of its own, and its capacity is measured first with a plain threaded HTTP client over
the same pages, so the printed worker rates can be read against what the server can give.

    python benchmarks/workers.py [--pages 1200] [--workers 2]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.benchportal import generate  # noqa: E402  (after the sys.path line)

FIXTURE_SERVER = "gxcrawl.testing.fixtureserver"
REDIS_URL = os.environ.get("GXCRAWL_REDIS_URL", "redis://127.0.0.1:6379/0")
PG_URL = os.environ.get("GXCRAWL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# No politeness delay: the bench measures what a worker can process, not how slowly it may ask.
FAST = [
    "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
    "-s", "CONCURRENT_REQUESTS=16", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "-s", "LOG_LEVEL=WARNING", "-s", "GXCRAWL_PROGRESS_INTERVAL=0",
    "-s", "GXCRAWL_IDLE_CLOSE_SECONDS=1",
]  # fmt: skip
CLIENT_THREADS = 16  # as many requests in flight as one worker's CONCURRENT_REQUESTS
SERVER_START_TIMEOUT = 20.0
# Every pool's wall time includes the idle close (1 s above, plus up to 1 s until the check).
IDLE_NOTE = "wall times include ~2 s of idle-close wait per pool"


@dataclass
class Crawl:
    workers: int
    wall: float
    pages: int
    reports: int

    @property
    def rate(self) -> float:
        return self.pages / self.wall if self.wall else 0.0


@contextlib.contextmanager
def fixture_server(portal: Path) -> Iterator[str]:
    """The fixture server in its own process (not sharing this process' GIL)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", FIXTURE_SERVER, str(portal), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("bench: the fixture server did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def server_capacity(base: str, portal: Path) -> float:
    """Pages/s the server gives a plain threaded client fetching every page of the portal."""
    paths = [
        "/" + str(p.relative_to(portal)).replace(os.sep, "/")
        for p in portal.rglob("*.html")
        if not p.name.startswith("_")
    ]

    def fetch(path: str) -> int:
        with urllib.request.urlopen(base + path, timeout=30) as resp:
            return len(resp.read())

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(CLIENT_THREADS) as pool:
        list(pool.map(fetch, paths))
    return len(paths) / (time.perf_counter() - start)


@contextlib.contextmanager
def database(work: Path) -> Iterator[str]:
    """A new PostgreSQL schema (dropped afterwards), else a new SQLite file."""
    try:
        import psycopg

        schema = f"gxbench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except Exception as exc:
        print(f"bench: PostgreSQL not reachable ({exc}); using SQLite", file=sys.stderr)
        yield f"sqlite:///{work / f'workers-{uuid.uuid4().hex[:6]}.db'}"
        return
    try:
        yield PG_URL.replace("postgresql://", "postgresql+psycopg://", 1) + (
            f"?options=-csearch_path%3D{schema}"
        )
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def crawl(workers: int, registry: Path, base: str, work: Path) -> Crawl:
    prefix = f"gxbench-{uuid.uuid4().hex[:8]}"
    with database(work) as db_url:
        env = {**os.environ, "GXCRAWL_DATABASE_URL": db_url, "GXCRAWL_REDIS_URL": REDIS_URL}
        stats = [work / f"{prefix}-{i}.json" for i in range(workers)]
        cmd = [
            sys.executable, "-m", "scrapy", "crawl", "annual_reports",
            "-a", f"registry={registry}", "-a", f"base_url={base}",
            *FAST, "-s", f"GXCRAWL_REDIS_PREFIX={prefix}",
        ]  # fmt: skip
        start = time.perf_counter()
        procs = [
            subprocess.Popen(
                [*cmd, "-s", f"GXCRAWL_STATS_FILE={s}"], cwd=ROOT, env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )
            for s in stats
        ]  # fmt: skip
        errors = [p.communicate()[1] for p in procs]
        wall = time.perf_counter() - start
        _forget(prefix)
    for proc, err in zip(procs, errors, strict=True):
        if proc.returncode != 0:
            sys.stderr.write(err[-4000:])
            raise SystemExit(f"bench: a worker failed (exit {proc.returncode})")
    results = [json.loads(s.read_text("utf-8")) for s in stats]
    pages = sum(int(r.get("response_received_count", 0)) for r in results)
    reports = sum(int(r.get("gxcrawl/reports_stored", 0)) for r in results)
    return Crawl(workers, wall, pages, reports)


def _forget(prefix: str) -> None:
    import redis

    server = redis.Redis.from_url(REDIS_URL)
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="gxcrawl scale-out bench (local, offline)")
    parser.add_argument("--pages", type=int, default=1200, help="pages in the generated portal")
    parser.add_argument("--workers", type=int, default=2, help="workers in the pool (vs one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gxcrawl-bench-workers-") as tmp:
        work = Path(tmp)
        portal = work / "portal"
        print(f"bench: {generate(portal, pages=args.pages, report_share=0.9)}", flush=True)
        with fixture_server(portal) as base:
            capacity = server_capacity(base, portal)
            one = crawl(1, portal / "portal.toml", base, work)
            pool = crawl(args.workers, portal / "portal.toml", base, work)
    _report(capacity, one, pool)
    return 0


def _report(capacity: float, one: Crawl, pool: Crawl) -> None:
    print(f"\nserver alone ({CLIENT_THREADS} client threads): {capacity:.1f} pages/s")
    print(f"{'workers':>7} {'wall s':>8} {'pages':>7} {'pages/s':>9} {'reports':>8}")
    for c in (one, pool):
        print(f"{c.workers:>7} {c.wall:>8.2f} {c.pages:>7} {c.rate:>9.1f} {c.reports:>8}")
    print(f"\n{pool.workers} workers / 1 worker: pages/s {pool.rate / one.rate:.2f}x")
    print(f"busiest pool used {pool.rate / capacity:.0%} of the server's capacity ({IDLE_NOTE})")
    if pool.pages != one.pages:
        print(f"WARNING: the pool fetched {pool.pages} pages, one worker {one.pages}")


if __name__ == "__main__":
    sys.exit(main())
