"""End to end: real `scrapy crawl` subprocesses against fixture portals served on 127.0.0.1.

Each fixture portal's `expected.json` is the gold: every report found (recall), no look-alike
stored (precision), every list page requested exactly once, nothing requested offsite or against
robots.txt, block pages recorded as blocked fetches and never as reports.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from gxcrawl.store.db import make_engine
from gxcrawl.testing.fixtureserver import serve

from .conftest import FIXTURES, crawl_fixture

PORTALS = sorted(p.name for p in (FIXTURES / "portals").iterdir() if (p / "expected.json").exists())


def _expected(portal: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "portals" / portal / "expected.json").read_text("utf-8"))


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _rows(db_url: str, sql: str) -> list[Any]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = list(conn.execute(text(sql)))
    engine.dispose()
    return rows


class Crawl:
    """One crawl of one portal, run once per test module and shared by its assertions."""

    def __init__(self, portal: str, db_url: str) -> None:
        self.portal = portal
        self.expected = _expected(portal)
        with serve(FIXTURES / "portals" / portal) as server:
            self.base = server.base_url
            self.proc = crawl_fixture(portal, server.base_url, db_url)
            self.requests = list(server.requests)
        self.db_url = db_url
        self.reports = _rows(
            db_url, "SELECT url, title, agency, year, flags, source_kind FROM report_documents"
        )
        self.deduplicated = _rows(db_url, "SELECT url, agency, year, n_copies FROM reports")
        self.fetches = _rows(db_url, "SELECT url, outcome, reason FROM fetches")


@pytest.fixture(scope="module", params=PORTALS)
def crawl(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    db = tmp_path_factory.mktemp(request.param) / "crawl.db"
    result = Crawl(request.param, f"sqlite:///{db}")
    assert result.proc.returncode == 0, result.proc.stderr[-3000:]
    return result


def test_every_report_found_and_no_lookalike_stored(crawl: Crawl) -> None:
    stored = {_path(r.url) for r in crawl.reports}
    expected = {r["path"] for r in crawl.expected["reports"]}
    assert stored - expected == set(), "stored something that is not a report"
    assert expected - stored == set(), "missed reports"
    assert not stored & set(crawl.expected.get("lookalikes", []))


def test_report_fields_match_gold(crawl: Crawl) -> None:
    by_path = {_path(r.url): r for r in crawl.reports}
    for gold in crawl.expected["reports"]:
        row = by_path[gold["path"]]
        assert row.year == gold["year"], gold["path"]
        if "title" in gold and gold.get("kind", "html") == "html":
            assert row.title == gold["title"], gold["path"]  # GBK pages: no mojibake
        if "agency" in gold:
            assert row.agency == gold["agency"], gold["path"]
        assert "bet365" not in (row.agency or "")


def test_reports_view_has_one_row_per_agency_and_year(crawl: Crawl) -> None:
    gold = Counter((r.get("agency") or r["path"], r["year"]) for r in crawl.expected["reports"])
    stored = Counter((a or _path(u), y) for u, a, y, _ in crawl.deduplicated)
    assert max(stored.values()) == 1
    assert sorted(n for *_, n in crawl.deduplicated) == sorted(gold.values())
    # a page and its PDF listed separately collapse to the page
    html = {_path(r.url) for r in crawl.reports if r.source_kind == "html"}
    assert all(_path(u) in html for u, *_, n in crawl.deduplicated if n > 1)


def test_every_list_page_requested_exactly_once(crawl: Crawl) -> None:
    seen = Counter(
        f"POST {r.path}" if r.method == "POST" else r.path
        for r in crawl.requests
        if r.method in ("GET", "POST")
    )
    for page in crawl.expected["list_pages"]:
        assert seen[page] == 1, f"{page} requested {seen[page]} times"


def test_nothing_requested_offsite_or_disallowed(crawl: Crawl) -> None:
    requested = {r.path for r in crawl.requests}
    fetched = {r.url for r in crawl.fetches}
    for never in crawl.expected.get("never_requested", []):
        if never.startswith("http"):
            assert never not in fetched
        else:
            assert never not in requested


def test_block_pages_recorded_as_blocked_not_reports(crawl: Crawl) -> None:
    outcomes = {_path(f.url): f.outcome for f in crawl.fetches}
    stored = {_path(r.url) for r in crawl.reports}
    for path in crawl.expected.get("blocked", []):
        assert outcomes.get(path) == "blocked", path
        assert path not in stored
    for path in crawl.expected.get("soft_404", []):
        assert outcomes.get(path) == "soft_404", path
        assert path not in stored
    stats = _rows(crawl.db_url, "SELECT stats FROM crawl_runs")[0][0]
    stats = json.loads(stats) if isinstance(stats, str) else stats
    assert stats.get("gxcrawl/outcome/blocked", 0) == len(crawl.expected.get("blocked", []))


def test_attachments_linked_to_their_reports(crawl: Crawl) -> None:
    links = _rows(
        crawl.db_url,
        "SELECT a.url, p.url FROM documents a JOIN documents p ON p.id = a.parent_id",
    )
    linked = {(_path(p), _path(a)) for a, p in links}
    for att in crawl.expected.get("attachments", []):
        assert (att["report"], att["path"]) in linked


def test_crawl_run_recorded(crawl: Crawl) -> None:
    (status, stats) = _rows(crawl.db_url, "SELECT status, stats FROM crawl_runs")[0]
    stats = json.loads(stats) if isinstance(stats, str) else stats
    assert status == "finished"
    assert stats["gxcrawl/reports_stored"] == len(crawl.expected["reports"])
    rejected = set(stats.get("gxcrawl/lookalikes") or [])
    assert len(rejected) >= len(crawl.expected.get("lookalikes", []))


def test_fixture_list_is_not_empty() -> None:
    assert "demo" in PORTALS, "the demo portal must carry an expected.json"


def test_long_pagination_is_walked_to_the_end(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A 19-page 下一页 chain (deeper than any depth limit would allow) is followed to its end."""
    from benchmarks.benchportal import generate

    from .conftest import FAST_CRAWL, run_scrapy

    root = tmp_path_factory.mktemp("bench") / "portal"
    counts = generate(root, pages=400)
    expected = json.loads((root / "expected.json").read_text("utf-8"))
    db = f"sqlite:///{root.parent / 'bench.db'}"
    with serve(root) as server:
        proc = run_scrapy(
            ["crawl", "annual_reports", "-a", f"registry={root / 'portal.toml'}",
             "-a", f"base_url={server.base_url}", *FAST_CRAWL],
            db,
        )  # fmt: skip
        requested = Counter(r.path for r in server.requests)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert counts["list_pages"] == len(expected["list_pages"]) > 12
    assert all(requested[p] == 1 for p in expected["list_pages"])
    stored = {_path(u) for (u,) in _rows(db, "SELECT url FROM report_documents")}
    assert stored == {r["path"] for r in expected["reports"]}


def test_ad_hoc_start_url_finds_the_same_reports(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`-a start_url=… -a platform=…` crawls a portal that is not in any registry."""
    from .conftest import FAST_CRAWL, run_scrapy

    db = f"sqlite:///{tmp_path_factory.mktemp('adhoc') / 'adhoc.db'}"
    expected = _expected("trs")
    with serve(FIXTURES / "portals" / "trs") as server:
        proc = run_scrapy(
            ["crawl", "annual_reports", "-a", f"start_url={server.base_url}/xxgk/ndbg/",
             "-a", "platform=trs", *FAST_CRAWL],
            db,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    stored = {_path(u) for (u,) in _rows(db, "SELECT url FROM report_documents")}
    assert stored == {r["path"] for r in expected["reports"]}
    assert _rows(db, "SELECT id, platform FROM portals") == [("adhoc-127.0.0.1", "trs")]
