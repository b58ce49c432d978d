"""Health checks: the pure verdict, the history read from a real store (SQLite and PostgreSQL),
the Spidermon suite in a real crawl (a start URL turning 404 after a healthy run), and the
atomic stats file."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from gxcrawl import health
from gxcrawl.extensions import peak_rss_bytes
from gxcrawl.health import PortalFacts, Reason, Thresholds, assess
from gxcrawl.store import health as store_health
from gxcrawl.store.db import Database, make_engine
from gxcrawl.store.health import StartFetch
from gxcrawl.store.models import Body, CrawlRun, Document, Fetch, ParsedReport, Snapshot
from gxcrawl.urls import canonical_url

from .conftest import FIXTURES, run_scrapy
from .portal_walk import fixtureserver

START = "http://www.demo.example/xxgk/ndbg/"
OK_START = (StartFetch(START, "unchanged", 304, None),)


def _checks(reasons: list[Reason]) -> list[str]:
    return [r.check for r in reasons]


# --- assess (pure) -----------------------------------------------------------------------------


def test_a_quiet_healthy_run_has_no_reasons() -> None:
    stats = {"gxcrawl/outcome/new": 8, "gxcrawl/outcome/unchanged": 2}
    facts = [PortalFacts("p", reports_now=8, last_healthy_run=1, last_healthy_reports=8)]
    assert assess(stats, facts, Thresholds()) == []
    assert health.exit_code([]) == health.EXIT_HEALTHY


def test_zero_reports_after_a_healthy_run_with_some() -> None:
    facts = [PortalFacts("p", 0, last_healthy_run=7, last_healthy_reports=10, starts=OK_START)]
    reasons = assess({}, facts, Thresholds())
    assert [r.line() for r in reasons] == [
        "zero_reports [p]: 0 reports found; the last healthy run #7 found 10"
    ]
    assert health.exit_code(reasons) == health.EXIT_UNHEALTHY


@pytest.mark.parametrize(
    ("now", "last_run", "last_reports"),
    [(None, 7, 10), (0, None, 0), (0, 7, 0), (3, 7, 10)],
    ids=["unknown-now", "no-history", "history-empty", "some-found"],
)
def test_zero_reports_needs_a_known_drop_to_zero(
    now: int | None, last_run: int | None, last_reports: int
) -> None:
    facts = [PortalFacts("p", now, last_run, last_reports, OK_START)]
    assert assess({}, facts, Thresholds()) == []


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (StartFetch(START, "gone", 404, "http_404"), f"{START} gone (http_404)"),
        (StartFetch(START, "error", None, "dns: DNSLookupError"), f"{START} error (dns: "),
        (StartFetch(START, "error", None, "connection_refused: x"), "connection_refused"),
        (StartFetch(START, "blocked", 412, None), f"{START} blocked (HTTP 412)"),
        (StartFetch(START, None, None, None), "never fetched (robots.txt, offsite"),
    ],
)
def test_failing_start_urls(start: StartFetch, expected: str) -> None:
    reasons = assess({}, [PortalFacts("p", None, starts=(start,))], Thresholds())
    assert _checks(reasons) == ["start_url"]
    assert expected in reasons[0].line()


def test_start_url_forbidden_by_robots() -> None:
    facts = [PortalFacts("p", None, starts=(StartFetch(START, None, None, None),))]
    reasons = assess({"robotstxt/forbidden": 1}, facts, Thresholds())
    assert reasons[0].line() == f"start_url [p]: {START} never fetched (robots.txt disallows it)"


def test_start_urls_that_answered_are_fine() -> None:
    starts = (StartFetch(START, "new", 200, None), StartFetch(START + "x", "unchanged", 304, None))
    assert assess({}, [PortalFacts("p", None, starts=starts)], Thresholds()) == []


def test_blocked_and_error_shares_over_threshold() -> None:
    stats = {"gxcrawl/outcome/new": 6, "gxcrawl/outcome/blocked": 3, "gxcrawl/outcome/error": 1}
    reasons = assess(stats, [], Thresholds(max_blocked_share=0.2, max_error_share=0.2))
    assert [r.line() for r in reasons] == ["blocked_share: 3 of 10 fetches blocked (30% > 20%)"]
    assert assess(stats, [], Thresholds(max_blocked_share=0.3)) == []  # at the limit: fine


def test_shares_of_a_tiny_run_are_not_judged() -> None:
    stats = {"gxcrawl/outcome/new": 1, "gxcrawl/outcome/error": 2}
    assert assess(stats, [], Thresholds(min_fetches=5)) == []
    assert _checks(assess(stats, [], Thresholds(min_fetches=3))) == ["error_share"]


def test_parse_errors() -> None:
    assert _checks(assess({"gxcrawl/parse_errors": 2}, [], Thresholds())) == ["parse_errors"]
    assert assess({"gxcrawl/parse_errors": 2}, [], Thresholds(max_parse_errors=2)) == []


def test_pages_the_store_refused_make_the_run_unhealthy() -> None:
    assert assess({health.WRITE_ERRORS_STAT: 0}, [], Thresholds()) == []
    reasons = assess({health.WRITE_ERRORS_STAT: 3}, [], Thresholds())
    assert _checks(reasons) == ["write_errors"] and "3 fetched pages" in reasons[0].line()


def test_database_reason_has_its_own_exit_code() -> None:
    reasons = [Reason("start_url", "x"), Reason("database", "cannot open")]
    assert health.exit_code(reasons) == health.EXIT_DATABASE


def test_judge_with_an_unreachable_database_says_so_in_one_line(tmp_path: Path) -> None:
    url = "postgresql://nobody@127.0.0.1:1/none"
    reasons = health.judge(url, 5, {"p": [START]}, {}, Thresholds())
    assert _checks(reasons) == ["database"]
    assert "\n" not in reasons[0].line()


# --- the history, from a real store ------------------------------------------------------------


def _run(session: Any, status: str, portals: str, stats: dict[str, Any] | None = None) -> int:
    run = CrawlRun(spider="annual_reports", portals=portals, status=status, stats=stats or {})
    session.add(run)
    session.flush()
    return run.id


def _report(session: Any, portal: str, n: int) -> Document:
    """A report document with a snapshot and its parsed row."""
    url = f"http://www.demo.example/xxgk/ndbg/t2024_{portal}_{n}.html"
    doc = Document(url=url, portal_id=portal, kind="report")
    data = f"{portal}{n}".encode()
    sha = hashlib.sha256(data).hexdigest()
    session.add_all([doc, Body(sha256=sha, size=len(data), data=data)])
    session.flush()
    snap = Snapshot(document_id=doc.id, version=1, requested_url=url, final_url=url, status=200,
                    body_sha256=sha)  # fmt: skip
    session.add(snap)
    session.flush()
    session.add(ParsedReport(snapshot_id=snap.id, document_id=doc.id, url=url, parser_version="t"))
    return doc


def _fetch(session: Any, run_id: int, url: str, outcome: str, doc: Document | None = None) -> None:
    session.add(Fetch(run_id=run_id, url=url, outcome=outcome, document_id=doc.id if doc else None))


def test_history_and_start_fetches_from_the_store(any_db_url: str) -> None:
    db = Database(any_db_url)
    with db.transaction() as s:
        docs = [_report(s, "p", n) for n in range(3)]
        other = _report(s, "q", 9)
        healthy = _run(s, "finished", "p,q")
        for doc in docs:
            _fetch(s, healthy, doc.url, "new", doc)
        _fetch(s, healthy, other.url, "new", other)
        _fetch(s, healthy, docs[0].url, "error", docs[0])  # a later failed retry: same doc
        sick = _run(s, "unhealthy", "p")
        _fetch(s, sick, docs[1].url, "unchanged", docs[1])
        counted = _run(s, "finished", "p", {store_health.REPORTS_SEEN_PREFIX + "p": 12})
        quiet = _run(s, "finished", "p", {"gxcrawl/not_due": 5})  # count unknown: passed over
        current = _run(s, "running", "p")
        _fetch(s, current, canonical_url(START), "gone")
    with db.transaction() as s:
        past = store_health.last_healthy_run(s, "p", before_run_id=counted)
        assert past is not None and (past.run_id, past.reports) == (healthy, 3)
        # the spider's own per-portal count wins when a run kept one
        latest = store_health.last_healthy_run(s, "p", before_run_id=current)
        assert latest is not None and (latest.run_id, latest.reports) == (counted, 12)
        assert store_health.reports_of_run(s, "p", quiet) is None
        assert store_health.last_healthy_run(s, "q", before_run_id=healthy) is None
        assert store_health.last_healthy_run(s, "pq") is None  # ids match whole, not by prefix
        assert store_health.reports_of_run(s, "q", healthy) == 1
        starts = store_health.start_fetches(s, current, [START, START + "other/"])
        assert [(f.outcome, f.url) for f in starts] == [("gone", START), (None, START + "other/")]
    facts = health.collect(db, current, {"p": [START]}, {})
    assert facts[0].last_healthy_run == counted
    assert facts[0].reports_now == 0
    assert _checks(assess({}, facts, Thresholds())) == ["start_url", "zero_reports"]
    db.close()


def test_mark_unhealthy_keeps_reasons_in_stats(any_db_url: str) -> None:
    db = Database(any_db_url)
    with db.transaction() as s:
        finished = _run(s, "finished", "p", {"gxcrawl/outcome/new": 3})
        interrupted = _run(s, "interrupted", "p")
    health.record(any_db_url, finished, [Reason("start_url", "gone", "p")])
    health.record(any_db_url, interrupted, [Reason("parse_errors", "2 pages")])
    with db.transaction() as s:
        run = s.get(CrawlRun, finished)
        assert run is not None and run.status == "unhealthy"
        assert run.stats["gxcrawl/outcome/new"] == 3
        assert store_health.run_reasons(run.stats) == ["start_url [p]: gone"]
        kept = s.get(CrawlRun, interrupted)
        assert kept is not None and kept.status == "interrupted"
        assert store_health.run_reasons(kept.stats) == ["parse_errors: 2 pages"]
    db.close()


# --- Spidermon in a real crawl -----------------------------------------------------------------


def _crawl(base_url: str, db_url: str) -> subprocess.CompletedProcess[str]:
    """The shipped settings: Spidermon's health suite and the crawl command's exit code."""
    registry = FIXTURES / "portals" / "trs" / "portal.toml"
    args = [
        "crawl", "annual_reports", "-a", f"registry={registry}", "-a", f"base_url={base_url}",
        "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "LOG_LEVEL=WARNING",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", "GXCRAWL_PROGRESS_INTERVAL=0",
    ]  # fmt: skip
    return run_scrapy(args, db_url)


def test_start_url_turning_404_after_healthy_runs_fails_the_run(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'health.db'}"
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "_site.toml").write_text('[paths."/xxgk/ndbg/"]\nremoved = true\n', "utf-8")
    with fixtureserver().serve(FIXTURES / "portals" / "trs") as server:
        first = _crawl(server.base_url, db_url)
        second = _crawl(server.base_url, db_url)  # nothing due: quiet, still healthy
        server.set_overlay(overlay)
        broken = _crawl(server.base_url, db_url)
    down = _crawl(server.base_url, db_url)  # the server is gone: connection refused
    assert (first.returncode, second.returncode) == (0, 0), second.stderr[-2000:]
    assert "gxcrawl: unhealthy" not in first.stderr + second.stderr
    assert broken.returncode == health.EXIT_UNHEALTHY, broken.stderr[-2000:]
    lines = [x for x in broken.stderr.splitlines() if x.startswith("gxcrawl: unhealthy: ")]
    assert lines == [
        "gxcrawl: unhealthy: start_url [fixture-trs]: "
        f"{server.base_url}/xxgk/ndbg/ gone (http_404)",
        # 11 report links: the 8 reports, a blocked one and 2 never requested (robots, offsite);
        # run 2 knows its count too (the spider counts links, due or not)
        "gxcrawl: unhealthy: zero_reports [fixture-trs]: 0 reports found; "
        "the last healthy run #2 found 11",
    ]
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = list(conn.execute(text("SELECT id, status, stats FROM crawl_runs ORDER BY id")))
    engine.dispose()
    statuses = [(r.id, r.status) for r in rows]
    assert statuses == [(1, "finished"), (2, "finished"), (3, "unhealthy"), (4, "unhealthy")]
    assert len(store_health.run_reasons(json.loads(rows[2].stats))) == 2
    runs = run_scrapy(["runs"], db_url)  # the reasons, under their run
    assert runs.returncode == 0, runs.stderr[-2000:]
    assert f"      unhealthy: start_url [fixture-trs]: {server.base_url}/xxgk/ndbg/ gone" in (
        runs.stdout
    )
    assert down.returncode == health.EXIT_UNHEALTHY
    assert f"start_url [fixture-trs]: {server.base_url}/xxgk/ndbg/ error (connection_refused" in (
        down.stderr
    )


def test_a_page_the_store_refuses_fails_the_run_loudly(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'refusing.db'}"
    Database(db_url).close()  # migrated; then the database refuses a month's two reports
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON fetches WHEN NEW.url LIKE '%/202101/%' "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )
        )
    engine.dispose()
    with fixtureserver().serve(FIXTURES / "portals" / "trs") as server:
        done = _crawl(server.base_url, db_url)
    assert done.returncode == health.EXIT_UNHEALTHY, done.stderr[-2000:]
    unhealthy = [x for x in done.stderr.splitlines() if x.startswith("gxcrawl: unhealthy: ")]
    assert (
        len(unhealthy) == 1
        and "write_errors: 2 fetched pages could not be stored" in (unhealthy[0])
    )
    assert "refused by the test" in done.stderr  # the error, with the page's URL, in the log
    engine = make_engine(db_url)
    with engine.connect() as conn:
        stored = [u for (u,) in conn.execute(text("SELECT url FROM parsed_reports"))]
    engine.dispose()
    # the two refused reports are not stored (the next run fetches them); the others are, their
    # batch written again one by one
    assert len(stored) >= 5 and not [u for u in stored if "/202101/" in u]


# --- the stats file ----------------------------------------------------------------------------


def test_stats_file_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "last-stats.json"
    target.write_text('{"old": 1}', "utf-8")
    health.write_stats_file(target, {"gxcrawl/outcome/new": 3, "health": "ok"})
    assert json.loads(target.read_text("utf-8")) == {"gxcrawl/outcome/new": 3, "health": "ok"}
    assert [p.name for p in tmp_path.iterdir()] == ["last-stats.json"]  # no temporary left


def test_unwritable_stats_file_is_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x", "utf-8")
    with pytest.raises(health.StatsFileError) as caught:
        health.write_stats_file(blocker / "stats.json", {"a": 1})
    assert str(blocker / "stats.json") in str(caught.value)
    assert "\n" not in str(caught.value)
    in_the_way = tmp_path / "is-a-dir"
    in_the_way.mkdir()
    with pytest.raises(health.StatsFileError):
        health.write_stats_file(in_the_way, {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["is-a-dir", "not-a-dir"]


def test_peak_rss_is_read_from_the_status_file(tmp_path: Path) -> None:
    status = tmp_path / "status"
    status.write_text("Name:\tscrapy\nVmPeak:\t  900000 kB\nVmHWM:\t  123456 kB\n", "ascii")
    assert peak_rss_bytes(status) == 123456 * 1024
    assert peak_rss_bytes(tmp_path / "absent") is None


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="read from Linux /proc")
def test_peak_rss_is_the_crawls_own_not_what_its_parent_held() -> None:
    ballast = b"\x01" * (300 * 2**20)  # a parent holding 300 MB (Scrapyd, a bench) starts it
    code = (
        "import json, resource\n"
        "from gxcrawl.extensions import peak_rss_bytes\n"
        "print(json.dumps([peak_rss_bytes(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    own, ru_maxrss_kb = json.loads(done.stdout)
    del ballast
    assert ru_maxrss_kb * 1024 > 300 * 2**20  # what Scrapy's memusage/max would have said
    assert 10 * 2**20 < own < 200 * 2**20


def test_thresholds_from_settings() -> None:
    from scrapy.settings import Settings

    settings = Settings({"GXCRAWL_HEALTH_MAX_ERROR_SHARE": "0.5", "GXCRAWL_HEALTH_MIN_FETCHES": 9})
    thresholds = Thresholds.from_settings(settings)
    assert (thresholds.max_error_share, thresholds.min_fetches) == (0.5, 9)
    assert thresholds.max_blocked_share == Thresholds().max_blocked_share


def test_a_list_trap_is_a_reason() -> None:
    assert assess({"gxcrawl/list_traps": 0}, [], Thresholds()) == []
    reasons = assess({"gxcrawl/list_traps": 2}, [], Thresholds())
    assert [r.check for r in reasons] == ["list_trap"] and "2 list trap" in reasons[0].line()
