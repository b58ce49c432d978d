"""Repository functions: every read and write the crawler, the commands and the tests make.

Writes are idempotent and each runs in the caller's transaction (one transaction per item), so a
crawl killed at any point leaves whole items or nothing, and re-running it converges on the same
content: documents are keyed by URL, bodies by SHA-256, snapshots by (document, version) and a new
version is only written when the content hash differs from the latest one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gxcrawl.store.models import (
    AttachmentText,
    Body,
    Change,
    CrawlRun,
    Document,
    Fetch,
    ParsedReport,
    PortalRow,
    ReportFact,
    ReportFinding,
    Snapshot,
    utcnow,
)

CONTENT = "content"


@dataclass
class FetchRecord:
    """One response (or failure) as the crawler saw it; the pipeline's input to the store."""

    url: str  # the document's canonical URL (the URL that was asked for)
    kind: str  # list | report | attachment | other
    method: str = "GET"
    final_url: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    encoding: str | None = None
    fetched_at: dt.datetime = field(default_factory=utcnow)
    portal_id: str | None = None
    link_title: str | None = None
    parent_url: str | None = None  # for attachments: the report page that links the file
    # content | not_modified | blocked | soft_404 | gone | redirected | error
    disposition: str = CONTENT
    reason: str | None = None
    conditional: bool = False
    body_size: int = 0  # bytes received on the wire (0 for a 304)


@dataclass(frozen=True)
class StoredFetch:
    document_id: int
    snapshot_id: int | None  # the snapshot holding this response's body, new or existing
    outcome: str  # new | changed | unchanged | gone | blocked | soft_404 | redirected | error
    change: str | None  # the change recorded, if any
    is_new_version: bool


@dataclass(frozen=True)
class UrlState:
    kind: str
    state: str
    etag: str | None
    last_modified: str | None
    content_sha256: str | None
    next_check_at: dt.datetime | None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- runs -------------------------------------------------------------------------------------


def start_run(session: Session, spider: str, portals: Iterable[str]) -> int:
    _mark_dead_runs(session)
    run = CrawlRun(
        spider=spider,
        portals=",".join(portals) or None,
        host=socket.gethostname(),
        pid=os.getpid(),
        stats={},
    )
    session.add(run)
    session.flush()
    return run.id


def finish_run(
    session: Session, run_id: int, status: str, reason: str, stats: dict[str, Any]
) -> None:
    session.execute(
        update(CrawlRun)
        .where(CrawlRun.id == run_id)
        .values(status=status, close_reason=reason, finished_at=utcnow(), stats=stats)
    )


def _mark_dead_runs(session: Session) -> None:
    """Runs left 'running' by a process that no longer exists (kill -9) become 'interrupted'."""
    host = socket.gethostname()
    for run in session.scalars(
        select(CrawlRun).where(CrawlRun.status == "running", CrawlRun.host == host)
    ):
        if run.pid is not None and not _pid_alive(run.pid):
            run.status = "interrupted"
            run.close_reason = "process vanished"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- crawl state ------------------------------------------------------------------------------


def load_url_states(session: Session) -> dict[str, UrlState]:
    rows = session.execute(
        select(
            Document.url,
            Document.kind,
            Document.state,
            Document.etag,
            Document.last_modified,
            Document.content_sha256,
            Document.next_check_at,
        )
    )
    return {r.url: UrlState(*r[1:]) for r in rows}


def latest_content_body(session: Session, url: str) -> bytes | None:
    """The body of the newest content snapshot of `url` (used to replay an unchanged list page)."""
    return session.scalar(
        select(Body.data)
        .join(Snapshot, Snapshot.body_sha256 == Body.sha256)
        .join(Document, Document.id == Snapshot.document_id)
        .where(Document.url == url, Snapshot.disposition == CONTENT)
        .order_by(Snapshot.version.desc())
        .limit(1)
    )


def _get_or_create_document(
    session: Session, url: str, kind: str, portal_id: str | None
) -> Document:
    doc = session.scalar(select(Document).where(Document.url == url))
    if doc is None:
        ins = _insert(session, Document).values(
            url=url, kind=kind, portal_id=portal_id, state="live", first_seen_at=utcnow()
        )
        session.execute(ins.on_conflict_do_nothing(index_elements=["url"]))
        doc = session.scalars(select(Document).where(Document.url == url)).one()
    return doc


def _insert(session: Session, model: type) -> Any:
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(model)


