"""The store's shortcuts write what its general path writes: a new URL's fetch (Core inserts)
against the ORM path, and the per-transaction agency memo against a fresh lookup, also across
a rolled-back savepoint."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text

from gxcrawl.extract.agencies import AgencyEntity
from gxcrawl.store import agencies, parsed, state
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


def _agency_queries(db: Database) -> list[str]:
    """The SQL statements run against `agencies` from now on (recorded as they run)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "agencies" in statement:
            seen.append(statement.split()[0])

    event.listen(db.engine, "before_cursor_execute", record)
    return seen


def test_committed_agency_ids_are_reused_never_rolled_back_or_other_databases_ones(
    sqlite_url: str, tmp_path: Path
) -> None:
    kept = AgencyEntity(name="宜春市财政局", type="department", region_code="360900")
    lost = AgencyEntity(name="宜春市教育局", type="department", region_code="360900")
    first = AgencyEntity(name="宜春市公安局", type="department", region_code="360900")
    db, other = Database(sqlite_url), Database(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        with db.transaction() as session:
            kept_id = agencies.upsert_agency(session, kept)
        with pytest.raises(RuntimeError), db.transaction() as session:
            agencies.upsert_agency(session, first)  # the batch's earlier pages, written
            with session.begin_nested():  # each page is extracted and saved in a savepoint
                agencies.upsert_agency(session, lost)
            raise RuntimeError("the whole batch is rolled back (a deadlock with another worker)")
        queries = _agency_queries(db)
        with db.transaction() as session:
            assert agencies.upsert_agency(session, kept) == kept_id  # committed: no query
            assert queries == []
            lost_id = agencies.upsert_agency(session, lost)  # rolled back: looked up, inserted
            assert queries == ["SELECT", "INSERT", "SELECT"]
            assert session.get(Agency, lost_id) is not None
            assert agencies._find(session, first) is None  # rolled back with its batch
        with other.transaction() as session:  # another database has rows of its own
            other_id = agencies.upsert_agency(session, lost)
            assert session.get(Agency, other_id) is not None
            assert agencies._find(session, kept) is None
    finally:
        db.close()
        other.close()


FACTS = [
    {"template": "gb2019", "table": "applications", "row_key": "new_received",
     "column_key": "total", "value": 3, "unit": "件", "status": "ok", "raw_text": "3"},
    {"template": None, "table": "applications", "row_key": "new_received",
     "column_key": "natural_person", "value": 1.5, "row_label": "一、本年新收", "status": None},
    {"table": "applications", "row_key": "new_received", "column_key": "person",
     "value": 99},  # the same cell as the legacy key above: the first one wins
    {"table": "appeals", "row_key": "review", "column_key": "total", "value": None,
     "status": "blank", "column_label": "总计", "raw_text": ""},
]  # fmt: skip
FINDINGS = [
    {"check": "balance", "table": "applications", "row_key": "total",
     "column_key": "natural_person", "expected": 2.0, "actual": 1.5, "detail": "差 0.5"},
    {"check": "year", "detail": None},
]  # fmt: skip


def _old_rows(report_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The facts and findings rows as the ORM-era code built them (one dict per row)."""
    facts: dict[tuple[Any, ...], dict[str, Any]] = {}
    for f in FACTS:
        column = parsed.current_column_key(f["table"], f["column_key"])
        facts.setdefault(
            (f["table"], f["row_key"], column),
            {
                "parsed_report_id": report_id, "template": f.get("template") or "",
                "table_key": f["table"], "row_key": f["row_key"], "column_key": column,
                "row_label": f.get("row_label"), "column_label": f.get("column_label"),
                "value": f.get("value"), "unit": f.get("unit"), "raw_text": f.get("raw_text"),
                "status": f.get("status") or "ok",
            },
        )  # fmt: skip
    findings = [
        {
            "parsed_report_id": report_id, "rule": f["check"], "table_key": f.get("table"),
            "row_key": f.get("row_key"),
            "column_key": parsed.current_column_key(f.get("table"), f.get("column_key")),
            "expected": f.get("expected"), "actual": f.get("actual"), "detail": f.get("detail"),
        }
        for f in FINDINGS
    ]  # fmt: skip
    return list(facts.values()), findings


def test_driver_executemany_stores_what_core_inserts_store(any_db_url: str) -> None:
    db = Database(any_db_url)
    try:
        with db.transaction() as session:
            reports = []
            for n in range(2):
                stored = repo.record_fetch(
                    session, _rec(f"http://x/r{n}", b"r%d" % n), run_id=None, recheck_after=None
                )
                assert stored.snapshot_id is not None
                reports.append(
                    repo.save_parsed_report(
                        session, snapshot_id=stored.snapshot_id, document_id=stored.document_id,
                        url=f"http://x/r{n}", portal_id=None, fields={"text": "t"},
                        facts=FACTS if n == 0 else [], findings=FINDINGS if n == 0 else [],
                        source_kind="html", parser_version="test", replace=False,
                    )
                )  # fmt: skip
            facts, findings = _old_rows(reports[1])  # the old way, onto the second report
            session.connection().execute(parsed._FACTS.insert(), facts)
            session.connection().execute(parsed._FINDINGS.insert(), findings)
        with db.transaction() as session:
            for table in ("facts", "report_findings"):
                rows = session.execute(text(f"SELECT * FROM {table}")).mappings().all()
                by_report: dict[int, list[Any]] = {r: [] for r in reports}
                for row in rows:
                    rest = {k: v for k, v in row.items() if k not in ("id", "parsed_report_id")}
                    by_report[row["parsed_report_id"]].append(sorted(rest.items(), key=str))
                assert by_report[reports[0]] == by_report[reports[1]] != []
    finally:
        db.close()


def test_a_new_document_is_known_to_have_no_linked_files(sqlite_url: str) -> None:
    """`new_document` lets extraction skip the linked-files query: true only for the fetch that
    created the document, never for a page a linked file created first."""
    db = Database(sqlite_url)
    try:
        with db.transaction() as session:
            first = repo.record_fetch(session, FETCHES[0], run_id=None, recheck_after=None)
            again = repo.record_fetch(session, FETCHES[10], run_id=None, recheck_after=None)
            child = _rec("http://x/g.pdf", b"%PDF-1", kind=DocumentKind.ATTACHMENT,
                         parent_url="http://x/page")  # fmt: skip
            file = repo.record_fetch(session, child, run_id=None, recheck_after=None)
            page = repo.record_fetch(
                session, _rec("http://x/page", b"<p>p</p>"), run_id=None, recheck_after=None
            )
        assert first.new_document and not again.new_document
        assert file.new_document  # the file's own row was made by its fetch
        assert not page.new_document  # the page row existed (made for its file): it has a child
    finally:
        db.close()
