"""The store's shortcuts write what its general path writes: a new URL's fetch (Core inserts)
against the ORM path, and the per-transaction agency memo against a fresh lookup, also across
a rolled-back savepoint."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, text

from gxcrawl.extract.agencies import AgencyEntity
from gxcrawl.store import agencies, state
from gxcrawl.store import repository as repo
from gxcrawl.store.db import Database
from gxcrawl.store.models import Agency
from gxcrawl.vocab import Disposition, DocumentKind

from .conftest import temporary_pg_schema

# Set by the database at insert time (utcnow), so different between two runs of the same writes.
CLOCK_COLUMNS = {"first_seen_at", "detected_at", "created_at"}
TABLES = ("documents", "bodies", "snapshots", "fetches", "changes")
AT = dt.datetime(2026, 3, 1, 12, 0, 0)
HEADERS = {"Content-Type": "text/html", "ETag": '"e1"', "Last-Modified": "Sun, 01 Mar 2026"}


def _rec(url: str, body: bytes | None, **kw: Any) -> repo.FetchRecord:
    return repo.FetchRecord(
        url=url, kind=kw.pop("kind", DocumentKind.REPORT), status=kw.pop("status", 200),
        headers=dict(kw.pop("headers", HEADERS)), body=body, body_size=len(body or b""),
        fetched_at=AT, **kw,
    )  # fmt: skip


# New URLs of every disposition (the shortcut), then a parent link and refetches (the general
# path in both runs), so later writes also see what the shortcut wrote.
FETCHES = [
    _rec("http://x/a", b"<p>a</p>", link_title="A report", portal_id="p1"),
    _rec("http://x/list", b"<ul/>", kind=DocumentKind.LIST),
    _rec("http://x/b", b"<p>a</p>", requested_url="http://x/b?x", final_url="http://x/b2"),
    _rec("http://x/blocked", b"captcha", disposition=Disposition.BLOCKED, status=403),
    _rec("http://x/soft", b"not found", disposition=Disposition.SOFT_404),
    _rec("http://x/gone", b"", disposition=Disposition.GONE, status=404),
    _rec("http://x/err", None, disposition=Disposition.ERROR, status=None, reason="timeout"),
    _rec("http://x/nm", b"x", disposition=Disposition.NOT_MODIFIED, status=304, headers={}),
    _rec("http://x/moved", b"home", disposition=Disposition.REDIRECTED, status=301),
    _rec("http://x/f.pdf", b"%PDF", kind=DocumentKind.ATTACHMENT, parent_url="http://x/c"),
    _rec("http://x/a", b"<p>a2</p>", link_title="A report, retitled"),
    _rec("http://x/blocked", b"<p>now</p>"),
    _rec("http://x/list", b"<ul><li/></ul>", kind=DocumentKind.LIST),
    _rec("http://x/err", b"<p>back</p>", kind=DocumentKind.OTHER),
    _rec("http://x/nm", None, disposition=Disposition.NOT_MODIFIED, status=304),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def two_db_urls(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[str, str]]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
        return
    with temporary_pg_schema() as first, temporary_pg_schema() as second:
        yield first, second


def _write_all(url: str) -> tuple[list[repo.StoredFetch], list[dict[str, list[str]]]]:
    """What each fetch returned, and every table after each (one transaction per item, as the
    pipeline without batching)."""
    db = Database(url)
    try:
        results, tables = [], []
        for rec in FETCHES:
            with db.transaction() as session:
                recheck = None if rec.kind == DocumentKind.LIST else dt.timedelta(days=7)
                results.append(repo.record_fetch(session, rec, run_id=None, recheck_after=recheck))
                tables.append({table: _rows(session, table) for table in TABLES})
        return results, tables
    finally:
        db.close()


def _rows(session: Any, table: str) -> list[str]:
    rows = session.execute(text(f"SELECT * FROM {table}")).mappings()
    kept = [{k: v for k, v in r.items() if k not in CLOCK_COLUMNS} for r in rows]
    return sorted(repr(sorted(r.items())) for r in kept)


def test_new_url_shortcut_writes_what_the_general_path_writes(
    two_db_urls: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[str] = []
    real = state._record_new_document

    def counted(session: Any, rec: repo.FetchRecord, *args: Any) -> repo.StoredFetch | None:
        taken.append(rec.url)
        return real(session, rec, *args)

    monkeypatch.setattr(state, "_record_new_document", counted)
    shortcut = _write_all(two_db_urls[0])
    assert len(taken) == 9  # every new URL but the file with a parent
    monkeypatch.setattr(state, "_record_new_document", lambda *_: None)  # never taken
    general = _write_all(two_db_urls[1])
    assert shortcut[0] == general[0]
    assert shortcut[1] == general[1]
    assert len(shortcut[1][-1]["documents"]) == 11  # the parent page (http://x/c) included


def test_the_shortcut_writes_nothing_for_a_url_another_writer_added(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        with db.transaction() as session:
            repo.record_fetch(session, FETCHES[0], run_id=None, recheck_after=None)
        with db.transaction() as session:
            before = {t: _rows(session, t) for t in TABLES}
            assert state._record_new_document(session, FETCHES[0], None, None) is None
            assert {t: _rows(session, t) for t in TABLES} == before
    finally:
        db.close()


def test_agency_memo_matches_a_fresh_lookup_and_forgets_rolled_back_rows(sqlite_url: str) -> None:
    kept = AgencyEntity(name="宜春市财政局", type="department", region_code="360900")
    dropped = AgencyEntity(name="宜春市教育局", type="department", region_code="360900")
    no_region = AgencyEntity(name="某某局", type="department", region_code=None)
    db = Database(sqlite_url)
    try:
        with db.transaction() as session:
            kept_id = agencies.upsert_agency(session, kept)
            assert agencies.upsert_agency(session, kept) == kept_id == agencies._find(session, kept)
            none_id = agencies.upsert_agency(session, no_region)
            assert agencies._find(session, no_region) == none_id != kept_id
            with pytest.raises(RuntimeError), session.begin_nested():
                agencies.upsert_agency(session, dropped)
                raise RuntimeError("a parser bug: the savepoint is rolled back")
            assert agencies._find(session, dropped) is None
            again = agencies.upsert_agency(session, dropped)  # inserted again, not remembered
            assert session.get(Agency, again) is not None
            assert agencies.upsert_agency(session, kept) == kept_id
        with db.transaction() as session:
            names = set(session.scalars(select(Agency.name)))
        assert names == {kept.name, dropped.name, no_region.name}
    finally:
        db.close()
