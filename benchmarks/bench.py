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

Then, in the same run: the full crawl's peak RSS over portals of about 1,000 and 20,000 fetched
pages (`RSS growth 1k→20k pages`; `--rss-pages 0` skips it), extraction docs/s against
`trafilatura.extract(…, include_tables=True)` on the same pages, and ms per page by stage
(benchmarks/offline.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import offline
from benchmarks.benchportal import generate
from gxcrawl.extensions import proc_status_bytes
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
# Scrapy samples its memusage/max this often: every second, not every minute (printed beside
# gxcrawl/peak_rss_bytes, the crawl's own peak, which the RSS growth line uses).
RSS_SAMPLING = ["-s", "MEMUSAGE_CHECK_INTERVAL_SECONDS=1"]
# The large generated portal is one column of over a thousand list pages: legitimate here, so
# the list-trap bounds (which would cut it and mark the run unhealthy) are lifted.
NO_LIST_BOUNDS = [
    "-s", "GXCRAWL_MAX_LIST_PAGES=1000000", "-s", "GXCRAWL_MAX_PORTAL_LIST_PAGES=1000000",
]  # fmt: skip
# Share of a generated portal's pages the crawl fetches (lists and reports; 90% report share).
FETCHED_SHARE = 0.9
RSS_SMALL_PAGES = 1000
RSS_SAMPLE = 0.5  # seconds between samples of the crawl's process tree
MB = 1024 * 1024
# Bench-portal report pages timed offline (stages, extractor comparison).
OFFLINE_PAGES = 200


@dataclass
class Result:
    name: str
    wall: float
    pages: int
    bytes: int
    reports: int
    rss_max: int = 0  # the crawl process's own peak RSS in bytes (gxcrawl/peak_rss_bytes, VmHWM)
    memusage_max: int = 0  # Scrapy's memusage/max: ru_maxrss, the bench's own RSS inherited
    tree_rss_max: int = 0  # peak RSS of the crawl and its writer/extraction processes together
    cpu: float = 0.0  # CPU seconds of the crawl and its extraction workers (user + system)

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.wall if self.wall else 0.0

    @property
    def cpu_ms_per_page(self) -> float:
        return self.cpu / self.pages * 1000 if self.pages else 0.0


def _children_cpu() -> float:
    """CPU seconds of every finished child (a crawl's workers are its children, and count)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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
    start, cpu_before = time.perf_counter(), _children_cpu()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err, text=True)
        tree_rss = _sample_tree_rss(proc)
        wall, cpu = time.perf_counter() - start, _children_cpu() - cpu_before
        if proc.returncode != 0 or not stats_file.exists():
            err.seek(0)
            sys.stderr.write(err.read()[-4000:])
            raise SystemExit(f"bench: the {name} crawl failed (exit {proc.returncode})")
    stats = json.loads(stats_file.read_text("utf-8"))
    return Result(
        name,
        wall,
        int(stats.get("response_received_count", 0)),
        int(stats.get("downloader/response_bytes", 0)),
        int(stats.get("gxcrawl/reports_stored", 0)),
        int(stats.get("gxcrawl/peak_rss_bytes") or stats.get("memusage/max", 0)),
        int(stats.get("memusage/max", 0)),
        tree_rss,
        cpu,
    )


def _sample_tree_rss(proc: subprocess.Popen[str]) -> int:
    """Wait for `proc`, sampling the summed RSS of it and its descendants (the store writer,
    extraction workers) every RSS_SAMPLE seconds; the peak, in bytes (0 without /proc)."""
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        # not a sleep: the wall time is read the moment the crawl exits
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(RSS_SAMPLE)
    return peak


def _tree_rss(pid: int) -> int:
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += proc_status_bytes(Path(f"/proc/{current}/status"), "VmRSS") or 0
        todo.extend(int(c) for c in children)
    return total


def _rss_crawl(pages: int, work: Path) -> Result:
    """The full crawl of a generated portal fetching about `pages` pages, its RSS sampled."""
    portal_dir = work / f"portal-{pages}"
    generate(portal_dir, pages=round(pages / FETCHED_SHARE), report_share=0.9)
    with serve(portal_dir) as server:
        db_url = f"sqlite:///{work / f'rss-{pages}.db'}"
        return _crawl(
            f"rss-{pages}", portal_dir / "portal.toml", server.base_url, db_url, work,
            *RSS_SAMPLING, *NO_LIST_BOUNDS,
        )  # fmt: skip


def _print_rss(small: Result, large: Result) -> None:
    growth = (large.rss_max - small.rss_max) / MB
    print(
        f"\nRSS growth 1k→20k pages: {growth:.0f} MB (the crawl process's own peak, VmHWM: "
        f"{small.rss_max / MB:.0f} MB at {small.pages} pages, {large.rss_max / MB:.0f} MB at "
        f"{large.pages} pages)"
    )
    tree = (large.tree_rss_max - small.tree_rss_max) / MB
    print(
        f"  with the writer and extraction processes: {tree:.0f} MB (peak "
        f"{small.tree_rss_max / MB:.0f} MB → {large.tree_rss_max / MB:.0f} MB, sampled every "
        f"{RSS_SAMPLE} s)"
    )
    print(
        f"  Scrapy's memusage/max: {small.memusage_max / MB:.0f} MB → "
        f"{large.memusage_max / MB:.0f} MB (ru_maxrss: a process inherits its parent's at exec, "
        "here the bench's own, which grows with the portal it generated)"
    )


def _print_offline(portal_dir: Path, work: Path) -> None:
    corpus = offline.corpus_documents()
    pages = offline.portal_documents(portal_dir, OFFLINE_PAGES)
    print("\nextraction (offline, best of rounds, same pages for both):")
    for name, docs in (("evaluation corpus", corpus), ("bench portal", pages)):
        ours, theirs = offline.compare_extractors(docs)
        if theirs is None:
            print(f"  {name:<18} gxcrawl {ours:.1f} docs/s (trafilatura not installed: .[bench])")
            continue
        print(
            f"  {name:<18} gxcrawl {ours:.1f} docs/s, trafilatura.extract {theirs:.1f} docs/s "
            f"on {len(docs)} pages: {ours / theirs:.2f}x"
        )
    times = offline.stage_times(pages, work)
    print(f"\nms per page by stage ({len(pages)} bench-portal pages):")
    for stage, ms in times.items():
        print(f"  {stage:<18} {ms:7.2f}")
    print(f"  {'total':<18} {sum(times.values()):7.2f}")


def _print_crawls(bare: Result, full: Result, recrawl: Result, forced: Result) -> None:
    results = [bare, full, recrawl, forced]
    head = f"{'crawl':<11} {'wall s':>8} {'pages':>7} {'pages/s':>9} {'bytes':>12} {'reports':>8}"
    print(f"\n{head} {'CPU ms/page':>12}")
    for r in results:
        row = f"{r.name:<11} {r.wall:>8.2f} {r.pages:>7} {r.pages_per_s:>9.1f}"
        print(f"{row} {r.bytes:>12} {r.reports:>8} {r.cpu_ms_per_page:>12.1f}")
    print("\nratios (measured side by side in this run):")
    print(
        f"  full / bare       wall time {full.wall / bare.wall:.2f}x, "
        f"pages/s {full.pages_per_s / bare.pages_per_s:.2f}x, "
        f"CPU per page {full.cpu_ms_per_page / bare.cpu_ms_per_page:.2f}x"
    )
    print(
        f"  recrawl / full    wall time {recrawl.wall / full.wall:.2f}x, "
        f"bytes {recrawl.bytes / full.bytes:.2%}, pages {recrawl.pages / full.pages:.2%}"
    )
    print(
        f"  revalidate / full wall time {forced.wall / full.wall:.2f}x, "
        f"bytes {forced.bytes / full.bytes:.2%}"
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
    parser.add_argument(
        "--rss-pages",
        type=int,
        default=20000,
        help="fetched pages of the large RSS crawl (default 20000; 0 skips the RSS crawls)",
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
        _print_crawls(bare, full, recrawl, forced)
        if args.rss_pages:
            print(
                f"\nbench: RSS crawls of ~{RSS_SMALL_PAGES} and ~{args.rss_pages} pages", flush=True
            )
            _print_rss(_rss_crawl(RSS_SMALL_PAGES, work), _rss_crawl(args.rss_pages, work))
        _print_offline(portal_dir, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
