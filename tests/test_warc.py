"""Issue 15, item 4: the raw snapshots as WARC (warcio), round-tripped: one response record per
stored version, the exact stored bytes, the recorded status and headers, and standard tools
(`warcio check`, `warcio index`) read the file."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import text
from warcio.archiveiterator import ArchiveIterator

from gxcrawl.store.db import Database
from gxcrawl.workbench_export import export_warc

from .workbench_store import build_store, record_page, render


def _store_with_edit(db_url: str) -> Database:
    db, pages = build_store(db_url)
    page = pages[2]
    page.drop_part_five = False
    record_page(db, page.url, render(page), when=dt.datetime(2024, 6, 1, 12, 30))
    return db


def _records(path: Path) -> list[dict[str, Any]]:
    out = []
    with path.open("rb") as fh:
        for rec in ArchiveIterator(fh):
            entry: dict[str, Any] = {"type": rec.rec_type, "headers": rec.rec_headers}
            if rec.rec_type == "response":
                entry["uri"] = rec.rec_headers.get_header("WARC-Target-URI")
                entry["status"] = rec.http_headers.get_statuscode()
                entry["content_type"] = rec.http_headers.get_header("Content-Type")
                entry["body"] = rec.content_stream().read()
            out.append(entry)
    return out


def test_every_stored_version_round_trips(any_db_url: str, tmp_path: Path) -> None:
    db = _store_with_edit(any_db_url)
    with db.sessions() as session:
        path, count = export_warc(session, tmp_path)
        stored = {
            (url, version): sha
            for url, version, sha in session.execute(
                text(
                    "SELECT d.url, s.version, s.body_sha256 FROM snapshots s "
                    "JOIN documents d ON d.id = s.document_id"
                )
            )
        }
        report_urls = {u for (u,) in session.execute(text("SELECT url FROM reports"))}
    db.close()
    records = _records(path)
    assert records[0]["type"] == "warcinfo"
    responses = [r for r in records if r["type"] == "response"]
    assert count == len(responses) == len(stored) == 7  # six reports, one edited twice
    got = {}
    for r in responses:
        headers = r["headers"]
        key = (r["uri"], int(headers.get_header("WARC-gxcrawl-Version")))
        got[key] = hashlib.sha256(r["body"]).hexdigest()
        assert r["status"] == "200"
        assert r["content_type"] == "text/html; charset=utf-8"
    assert got == stored  # the exact stored bytes of every version
    assert report_urls <= {u for (u, _v) in got}  # a response record for every report
    dates = {r["headers"].get_header("WARC-Date") for r in responses}
    assert "2024-06-01T12:30:00Z" in dates and "2024-05-01T08:00:00Z" in dates


def test_standard_tools_read_it(sqlite_url: str, tmp_path: Path) -> None:
    db = _store_with_edit(sqlite_url)
    with db.sessions() as session:
        path, _count = export_warc(session, tmp_path)
    db.close()
    cli = [sys.executable, "-m", "warcio.cli"]
    check = subprocess.run([*cli, "check", "-v", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    index = subprocess.run([*cli, "index", str(path)], capture_output=True, text=True, check=True)
    lines = [json.loads(line) for line in index.stdout.splitlines()]
    assert sum(1 for entry in lines if entry["warc-type"] == "response") == 7


def test_portal_filter(sqlite_url: str, tmp_path: Path) -> None:
    db = _store_with_edit(sqlite_url)
    with db.sessions() as session:
        _path, none = export_warc(session, tmp_path, portal="no-such-portal")
        _path, some = export_warc(session, tmp_path, portal="jc-dept")
    db.close()
    assert (none, some) == (0, 7)
