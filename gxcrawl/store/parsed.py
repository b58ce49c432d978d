"""Parsed reports, their facts and findings, attachment texts, and reading stored snapshots
back (for `scrapy reparse` and `scrapy extract`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select
from sqlalchemy.orm import Session

from gxcrawl.store.agencies import agency_id_for, context_region
from gxcrawl.store.models import (
    AttachmentText,
    Body,
    Change,
    Document,
    ParsedReport,
    ReportFact,
    ReportFinding,
    Snapshot,
    utcnow,
)
from gxcrawl.store.state import CONTENT, insert_row
from gxcrawl.vocab import ChangeKind

# A new version of a known report that extraction no longer calls a report, or that raised.
NO_LONGER_REPORT, PARSE_FAILED = ChangeKind.NO_LONGER_REPORT, ChangeKind.PARSE_FAILED
UNPARSED_KINDS = (NO_LONGER_REPORT, PARSE_FAILED)

# Application-table column keys written before the one key scheme (gxcrawl/extract/
# table_keys.py); parsed rows from older parser versions are read into the current keys.
LEGACY_APPLICATION_COLUMNS = {
    "natural_person": "person",
    "legal.business": "business",
    "legal.research": "research",
    "legal.public_interest": "ngo",
    "legal.law_service": "law_firm",
    "legal.other": "org_other",
}
APPLICATIONS = "applications"

# The Core tables of a parsed report: its row and its per-cell rows are Core inserts (one
# executemany per kind of child row), no ORM unit of work per page.
_REPORTS = cast(Table, ParsedReport.__table__)
_FACTS = cast(Table, ReportFact.__table__)
_FINDINGS = cast(Table, ReportFinding.__table__)


def current_column_key(table_key: str | None, column_key: str | None) -> str | None:
    """The column key of the one scheme (an older parser's `natural_person` → `person`)."""
    if table_key == APPLICATIONS and column_key in LEGACY_APPLICATION_COLUMNS:
        return LEGACY_APPLICATION_COLUMNS[column_key]
    return column_key


def save_parsed_report(
    session: Session,
    *,
    snapshot_id: int,
    document_id: int,
    url: str,
    portal_id: str | None,
    fields: dict[str, Any],
    facts: list[dict[str, Any]],
    findings: list[dict[str, Any]],
    source_kind: str,
    parser_version: str,
    region_code: str | None = None,
    replace: bool = True,
) -> int:
    """Insert or replace the parsed row of a snapshot, with its facts and findings, linked to
    its agency entity. `region_code` is the portal's division; by default the stored portal
    row's (or the extracted code's when it lies within the portal's region). `replace=False`
    for a snapshot created in this transaction: there is nothing to replace (two queries
    fewer per new page)."""
    if replace:
        delete_parsed_report(session, snapshot_id)
        _forget_unparsed(session, snapshot_id)
    flags = list(fields.get("flags") or [])
    context = region_code or context_region(session, portal_id, fields.get("region_code"), flags)
    row = {
        "snapshot_id": snapshot_id,
        "document_id": document_id,
        "url": url,
        "portal_id": portal_id,
        "source_kind": source_kind,
        "parser_version": parser_version,
        "parsed_at": utcnow(),
        "written_date": _date(fields.get("written_date")),
        "publish_date": _date(fields.get("publish_date")),
        **{k: fields.get(k) for k in _PLAIN_FIELDS},
        "agency_id": agency_id_for(session, fields.get("agency"), region_code=context),
        "flags": flags,
        "removed": list(fields.get("removed") or []),
        "text": fields.get("text") or "",
    }
    session.flush()  # pending ORM rows first (the snapshot it points to), as a flush would
    report_id = insert_row(session, _REPORTS, row)
    _save_facts(session, report_id, facts)
    _save_findings(session, report_id, findings)
    return report_id


_FACT_COLUMNS = (
    "parsed_report_id", "template", "table_key", "row_key", "column_key", "row_label",
    "column_label", "value", "unit", "raw_text", "status",
)  # fmt: skip
_FINDING_COLUMNS = (
    "parsed_report_id", "rule", "table_key", "row_key", "column_key", "expected", "actual",
    "detail",
)  # fmt: skip


def _save_facts(session: Session, report_id: int, facts: list[dict[str, Any]]) -> None:
    rows: dict[tuple[str, str, str | None], tuple[Any, ...]] = {}
    for fact in facts:
        column = current_column_key(fact["table"], fact["column_key"])
        key = (fact["table"], fact["row_key"], column)
        if key in rows:
            continue  # the first wins: a parser slip must not abort the whole item
        rows[key] = (  # in _FACT_COLUMNS order
            report_id, fact.get("template") or "", fact["table"], fact["row_key"], column,
            fact.get("row_label"), fact.get("column_label"), fact.get("value"),
            fact.get("unit"), fact.get("raw_text"), fact.get("status") or "ok",
        )  # fmt: skip
    _insert_many(session, _FACTS, _FACT_COLUMNS, list(rows.values()))


def _save_findings(session: Session, report_id: int, findings: list[dict[str, Any]]) -> None:
    rows = [_finding_row(report_id, finding) for finding in findings]
    _insert_many(session, _FINDINGS, _FINDING_COLUMNS, rows)


def _finding_row(report_id: int, finding: dict[str, Any]) -> tuple[Any, ...]:
    column = current_column_key(finding.get("table"), finding.get("column_key"))
    return (  # in _FINDING_COLUMNS order
        report_id, finding["check"], finding.get("table"), finding.get("row_key"), column,
        finding.get("expected"), finding.get("actual"), finding.get("detail"),
    )  # fmt: skip


# (dialect, table) → the compiled INSERT of the given columns, and for a positional paramstyle
# where each column goes (None for a named one).
_MANY_SQL: dict[tuple[str, str], tuple[str, list[int] | None]] = {}


def _insert_many(
    session: Session, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """One executemany of `rows` (values in `columns` order), straight to the driver: a report
    has hundreds of cells, and SQLAlchemy's per-row parameter processing was most of their
    cost; these columns (text, numbers, NULL) need no conversion on either backend."""
    if not rows:
        return
    conn = session.connection()
    key = (conn.dialect.name, table.name)
    if key not in _MANY_SQL:
        compiled = table.insert().compile(dialect=conn.dialect, column_keys=list(columns))
        assert set(compiled.binds) == set(columns), "every column the SQL names, none other"
        places = [columns.index(name) for name in compiled.positiontup or ()]
        _MANY_SQL[key] = (str(compiled), places if compiled.positional else None)
    sql, order = _MANY_SQL[key]
    if order is None:
        conn.exec_driver_sql(sql, [dict(zip(columns, row, strict=True)) for row in rows])
    elif order == list(range(len(columns))):
        conn.exec_driver_sql(sql, rows)
    else:
        conn.exec_driver_sql(sql, [tuple(row[i] for i in order) for row in rows])


_PLAIN_FIELDS = (
    "title",
    "agency",
    "year",
    "index_no",
    "publisher",
    "source",
    "doc_no",
    "disclosure_mode",
    "validity",
    "category",
    "region_code",
    "template",
)


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def save_attachment_text(
    session: Session,
    *,
    snapshot_id: int,
    file_kind: str,
    text: str,
    flags: list[str],
    parser_version: str,
    html: str | None = None,
) -> None:
    existing = session.scalar(
        select(AttachmentText).where(AttachmentText.snapshot_id == snapshot_id)
    )
    if existing is None:
        existing = AttachmentText(snapshot_id=snapshot_id)
        session.add(existing)
    existing.file_kind = file_kind
    existing.text = text
    existing.html = html
    existing.flags = flags
    existing.parser_version = parser_version
    session.flush()


@dataclass(frozen=True)
class StoredSnapshot:
    snapshot_id: int
    document_id: int
    url: str
    final_url: str
    kind: str
    portal_id: str | None
    link_title: str | None
    parent_id: int | None
    headers: dict[str, Any]
    body: bytes


def _stored(snap: Snapshot, doc: Document, data: bytes) -> StoredSnapshot:
    return StoredSnapshot(
        snap.id, doc.id, doc.url, snap.final_url, doc.kind, doc.portal_id, doc.link_title,
        doc.parent_id, snap.headers, data,
    )  # fmt: skip


def _content_snapshots(
    query: Any, kinds: tuple[str, ...], portal: str | None, since: dt.datetime | None
) -> Any:
    query = query.join(Document, Document.id == Snapshot.document_id).where(
        Snapshot.disposition == CONTENT, Document.kind.in_(kinds)
    )
    if portal:
        query = query.where(Document.portal_id == portal)
    if since:
        query = query.where(Snapshot.fetched_at >= since)
    return query


def iter_content_snapshots(
    session: Session,
    *,
    kinds: tuple[str, ...] = ("report", "attachment"),
    portal: str | None = None,
    since: dt.datetime | None = None,
    batch: int = 200,
) -> Iterator[StoredSnapshot]:
    """Stored content snapshots, oldest first, in batches (for `scrapy reparse`)."""
    query = _content_snapshots(select(Snapshot, Document, Body.data), kinds, portal, since)
    query = query.join(Body, Body.sha256 == Snapshot.body_sha256).order_by(Snapshot.id)
    for snap, doc, data in session.execute(query.execution_options(yield_per=batch)):
        yield _stored(snap, doc, data)


def count_content_snapshots(
    session: Session,
    *,
    kinds: tuple[str, ...] = ("report", "attachment"),
    portal: str | None = None,
    since: dt.datetime | None = None,
) -> int:
    query = _content_snapshots(select(func.count(Snapshot.id)), kinds, portal, since)
    return session.scalar(query) or 0


def snapshot_by_id(session: Session, snapshot_id: int) -> StoredSnapshot | None:
    row = session.execute(
        select(Snapshot, Document, Body.data)
        .join(Document, Document.id == Snapshot.document_id)
        .join(Body, Body.sha256 == Snapshot.body_sha256)
        .where(Snapshot.id == snapshot_id)
    ).first()
    return _stored(*row) if row is not None else None


def newest_content_snapshot(session: Session, url: str) -> StoredSnapshot | None:
    snap_id = session.scalar(
        select(Snapshot.id)
        .join(Document, Document.id == Snapshot.document_id)
        .where(Document.url == url, Snapshot.disposition == CONTENT)
        .order_by(Snapshot.version.desc())
        .limit(1)
    )
    return snapshot_by_id(session, snap_id) if snap_id is not None else None


def delete_parsed_report(session: Session, snapshot_id: int) -> None:
    """Drop the parsed row of a snapshot that extraction no longer calls a report."""
    old = session.scalar(select(ParsedReport.id).where(ParsedReport.snapshot_id == snapshot_id))
    if old is not None:
        session.execute(delete(ReportFact).where(ReportFact.parsed_report_id == old))
        session.execute(delete(ReportFinding).where(ReportFinding.parsed_report_id == old))
        session.execute(delete(ParsedReport).where(ParsedReport.id == old))


@dataclass(frozen=True)
class LinkedFileText:
    """What extraction made of a file a report page links: its text and its body as HTML
    (real `<table>`s; None for files extracted before HTML was kept)."""

    text: str
    html: str | None


def attachment_texts_of(session: Session, report_document_id: int) -> list[LinkedFileText]:
    """Text and HTML of the newest version of each file a report page links, in link order."""
    rows = session.execute(
        select(Document.id, AttachmentText.text, AttachmentText.html)
        .join(Snapshot, Snapshot.document_id == Document.id)
        .join(AttachmentText, AttachmentText.snapshot_id == Snapshot.id)
        .where(Document.parent_id == report_document_id)
        .order_by(Document.id, Snapshot.version)
    )
    newest: dict[int, LinkedFileText] = {}
    for doc_id, text, html in rows:
        newest[doc_id] = LinkedFileText(text, html)  # later versions overwrite earlier ones
    return list(newest.values())


def record_unparsed_version(
    session: Session, *, snapshot_id: int, kind: str, reason: str, run_id: int | None = None
) -> bool:
    """Record that a new version of a known report is no longer a report (`no_longer_report`)
    or failed to parse (`parse_failed`), with the reason, as a change from the newest earlier
    parsed version. Nothing is recorded (False) when no earlier version was a parsed report.
    Idempotent per snapshot: a reparse replaces the verdict, a successful one removes it."""
    if kind not in UNPARSED_KINDS:
        raise ValueError(f"kind must be one of {UNPARSED_KINDS}, not {kind!r}")
    place = session.execute(_SNAPSHOT_PLACE, {"id": snapshot_id}).first()
    if place is None:
        return False
    document_id, version = place
    # Versions count from 1: a first version (every new page of a crawl) has no earlier one.
    if version <= 1:
        return False
    earlier = session.scalar(_EARLIER_PARSED, {"doc": document_id, "version": version})
    if earlier is None:
        return False
    if kind == NO_LONGER_REPORT:
        delete_parsed_report(session, snapshot_id)
    _forget_unparsed(session, snapshot_id)
    session.add(
        Change(
            document_id=document_id, run_id=run_id, kind=kind, from_snapshot_id=earlier,
            to_snapshot_id=snapshot_id, detail=reason, detected_at=utcnow(),
        )
    )  # fmt: skip
    session.flush()
    return True


_SNAPSHOT_PLACE = select(Snapshot.document_id, Snapshot.version).where(
    Snapshot.id == bindparam("id")
)
# The newest earlier version of a document that was a parsed report.
_EARLIER_PARSED = (
    select(ParsedReport.snapshot_id)
    .join(Snapshot, Snapshot.id == ParsedReport.snapshot_id)
    .where(Snapshot.document_id == bindparam("doc"), Snapshot.version < bindparam("version"))
    .order_by(Snapshot.version.desc())
    .limit(1)
)


def _forget_unparsed(session: Session, snapshot_id: int) -> None:
    session.execute(
        delete(Change).where(Change.to_snapshot_id == snapshot_id, Change.kind.in_(UNPARSED_KINDS))
    )


@dataclass(frozen=True)
class ParentReport:
    snapshot_id: int
    text_length: int


def parent_report_snapshot(session: Session, attachment_document_id: int) -> ParentReport | None:
    """The newest parsed version of the report page that links this file, if any."""
    row = session.execute(
        select(ParsedReport.snapshot_id, func.length(ParsedReport.text))
        .join(Snapshot, Snapshot.id == ParsedReport.snapshot_id)
        .join(Document, Document.parent_id == ParsedReport.document_id)
        .where(Document.id == attachment_document_id, ParsedReport.source_kind == "html")
        .order_by(Snapshot.version.desc())
        .limit(1)
    ).first()
    return ParentReport(row[0], row[1] or 0) if row else None