def _store_body(session: Session, data: bytes) -> str:
    digest = sha256(data)
    ins = _insert(session, Body).values(sha256=digest, size=len(data), data=data)
    session.execute(ins.on_conflict_do_nothing(index_elements=["sha256"]))
    return digest


def record_fetch(
    session: Session,
    rec: FetchRecord,
    *,
    run_id: int | None,
    recheck_after: dt.timedelta | None,
) -> StoredFetch:
    """Store one response: body (deduplicated), a snapshot if the content is new, the change it
    represents, the per-URL state and a fetch-log row."""
    doc = _get_or_create_document(session, rec.url, rec.kind, rec.portal_id)
    if rec.kind != doc.kind and doc.kind in ("other", "list"):
        doc.kind = rec.kind  # a URL first seen as a plain page turned out to be a report
    if rec.link_title and not doc.link_title:
        doc.link_title = rec.link_title
    if rec.parent_url and doc.parent_id is None:
        doc.parent_id = _get_or_create_document(session, rec.parent_url, "report", rec.portal_id).id

    latest = session.scalar(
        select(Snapshot)
        .where(Snapshot.document_id == doc.id)
        .order_by(Snapshot.version.desc())
        .limit(1)
    )
    had_content = doc.content_sha256 is not None
    doc.last_fetched_at = rec.fetched_at
    if recheck_after is not None:
        doc.next_check_at = rec.fetched_at + recheck_after

    outcome, change, snapshot_id, new_version = rec.disposition, None, None, False
    body = rec.body if rec.body is not None else None

    if rec.disposition == "error":
        if not had_content:
            doc.state = "error"
    elif rec.disposition == "not_modified":
        outcome = "unchanged"
        snapshot_id = latest.id if latest else None
        change = _reappear(doc)
    elif rec.disposition in ("gone", "soft_404"):
        if had_content and doc.state != "gone":
            change = "gone"
        doc.state = "gone"
        outcome = rec.disposition if rec.disposition == "soft_404" else "gone"
    elif rec.disposition == "blocked":
        if not had_content:
            doc.state = "blocked"
    elif rec.disposition == "redirected":
        if had_content and doc.state != "redirected":
            change = "redirected"
        doc.state = "redirected"
    else:  # content
        assert body is not None, "a content fetch carries a body"
        digest = sha256(body)
        if digest == doc.content_sha256 and latest is not None:
            outcome = "unchanged"
            snapshot_id = latest.id if latest.body_sha256 == digest else None
            change = _reappear(doc)
        else:
            outcome = "changed" if had_content else "new"
            if doc.state == "gone":
                change = "reappeared"
            elif had_content:
                change = "attachment_changed" if doc.kind == "attachment" else "edited"
            else:
                change = "new"
            doc.state = "live"
            doc.content_sha256 = digest
            doc.last_changed_at = rec.fetched_at
        doc.etag = _header(rec.headers, "etag")
        doc.last_modified = _header(rec.headers, "last-modified")

    # Keep the raw body of every response that has one (error pages and block pages too), but
    # never twice in a row for the same document.
    if body is not None and rec.disposition != "not_modified" and snapshot_id is None:
        digest = _store_body(session, body)
        if latest is not None and latest.body_sha256 == digest:
            snapshot_id = latest.id
        else:
            snap = Snapshot(
                document_id=doc.id,
                version=(latest.version + 1) if latest else 1,
                run_id=run_id,
                requested_url=rec.url,
                final_url=rec.final_url or rec.url,
                method=rec.method,
                status=rec.status or 0,
                headers=rec.headers,
                body_sha256=digest,
                encoding=rec.encoding,
                fetched_at=rec.fetched_at,
                etag=_header(rec.headers, "etag"),
                last_modified=_header(rec.headers, "last-modified"),
                disposition=CONTENT if rec.disposition == CONTENT else rec.disposition,
            )
            session.add(snap)
            session.flush()
            snapshot_id, new_version = snap.id, rec.disposition == CONTENT

    if change is not None and doc.kind == "list":
        change = None  # list pages change whenever an item is added: versions, not news
    if change is not None:
        session.add(
            Change(
                document_id=doc.id,
                run_id=run_id,
                kind=change,
                from_snapshot_id=latest.id if latest and change != "new" else None,
                to_snapshot_id=snapshot_id if new_version else None,
                detail=rec.reason,
            )
        )
        if change == "attachment_changed" and doc.parent_id is not None:
            session.add(
                Change(
                    document_id=doc.parent_id,
                    run_id=run_id,
                    kind="attachment_changed",
                    detail=rec.url,
                )
            )
    session.add(
        Fetch(
            run_id=run_id,
            document_id=doc.id,
            url=rec.url,
            method=rec.method,
            status=rec.status,
            outcome=outcome,
            reason=rec.reason,
            bytes=rec.body_size,
            conditional=rec.conditional,
            fetched_at=rec.fetched_at,
            snapshot_id=snapshot_id,
        )
    )
    session.flush()
    return StoredFetch(doc.id, snapshot_id, outcome, change, new_version)


