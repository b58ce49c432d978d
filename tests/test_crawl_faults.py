"""Bad input gets a clear error and loses nothing: a crawl of the `faults` fixture portal
(truncated body, redirect loop, timeout, HTTP 412 challenge, HTTP 500, malformed HTML, GBK behind a
wrong charset header, a dead link). Failures are recorded with their reason, never as reports."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from gxcrawl import health
from gxcrawl.testing.fixtureserver import serve

from .conftest import FIXTURES, crawl_fixture, run_scrapy
from .test_incremental import q

T = "鲤城区人民政府{}街道办事处2020年政府信息公开工作年度报告"


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db = f"sqlite:///{tmp_path_factory.mktemp('faults') / 'faults.db'}"
    with serve(FIXTURES / "portals" / "faults") as server:
        proc = crawl_fixture(
            "faults", server.base_url, db,
            "-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_TIMES=1", "-s", "REDIRECT_MAX_TIMES=3",
        )  # fmt: skip
    # a portal of failures is an unhealthy run: exit 1, the reason in one line
    assert proc.returncode == health.EXIT_UNHEALTHY, proc.stderr[-3000:]
    assert re.search(
        r"^gxcrawl: unhealthy: error_share: \d+ of \d+ fetches error", proc.stderr, re.M
    )
    fetches: dict[str, list[tuple[str, str | None]]] = {}
    for url, outcome, reason in q(db, "SELECT url, outcome, reason FROM fetches ORDER BY id"):
        fetches.setdefault(url.rsplit("/", 1)[-1], []).append((outcome, reason))
    reports = {u.rsplit("/", 1)[-1]: t for u, t in q(db, "SELECT url, title FROM reports")}
    return {"fetches": fetches, "reports": reports, "db": db, "log": proc.stderr}


@pytest.mark.parametrize(
    ("page", "outcome", "reason"),
    [
        ("t1_truncated.html", "error", "truncated"),
        ("t2_loop.html", "error", "redirect_loop"),
        ("t3_slow.html", "error", "timeout"),
        ("t4_challenge.html", "blocked", "blocked"),
        ("t5_error.html", "error", "http_500"),
        ("t8_missing.html", "gone", "http_404"),
    ],
)
def test_failure_recorded_with_reason(
    faults: dict[str, Any], page: str, outcome: str, reason: str
) -> None:
    (got_outcome, got_reason), *_ = faults["fetches"][page]
    assert got_outcome == outcome
    assert got_reason is not None and got_reason.startswith(reason), got_reason
    assert page not in faults["reports"]


def test_malformed_and_mislabelled_pages_still_parse(faults: dict[str, Any]) -> None:
    reports = {k: v for k, v in faults["reports"].items() if k != "t9_stub.html"}
    assert reports == {
        "t6_malformed.html": T.format("临江"),
        "t7_gbk.html": T.format("江南"),  # GBK bytes behind a "charset=utf-8" header
    }


def test_stub_page_takes_the_text_of_its_attachment(faults: dict[str, Any]) -> None:
    """ "详见附件": the report is in the linked DOCX, which arrives after the page."""
    ((text, flags),) = q(faults["db"], "SELECT text, flags FROM reports WHERE url LIKE '%t9_stub%'")
    assert "全年主动公开政府信息156条" in text and "详见附件" in text
    assert "text_from_attachment" in flags
    before = q(faults["db"], "SELECT url, title, text, flags FROM parsed_reports ORDER BY url")
    proc = run_scrapy(["reparse", "--quiet"], faults["db"])  # the same from raw, offline
    assert proc.returncode == 0, proc.stderr
    assert (
        q(faults["db"], "SELECT url, title, text, flags FROM parsed_reports ORDER BY url") == before
    )


def test_failed_pages_keep_their_raw_bodies(faults: dict[str, Any]) -> None:
    stored = q(
        faults["db"],
        "SELECT d.url, s.status, s.disposition FROM snapshots s "
        "JOIN documents d ON d.id = s.document_id",
    )
    by_page = {u.rsplit("/", 1)[-1]: (st, disp) for u, st, disp in stored}
    assert by_page["t4_challenge.html"] == (412, "blocked")  # the challenge page is evidence
    assert by_page["t5_error.html"][0] == 500
    assert "t1_truncated.html" not in by_page  # half a body is never stored as a page


def test_crawl_finishes_and_counts_failures(faults: dict[str, Any]) -> None:
    (status, stats) = q(faults["db"], "SELECT status, stats FROM crawl_runs")[0]
    assert status == "unhealthy"  # it ran to the end; its error share failed the check
    assert "gxcrawl/health/reasons" in stats
    assert "gxcrawl/outcome/error" in stats and "gxcrawl/outcome/blocked" in stats


def test_extract_from_store_merges_like_the_crawl(faults: dict[str, Any]) -> None:
    ((url, text),) = q(faults["db"], "SELECT url, text FROM reports WHERE url LIKE '%t9_stub%'")
    proc = run_scrapy(["extract", url], faults["db"])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["text"] == text
