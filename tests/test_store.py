"""Storage: migrations on SQLite and PostgreSQL, no model/migration drift, idempotent writes."""

from __future__ import annotations

import datetime as dt

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, func, inspect, select, text

from gxcrawl.store import repository as repo
from gxcrawl.store.db import Database, make_engine, upgrade
from gxcrawl.store.models import Base, Body, Change, Document, Fetch, ParsedReport, Snapshot

TABLES = {
    "portals",
    "crawl_runs",
    "documents",
    "bodies",
    "snapshots",
    "fetches",
    "changes",
    "parsed_reports",
    "attachment_texts",
    "facts",
    "report_findings",
    "agencies",
}


def _diff(url: str, metadata: MetaData) -> list[object]:
    engine = make_engine(url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, metadata)
    engine.dispose()
    return list(diff)


def test_migrations_create_schema(any_db_url: str) -> None:
    upgrade(any_db_url)
    engine = make_engine(any_db_url)
    insp = inspect(engine)
    assert set(insp.get_table_names()) >= TABLES
    assert {
        "report_documents",
        "reports",
        "report_edits",
        "report_facts",
        "application_table",
        "appeals_table",
        "report_changes",
    } <= set(insp.get_view_names())
    engine.dispose()
    upgrade(any_db_url)  # idempotent


def test_no_drift_between_models_and_migrations(any_db_url: str) -> None:
    upgrade(any_db_url)
    assert _diff(any_db_url, Base.metadata) == []