def _reappear(doc: Document) -> str | None:
    if doc.state in ("gone", "redirected"):
        doc.state = "live"
        return "reappeared"
    doc.state = "live"
    return None


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


# --- parsed data ------------------------------------------------------------------------------


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
) -> int:
    """Insert or replace the parsed row of a snapshot, with its facts and findings."""
    delete_parsed_report(session, snapshot_id)
    row = ParsedReport(
        snapshot_id=snapshot_id,
        document_id=document_id,
        url=url,
        portal_id=portal_id,
        source_kind=source_kind,
        parser_version=parser_version,
        parsed_at=utcnow(),
        written_date=_date(fields.get("written_date")),
        publish_date=_date(fields.get("publish_date")),
        **{k: fields.get(k) for k in _PLAIN_FIELDS},
        flags=list(fields.get("flags") or []),
        removed=list(fields.get("removed") or []),
        text=fields.get("text") or "",
    )
    session.add(row)
    session.flush()
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for fact in facts:
        key = (fact["table"], fact["row_key"], fact["column_key"])
        rows.setdefault(  # the first wins: a parser slip must not abort the whole item
            key,
            {
                "parsed_report_id": row.id,
                "template": fact.get("template") or "",
                "table_key": fact["table"],
                "row_key": fact["row_key"],
                "column_key": fact["column_key"],
                "row_label": fact.get("row_label"),
                "column_label": fact.get("column_label"),
                "value": fact.get("value"),
                "unit": fact.get("unit"),
                "raw_text": fact.get("raw_text"),
                "status": fact.get("status") or "ok",
            },
        )
    if rows:  # one executemany, not an ORM object per cell
        session.execute(insert(ReportFact), list(rows.values()))
    if findings:
        session.execute(
            insert(ReportFinding),
            [
                {
                    "parsed_report_id": row.id,
                    "rule": finding["check"],
                    "table_key": finding.get("table"),
                    "row_key": finding.get("row_key"),
                    "column_key": finding.get("column_key"),
                    "expected": finding.get("expected"),
                    "actual": finding.get("actual"),
                    "detail": finding.get("detail"),
                }
                for finding in findings
            ],
        )
    return row.id


_PLAIN_FIELDS = (
    "title",
    "agency",
    "year",
    "index_no",
    "publisher",
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
) -> None:
    existing = session.scalar(
        select(AttachmentText).where(AttachmentText.snapshot_id == snapshot_id)
    )
    if existing is None:
        existing = AttachmentText(snapshot_id=snapshot_id)
        session.add(existing)
    existing.file_kind = file_kind
    existing.text = text
    existing.flags = flags
    existing.parser_version = parser_version
    session.flush()


def attachment_texts_for(session: Session, report_document_id: int) -> list[tuple[str, str]]:
    """(url, text) of the newest version of each attachment linked from a report page."""
    rows = session.execute(
        select(Document.url, AttachmentText.text, Snapshot.version, Document.id)
        .join(Snapshot, Snapshot.document_id == Document.id)
        .join(AttachmentText, AttachmentText.snapshot_id == Snapshot.id)
        .where(Document.parent_id == report_document_id)
        .order_by(Document.id, Snapshot.version)
    )
    newest: dict[int, tuple[str, str]] = {}
    for url, text, _version, doc_id in rows:
        newest[doc_id] = (url, text)
    return list(newest.values())


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


def upsert_portals(session: Session, portals: Iterable[dict[str, Any]]) -> None:
    """Keep the registry entries a crawl used (for offline reparse, extract and export)."""
    for entry in portals:
        row = session.get(PortalRow, entry["id"]) or PortalRow(id=entry["id"])
        for key, value in entry.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
        session.add(row)
    session.flush()


def stored_portals(session: Session) -> dict[str, PortalRow]:
    return {row.id: row for row in session.scalars(select(PortalRow))}


