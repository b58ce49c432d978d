"""Incremental recrawls against the local demo portal: conditional requests, versions, gone
pages, kill -9 and SIGINT interruptions, and offline reparse. Every crawl is a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from gxcrawl.store.db import make_engine
from gxcrawl.testing.fixtureserver import FixtureServer, serve

from .conftest import FAST_CRAWL, FIXTURES, ROOT, crawl_fixture, run_scrapy

DEMO = FIXTURES / "portals" / "demo"
V2 = FIXTURES / "portals" / "demo_v2"
EXPECTED = json.loads((DEMO / "expected.json").read_text("utf-8"))
REPORT_PATHS = {r["path"] for r in EXPECTED["reports"]}


def q(db_url: str, sql: str) -> list[Any]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql))]
    engine.dispose()
    return rows


def count(db_url: str, table: str) -> int:
    return int(q(db_url, f"SELECT COUNT(*) FROM {table}")[0][0])


def run_stats(db_url: str, run_id: int) -> dict[str, Any]:
    raw = q(db_url, f"SELECT stats FROM crawl_runs WHERE id = {run_id}")[0][0]
    return json.loads(raw) if isinstance(raw, str) else raw


def ok(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_unchanged_recrawl_fetches_no_report_body(sqlite_url: str) -> None:
    with serve(DEMO) as server:
        ok(crawl_fixture("demo", server.base_url, sqlite_url))
        first = server.requests
        snapshots, bodies = count(sqlite_url, "snapshots"), count(sqlite_url, "bodies")
        server.clear_log()
        ok(crawl_fixture("demo", server.base_url, sqlite_url))  # reports not yet due
        second = server.requests
        server.clear_log()
        ok(crawl_fixture("demo", server.base_url, sqlite_url, "-s", "GXCRAWL_FORCE_REFRESH=True"))
        third = server.requests

    assert not [r for r in second if r.path in REPORT_PATHS], "a report was asked although not due"
    assert all(r.status == 304 for r in second if r.path.startswith("/xxgk/")), second
    forced = {r.path: r for r in third if r.path in REPORT_PATHS}
    assert set(forced) == REPORT_PATHS
    assert all(r.conditional and r.status == 304 and r.bytes_sent == 0 for r in forced.values())
    assert (count(sqlite_url, "snapshots"), count(sqlite_url, "bodies")) == (snapshots, bodies)

    body_bytes = [sum(r.bytes_sent for r in log) for log in (first, second, third)]
    assert body_bytes[1] <= 0.05 * body_bytes[0] and body_bytes[2] <= 0.05 * body_bytes[0]
    second_stats, third_stats = run_stats(sqlite_url, 2), run_stats(sqlite_url, 3)
    for stats in (second_stats, third_stats):
        assert stats.get("gxcrawl/outcome/new", 0) == 0
        assert stats.get("gxcrawl/outcome/changed", 0) == 0
        assert not any(k.startswith("gxcrawl/change/") for k in stats)
    assert second_stats["gxcrawl/not_due"] >= len(REPORT_PATHS)
    assert third_stats["gxcrawl/not_modified"] >= len(REPORT_PATHS)
    assert q(sqlite_url, "SELECT COUNT(*) FROM reports")[0][0] == len(REPORT_PATHS)


def test_server_without_validators_compares_hashes(sqlite_url: str) -> None:
    with serve(DEMO, validators=False) as server:
        ok(crawl_fixture("demo", server.base_url, sqlite_url))
        snapshots = count(sqlite_url, "snapshots")
        ok(crawl_fixture("demo", server.base_url, sqlite_url, "-s", "GXCRAWL_FORCE_REFRESH=True"))
    stats = run_stats(sqlite_url, 2)
    assert count(sqlite_url, "snapshots") == snapshots  # same bytes: no new version
    assert stats["gxcrawl/outcome/unchanged"] >= len(REPORT_PATHS)
    assert stats.get("gxcrawl/outcome/changed", 0) == 0


def test_edit_remove_add_between_runs(sqlite_url: str) -> None:
    v2 = json.loads((V2 / "expected_v2.json").read_text("utf-8"))
    with serve(DEMO) as server:
        ok(crawl_fixture("demo", server.base_url, sqlite_url))
        server.set_overlay(V2)
        ok(crawl_fixture("demo", server.base_url, sqlite_url, "-s", "GXCRAWL_FORCE_REFRESH=True"))
        base = server.base_url

    changes = q(
        sqlite_url,
        "SELECT d.url, c.kind FROM changes c JOIN documents d ON d.id = c.document_id "
        "WHERE c.run_id = 2 ORDER BY c.id",
    )
    assert sorted(changes) == sorted(
        [(base + p, "edited") for p in v2["edited"]]
        + [(base + p, "gone") for p in v2["removed"]]
        + [(base + p, "new") for p in v2["added"]]
    )
    (edited,) = v2["edited"]
    versions = q(
        sqlite_url,
        f"SELECT s.version, p.text FROM parsed_reports p JOIN snapshots s ON s.id = p.snapshot_id "
        f"WHERE p.url = '{base + edited}' ORDER BY s.version",
    )
    assert [v for v, _ in versions] == [1, 2] and versions[0][1] != versions[1][1]  # old kept
    edits = q(sqlite_url, "SELECT url, old_text, new_text FROM report_edits")
    assert [(u, o != n) for u, o, n in edits] == [(base + edited, True)]
    states = dict(q(sqlite_url, "SELECT url, state FROM documents"))
    assert all(states[base + p] == "gone" for p in v2["removed"])
    live = {
        u
        for (u,) in q(sqlite_url, "SELECT url FROM report_documents WHERE document_state = 'live'")
    }
    assert live == {base + r["path"] for r in v2["reports"]}


def dump(db_url: str) -> dict[str, list[Any]]:
    """The content of the store, without ids, run numbers and timestamps."""
    return {
        "documents": q(
            db_url,
            "SELECT d.url, d.kind, d.state, d.content_sha256, d.etag, d.last_modified, "
            "p.url, d.link_title FROM documents d LEFT JOIN documents p ON p.id = d.parent_id "
            "ORDER BY d.url",
        ),
        "bodies": q(db_url, "SELECT sha256, size FROM bodies ORDER BY sha256"),
        "snapshots": q(
            db_url,
            "SELECT d.url, s.version, s.status, s.body_sha256, s.disposition, s.encoding, "
            "s.final_url FROM snapshots s JOIN documents d ON d.id = s.document_id "
            "ORDER BY d.url, s.version",
        ),
        "parsed_reports": q(
            db_url,
            "SELECT url, title, agency, year, index_no, publisher, written_date, publish_date, "
            "doc_no, disclosure_mode, validity, category, region_code, template, text, flags, "
            "removed, source_kind, parser_version FROM parsed_reports ORDER BY url",
        ),
        "facts": q(
            db_url,
            "SELECT p.url, f.table_key, f.row_key, f.column_key, f.value, f.status, f.raw_text "
            "FROM facts f JOIN parsed_reports p ON p.id = f.parsed_report_id "
            "ORDER BY p.url, f.table_key, f.row_key, f.column_key",
        ),
        "findings": q(
            db_url,
            "SELECT p.url, f.rule, f.table_key, f.row_key, f.column_key, f.expected, f.actual "
            "FROM report_findings f JOIN parsed_reports p ON p.id = f.parsed_report_id "
            "ORDER BY p.url, f.rule, f.row_key, f.column_key",
        ),
        "attachment_texts": q(
            db_url,
            "SELECT d.url, a.file_kind, a.text FROM attachment_texts a "
            "JOIN snapshots s ON s.id = a.snapshot_id JOIN documents d ON d.id = s.document_id "
            "ORDER BY d.url",
        ),
    }


def _slow_crawl(server: FixtureServer, db_url: str, *extra: str) -> subprocess.Popen[str]:
    registry = DEMO / "portal.toml"
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "annual_reports",
            "-a",
            f"registry={registry}",
            "-a",
            f"base_url={server.base_url}",
            *FAST_CRAWL,
            "-s",
            "DOWNLOAD_DELAY=0.25",
            "-s",
            "CONCURRENT_REQUESTS=1",
            "-s",
            "RANDOMIZE_DOWNLOAD_DELAY=False",
            *extra,
        ],
        cwd=ROOT,
        env={**os.environ, "GXCRAWL_DATABASE_URL": db_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_requests(server: FixtureServer, n: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while len(server.requests) < n:
        assert proc.poll() is None, "the crawl ended before it could be interrupted"
        assert time.monotonic() < deadline, "the crawl made no progress"
        time.sleep(0.05)


def test_kill_9_then_rerun_equals_uninterrupted(tmp_path: Path) -> None:
    ref, killed = f"sqlite:///{tmp_path / 'ref.db'}", f"sqlite:///{tmp_path / 'killed.db'}"
    with serve(DEMO) as server:
        ok(crawl_fixture("demo", server.base_url, ref))
        server.clear_log()
        proc = _slow_crawl(server, killed)
        _wait_for_requests(server, 7, proc)  # robots.txt, lists and some reports are in
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.stderr is not None
        proc.stderr.close()
        partial = count(killed, "parsed_reports")
        ok(crawl_fixture("demo", server.base_url, killed))
    assert partial > 0 or count(killed, "snapshots") > 0, "nothing was stored before the kill"
    assert dump(killed) == dump(ref)
    statuses = [s for (s,) in q(killed, "SELECT status FROM crawl_runs ORDER BY id")]
    assert statuses == ["interrupted", "finished"]


def test_sigint_with_jobdir_pauses_and_resumes(tmp_path: Path) -> None:
    ref, db = f"sqlite:///{tmp_path / 'ref.db'}", f"sqlite:///{tmp_path / 'paused.db'}"
    jobdir = tmp_path / "job"
    with serve(DEMO) as server:
        ok(crawl_fixture("demo", server.base_url, ref))
        server.clear_log()
        proc = _slow_crawl(server, db, "-s", f"JOBDIR={jobdir}")
        _wait_for_requests(server, 6, proc)
        proc.send_signal(signal.SIGINT)  # graceful: finish in-flight requests, keep the queue
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err[-2000:]
        assert [s for (s,) in q(db, "SELECT status FROM crawl_runs")] == ["interrupted"]
        assert (jobdir / "requests.queue").exists()
        ok(crawl_fixture("demo", server.base_url, db, "-s", f"JOBDIR={jobdir}"))
    assert q(db, "SELECT status FROM crawl_runs ORDER BY id")[-1] == ("finished",)
    assert dump(db)["parsed_reports"] == dump(ref)["parsed_reports"]


def test_reparse_rebuilds_parsed_rows_from_raw_alone(sqlite_url: str) -> None:
    with serve(DEMO) as server:
        ok(crawl_fixture("demo", server.base_url, sqlite_url))
    before = dump(sqlite_url)
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        for table in ("facts", "report_findings", "parsed_reports", "attachment_texts"):
            conn.execute(text(f"DELETE FROM {table}"))
    engine.dispose()
    assert count(sqlite_url, "parsed_reports") == 0
    proc = run_scrapy(["reparse"], sqlite_url)  # the fixture server is gone: offline
    ok(proc)
    assert "reparse (parser" in proc.stdout and "report" in proc.stdout
    assert dump(sqlite_url) == before