def test_drift_check_detects_a_column_without_migration(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    drifted = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["documents"].append_column(Column("surprise", Integer))
    diff = _diff(sqlite_url, drifted)
    assert any(op[0] == "add_column" and op[3].name == "surprise" for op in diff)


def _rec(url: str, body: bytes | None, **kw: object) -> repo.FetchRecord:
    return repo.FetchRecord(
        url=url,
        kind=str(kw.pop("kind", "report")),
        status=int(kw.pop("status", 200)),  # type: ignore[call-overload]
        headers={"Content-Type": "text/html; charset=utf-8", "ETag": '"v1"'},
        body=body,
        body_size=len(body or b""),
        **kw,  # type: ignore[arg-type]
    )


def _count(db: Database, model: type) -> int:
    with db.transaction() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_record_fetch_versions_and_changes(any_db_url: str) -> None:
    db = Database(any_db_url)
    week = dt.timedelta(days=7)
    url = "http://portal.example/nb/t20210106_1.html"
    with db.transaction() as s:
        run = repo.start_run(s, "annual_reports", [])
        first = repo.record_fetch(s, _rec(url, b"<p>v1</p>"), run_id=run, recheck_after=week)
    assert (first.outcome, first.change, first.is_new_version) == ("new", "new", True)

    with db.transaction() as s:  # same bytes again: nothing new
        again = repo.record_fetch(s, _rec(url, b"<p>v1</p>"), run_id=run, recheck_after=week)
        not_mod = repo.record_fetch(
            s,
            _rec(url, None, disposition="not_modified", status=304),
            run_id=run,
            recheck_after=week,
        )
    assert (again.outcome, again.is_new_version, again.snapshot_id) == (
        "unchanged",
        False,
        first.snapshot_id,
    )
    assert not_mod.outcome == "unchanged" and not_mod.snapshot_id == first.snapshot_id
    assert _count(db, Snapshot) == 1 and _count(db, Body) == 1

    with db.transaction() as s:
        edited = repo.record_fetch(s, _rec(url, b"<p>v2</p>"), run_id=run, recheck_after=week)
        gone = repo.record_fetch(
            s, _rec(url, b"nf", status=404, disposition="gone"), run_id=run, recheck_after=week
        )
        gone2 = repo.record_fetch(
            s, _rec(url, b"nf", status=404, disposition="gone"), run_id=run, recheck_after=week
        )
        back = repo.record_fetch(s, _rec(url, b"<p>v2</p>"), run_id=run, recheck_after=week)
    assert (edited.outcome, edited.change) == ("changed", "edited")
    assert (gone.change, gone2.change) == ("gone", None)
    assert back.change == "reappeared"
    with db.transaction() as s:
        kinds = s.scalars(select(Change.kind).order_by(Change.id)).all()
        versions = s.scalars(select(Snapshot.version).order_by(Snapshot.version)).all()
        doc = s.scalars(select(Document)).one()
        fetches = s.scalar(select(func.count()).select_from(Fetch))
    assert kinds == ["new", "edited", "gone", "reappeared"]
    assert versions == [1, 2, 3, 4]  # v1, v2, the 404 page, v2 again after it
    assert doc.state == "live" and fetches == 7
    db.close()


def test_bodies_are_deduplicated_across_documents(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    with db.transaction() as s:
        for i in range(3):
            repo.record_fetch(
                s, _rec(f"http://p.example/{i}", b"same"), run_id=None, recheck_after=None
            )
    assert _count(db, Body) == 1 and _count(db, Snapshot) == 3
    db.close()


def test_parsed_report_upsert_is_idempotent(any_db_url: str) -> None:
    db = Database(any_db_url)
    fields = {
        "title": "X县2020年政府信息公开工作年度报告",
        "agency": "X县",
        "year": 2020,
        "written_date": "2021-01-06",
        "flags": ["spam_injected"],
        "removed": [],
        "text": "正文",
    }
    facts = [
        {
            "template": "gb2019",
            "table": "applications",
            "row_key": "new_received",
            "column_key": "total",
            "value": 3,
            "unit": "件",
            "status": "ok",
        }
    ]
    with db.transaction() as s:
        stored = repo.record_fetch(
            s, _rec("http://p.example/r", b"r"), run_id=None, recheck_after=None
        )
        for _ in range(2):
            repo.save_parsed_report(
                s,
                snapshot_id=stored.snapshot_id,
                document_id=stored.document_id,  # type: ignore[arg-type]
                url="http://p.example/r",
                portal_id=None,
                fields=fields,
                facts=facts,
                findings=[],
                source_kind="html",
                parser_version="test",
            )
    with db.transaction() as s:
        rows = s.scalars(select(ParsedReport)).all()
        view = s.execute(text("SELECT agency, year, written_date FROM reports")).all()
        wide = s.execute(
            text("SELECT new_received__total, carry_forward__total FROM application_table")
        ).all()
        long = s.execute(
            text("SELECT table_key, row_key, column_key, value FROM report_facts")
        ).all()
    assert len(rows) == 1 and rows[0].written_date == dt.date(2021, 1, 6)
    assert [(a, y) for a, y, _ in view] == [("X县", 2020)]
    assert wide == [(3, None)]  # a cell that is not there is missing, not zero
    assert long == [("applications", "new_received", "total", 3)]
    db.close()


def test_mark_dead_runs_interrupted(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    with db.transaction() as s:
        run = repo.start_run(s, "annual_reports", [])
        s.execute(text("UPDATE crawl_runs SET pid = 999999999 WHERE id = :id"), {"id": run})
    with db.transaction() as s:
        repo.start_run(s, "annual_reports", [])
        status = s.execute(
            text("SELECT status FROM crawl_runs WHERE id = :id"), {"id": run}
        ).scalar()
    assert status == "interrupted"
    db.close()


def test_failed_fetch_does_not_postpone_the_next_check(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    week = dt.timedelta(days=7)
    url = "http://p.example/r.html"
    with db.transaction() as s:
        repo.record_fetch(s, _rec(url, b"<p>v1</p>"), run_id=None, recheck_after=week)
        due = s.scalars(select(Document.next_check_at)).one()
        later = _rec(url, None, disposition="error", reason="timeout: x")
        later.fetched_at = later.fetched_at + dt.timedelta(days=3)
        repo.record_fetch(s, later, run_id=None, recheck_after=week)
        assert s.scalars(select(Document.next_check_at)).one() == due
        assert s.scalars(select(Document.state)).one() == "live"  # one timeout is not "gone"
    db.close()