def delete_parsed_report(session: Session, snapshot_id: int) -> None:
    """Drop the parsed row of a snapshot that extraction no longer calls a report."""
    old = session.scalar(select(ParsedReport.id).where(ParsedReport.snapshot_id == snapshot_id))
    if old is not None:
        session.execute(delete(ReportFact).where(ReportFact.parsed_report_id == old))
        session.execute(delete(ReportFinding).where(ReportFinding.parsed_report_id == old))
        session.execute(delete(ParsedReport).where(ParsedReport.id == old))


@dataclass
class RunSummary:
    run: CrawlRun
    fetch_outcomes: dict[str, int]
    reports: list[tuple[str | None, int | None, str | None, str]]  # agency, year, title, url
    report_documents: int
    lookalikes: list[str]
    changes: dict[str, int]


def run_summary(session: Session, run_id: int | None = None) -> RunSummary | None:
    """What a crawl run did, and the reports the store now holds (the `reports` view)."""
    from sqlalchemy import text

    run = (
        session.get(CrawlRun, run_id)
        if run_id
        else session.scalar(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(1))
    )
    if run is None:
        return None
    outcomes = dict(
        session.execute(
            select(Fetch.outcome, func.count())
            .where(Fetch.run_id == run.id)
            .group_by(Fetch.outcome)
        ).all()
    )
    changes = dict(
        session.execute(
            select(Change.kind, func.count()).where(Change.run_id == run.id).group_by(Change.kind)
        ).all()
    )
    reports = [
        (r.agency, r.year, r.title, r.url)
        for r in session.execute(
            text("SELECT agency, year, title, url FROM reports ORDER BY year, agency, url")
        )
    ]
    lookalikes = list((run.stats or {}).get("gxcrawl/lookalikes") or [])
    documents = session.execute(text("SELECT COUNT(*) FROM report_documents")).scalar() or 0
    return RunSummary(run, outcomes, reports, documents, lookalikes, changes)


EXPORTABLE_VIEWS = ("reports", "report_documents", "report_facts", "application_table")


def view_columns(session: Session, view: str) -> list[str]:
    from sqlalchemy import text

    if view not in EXPORTABLE_VIEWS:
        raise ValueError(f"unknown view {view!r}")
    return list(session.execute(text(f"SELECT * FROM {view} WHERE 1 = 0")).keys())


def count_view(session: Session, view: str, *, portal: str | None, year: int | None) -> int:
    from sqlalchemy import text

    where, params = _view_filter(portal, year)
    if view not in EXPORTABLE_VIEWS:
        raise ValueError(f"unknown view {view!r}")
    return session.execute(text(f"SELECT COUNT(*) FROM {view}{where}"), params).scalar() or 0


def iter_view(
    session: Session, view: str, *, portal: str | None, year: int | None, batch: int = 1000
) -> Iterator[dict[str, Any]]:
    """Rows of a researcher view as dicts, in a stable order, streamed."""
    from sqlalchemy import text

    if view not in EXPORTABLE_VIEWS:
        raise ValueError(f"unknown view {view!r}")
    where, params = _view_filter(portal, year)
    order = " ORDER BY report_id" + (
        ", table_key, row_key, column_key" if view == "report_facts" else ""
    )
    result = session.execute(
        text(f"SELECT * FROM {view}{where}{order}").execution_options(yield_per=batch), params
    )
    for row in result.mappings():
        yield dict(row)


def _view_filter(portal: str | None, year: int | None) -> tuple[str, dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if portal:
        clauses.append("portal_id = :portal")
        params["portal"] = portal
    if year:
        clauses.append("year = :year")
        params["year"] = year
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


@dataclass(frozen=True)
class KnownDocument:
    url: str
    kind: str
    link_title: str | None
    parent_url: str | None


def due_documents(
    session: Session, portal_id: str, *, now: dt.datetime, force: bool = False
) -> list[KnownDocument]:
    """Stored report pages and attachments of a portal that are due for revalidation.

    Revisiting them directly (not only through the lists) is what notices a report that was
    deleted or moved: lists drop deleted items, so they would otherwise never be asked again.
    """
    from sqlalchemy.orm import aliased

    parent = aliased(Document)
    query = (
        select(Document.url, Document.kind, Document.link_title, parent.url)
        .outerjoin(parent, parent.id == Document.parent_id)
        .where(
            Document.portal_id == portal_id,
            Document.kind.in_(("report", "attachment")),
            Document.content_sha256.is_not(None),
            Document.state.in_(("live", "gone", "redirected")),
        )
        .order_by(Document.id)
    )
    if not force:
        query = query.where((Document.next_check_at.is_(None)) | (Document.next_check_at <= now))
    return [KnownDocument(*row) for row in session.execute(query)]
