"""`make bench`: measure gxcrawl against bare Scrapy on the same generated local portal.

Four crawls in one run, side by side, each a real `scrapy crawl` subprocess against one local
fixture server (same port, so the recrawls see the same URLs):

1. bare      — the same spider with storage, extraction and the conditional middleware off;
2. full      — the full gxcrawl pipeline into a new SQLite database (first crawl);
3. recrawl   — the same crawl again, nothing changed (reports not yet due, lists revalidated);
4. revalidate — again with GXCRAWL_FORCE_REFRESH: every page asked conditionally (304s).

The generated portal has 2,400 pages, 90% of its documents reports, so that the crawl itself
fetches over 2,000 pages (the spider never fetches documents whose titles are not reports).
Prints pages/s, bytes and wall time for each, and the ratios full/bare and recrawl/full.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.benchportal import generate
from gxcrawl.testing import scrapy_env
from gxcrawl.testing.fixtureserver import serve

FAST = [
    "-s", "AUTOTHROTTLE_ENABLED=False",
    "-s", "DOWNLOAD_DELAY=0",
    "-s", "CONCURRENT_REQUESTS=16",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "-s", "LOG_LEVEL=WARNING",
    "-s", "GXCRAWL_PROGRESS_INTERVAL=0",
]  # fmt: skip


@dataclass
class Result:
    name: str
    wall: float
    pages: int
    bytes: int
    reports: int

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.wall if self.wall else 0.0


def _crawl(
    name: str, registry: Path, base_url: str, db_url: str, work: Path, *extra: str
) -> Result:
    stats_file = work / f"{name}.stats.json"
    cmd = [
        sys.executable, "-m", "scrapy", "crawl", "annual_reports",
        "-a", f"registry={registry}", "-a", f"base_url={base_url}",
        "-s", f"GXCRAWL_STATS_FILE={stats_file}", *FAST, *extra,
    ]  # fmt: skip
    env = scrapy_env(db_url)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0 or not stats_file.exists():
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"bench: the {name} crawl failed (exit {proc.returncode})")
    stats = json.loads(stats_file.read_text("utf-8"))
    return Result(
        name,
        wall,
        int(stats.get("response_received_count", 0)),
        int(stats.get("downloader/response_bytes", 0)),
        int(stats.get("gxcrawl/reports_stored", 0)),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="gxcrawl benchmark (local, offline)")
    parser.add_argument(
        "--pages", type=int, default=2400, help="pages in the generated portal (default 2400)"
    )
    parser.add_argument(
        "--report-share",
        type=float,
        default=0.9,
        help="share of detail pages that are reports (the spider fetches lists and reports only)",
    )
    parser.add_argument("--keep", help="keep the generated portal and databases in this folder")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="gxcrawl-bench-") as tmp:
        work = Path(args.keep or tmp)
        work.mkdir(parents=True, exist_ok=True)
        portal_dir = work / "portal"
        counts = generate(portal_dir, pages=args.pages, report_share=args.report_share)
        print(f"bench: generated portal with {counts}", flush=True)
        registry = portal_dir / "portal.toml"
        with serve(portal_dir) as server:
            url = server.base_url
            bare = _crawl(
                "bare", registry, url, f"sqlite:///{work / 'unused.db'}", work,
                "-s", "GXCRAWL_STORE_ENABLED=False", "-s", "ITEM_PIPELINES={}",
            )  # fmt: skip
            db_url = f"sqlite:///{work / 'bench.db'}"
            full = _crawl("full", registry, url, db_url, work)
            recrawl = _crawl("recrawl", registry, url, db_url, work)
            forced = _crawl(
                "revalidate", registry, url, db_url, work, "-s", "GXCRAWL_FORCE_REFRESH=True"
            )
    results = [bare, full, recrawl, forced]
    print(f"\n{'crawl':<11} {'wall s':>8} {'pages':>7} {'pages/s':>9} {'bytes':>12} {'reports':>8}")
    for r in results:
        row = f"{r.name:<11} {r.wall:>8.2f} {r.pages:>7} {r.pages_per_s:>9.1f}"
        print(f"{row} {r.bytes:>12} {r.reports:>8}")
    print("\nratios (measured side by side in this run):")
    print(
        f"  full / bare       wall time {full.wall / bare.wall:.2f}x, "
        f"pages/s {full.pages_per_s / bare.pages_per_s:.2f}x"
    )
    print(
        f"  recrawl / full    wall time {recrawl.wall / full.wall:.2f}x, "
        f"bytes {recrawl.bytes / full.bytes:.2%}, pages {recrawl.pages / full.pages:.2%}"
    )
    print(
        f"  revalidate / full wall time {forced.wall / full.wall:.2f}x, "
        f"bytes {forced.bytes / full.bytes:.2%}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
