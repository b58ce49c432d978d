"""Crawl state: what was fetched, what changed. Writes are idempotent and run in the caller's
transaction (one per item): documents are keyed by URL, bodies by SHA-256, and a new snapshot
version is written only when the content hash differs from the latest one."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gxcrawl.store.models import (
    Body,
    Change,
    Document,
    Fetch,
    Snapshot,
    utcnow,
)

CONTENT = "content"


@dataclass
class FetchRecord:
    """One response (or failure) as the crawler saw it; the pipeline's input to the store."""

    url: str  # the document's canonical URL
    kind: str  # list | report | attachment | other
    method: str = "GET"
    requested_url: str | None = None  # as asked (defaults to `url`)
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
    if recheck_after is not None and rec.disposition not in ("error", "blocked"):
        doc.next_check_at = rec.fetched_at + recheck_after  # failures are retried next run

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
                requested_url=rec.requested_url or rec.url,
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
