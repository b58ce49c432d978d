"""Crawl state: what was fetched, what changed. Writes are idempotent and run in the caller's
transaction (one per item): documents are keyed by URL, bodies by SHA-256, and a new snapshot
version is written only when the content hash differs from the latest one."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gxcrawl.changes import ChangeDecision, FetchFacts, PriorState, classify_change
from gxcrawl.store.models import (
    Body,
    Change,
    Document,
    Fetch,
    Snapshot,
    utcnow,
)
from gxcrawl.vocab import ChangeKind, Disposition, DocumentKind, DocumentState, Outcome

CONTENT = Disposition.CONTENT  # kept for callers of repository.CONTENT


@dataclass
class FetchRecord:
    """One response (or failure) as the crawler saw it; the pipeline's input to the store."""

    url: str  # the document's canonical URL
    kind: DocumentKind
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
    disposition: Disposition = Disposition.CONTENT
    reason: str | None = None
    conditional: bool = False
    body_size: int = 0  # bytes received on the wire (0 for a 304)


@dataclass(frozen=True)
class StoredFetch:
    document_id: int
    snapshot_id: int | None  # the snapshot holding this response's body, new or existing
    outcome: Outcome
    change: ChangeKind | None  # the change recorded, if any
    is_new_version: bool
    # The document row was created by this fetch (a URL never seen): no file links to it yet.
    new_document: bool = False


@dataclass(frozen=True)
class UrlState:
    kind: str
    state: str
    etag: str | None
    last_modified: str | None
    content_sha256: str | None
    next_check_at: dt.datetime | None
    link_title: str | None = None  # the list entry's title when last seen (a retitle is due)


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
            Document.link_title,
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
    session: Session, url: str, kind: DocumentKind, portal_id: str | None
) -> Document:
    doc = session.scalar(select(Document).where(Document.url == url))
    if doc is None:
        ins = _insert(session, Document).values(
            url=url,
            kind=kind,
            portal_id=portal_id,
            state=DocumentState.LIVE,
            first_seen_at=utcnow(),
        )
        session.execute(ins.on_conflict_do_nothing(index_elements=["url"]))
        doc = session.scalars(select(Document).where(Document.url == url)).one()
    return doc


def _insert(session: Session, model: Any) -> Any:
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(model)


_INSERT_IGNORING: dict[tuple[str, str, str], Any] = {}


def _insert_ignoring(session: Session, table: Table, key: str) -> Any:
    """INSERT … ON CONFLICT (key) DO NOTHING for `table`, built once per dialect."""
    dialect = session.get_bind().dialect.name
    cache_key = (dialect, table.name, key)
    if cache_key not in _INSERT_IGNORING:
        ins = _insert(session, table).on_conflict_do_nothing(index_elements=[key])
        _INSERT_IGNORING[cache_key] = ins
    return _INSERT_IGNORING[cache_key]


def _store_body(session: Session, data: bytes) -> str:
    digest = sha256(data)
    ins = _insert_ignoring(session, _BODIES, "sha256")
    session.connection().execute(ins, {"sha256": digest, "size": len(data), "data": data})
    return digest


def record_fetch(
    session: Session,
    rec: FetchRecord,
    *,
    run_id: int | None,
    recheck_after: dt.timedelta | None,
) -> StoredFetch:
    """Store one response: body (deduplicated), a snapshot if the content is new, the change it
    represents, the per-URL state and a fetch-log row. What changed is decided by
    `classify_change`; this function only writes it down."""
    doc = session.scalar(_DOCUMENT_BY_URL, {"url": rec.url})
    if doc is None and rec.parent_url is None:
        # Most fetches of a first crawl: a URL never seen, so no snapshot, change or parent to
        # read. Its rows are written with Core inserts, no ORM unit of work.
        stored = _record_new_document(session, rec, run_id, recheck_after)
        if stored is not None:
            return stored
    created = doc is None
    doc = _document_for(session, rec, doc)
    latest = session.scalar(_LATEST_SNAPSHOT, {"document_id": doc.id})
    digest = sha256(rec.body) if rec.body is not None else None
    decision = classify_change(_prior(doc, latest), FetchFacts(rec.disposition, digest))
    _apply(doc, rec, decision, digest, recheck_after)
    snapshot_id = latest.id if decision.reuse_latest_snapshot and latest is not None else None
    new_version = False
    # Keep the raw body of every response that has one (error pages and block pages too), but
    # never twice in a row for the same document.
    if _keeps_body(rec) and snapshot_id is None:
        snapshot_id, new_version = _store_snapshot(session, doc, latest, rec, run_id)
    if decision.change is not None:
        _record_change(session, doc, rec, decision.change, latest, snapshot_id, new_version, run_id)
    session.add(Fetch(**_fetch_row(rec, doc.id, decision, snapshot_id, run_id)))
    session.flush()
    return StoredFetch(
        doc.id, snapshot_id, decision.outcome, decision.change, new_version, new_document=created
    )


# Statements built once: a crawl runs them for every page (bound parameters, cached compile).
_DOCUMENT_BY_URL = select(Document).where(Document.url == bindparam("url"))
_LATEST_SNAPSHOT = (
    select(Snapshot)
    .where(Snapshot.document_id == bindparam("document_id"))
    .order_by(Snapshot.version.desc())
    .limit(1)
)
_DOCUMENTS = cast(Table, Document.__table__)
_BODIES = cast(Table, Body.__table__)
_SNAPSHOTS = cast(Table, Snapshot.__table__)
_FETCHES = cast(Table, Fetch.__table__)
_CHANGES = cast(Table, Change.__table__)
# The columns a new document row is written with (its id comes from the database).
_DOCUMENT_COLUMNS = tuple(c.key for c in _DOCUMENTS.columns if c.key != "id")


def _insert_new_document(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect not in _NEW_DOCUMENT:
        ins = _insert(session, _DOCUMENTS).on_conflict_do_nothing(index_elements=["url"])
        _NEW_DOCUMENT[dialect] = ins.returning(_DOCUMENTS.c.id)
    return _NEW_DOCUMENT[dialect]


_NEW_DOCUMENT: dict[str, Any] = {}


def insert_row(session: Session, table: Table, row: dict[str, Any]) -> int:
    """Insert one row with Core (no ORM unit of work) in the session's transaction; its id."""
    key = session.connection().execute(_insert_of(table), row).inserted_primary_key
    assert key is not None
    new_id: int = key[0]
    return new_id


_INSERTS: dict[str, Any] = {}


def _insert_of(table: Table) -> Any:
    """`table.insert()`, built once (its compiled form is then found in the cache at once)."""
    if table.name not in _INSERTS:
        _INSERTS[table.name] = table.insert()
    return _INSERTS[table.name]


def _keeps_body(rec: FetchRecord) -> bool:
    return rec.body is not None and rec.disposition != Disposition.NOT_MODIFIED


def _record_new_document(
    session: Session,
    rec: FetchRecord,
    run_id: int | None,
    recheck_after: dt.timedelta | None,
) -> StoredFetch | None:
    """`record_fetch` for a URL absent from `documents` (and no parent): the same rows the
    general path writes, in the same order, each with one Core insert. None (nothing written)
    when another writer added the URL since it was looked up: the general path then runs."""
    doc = Document(
        url=rec.url, kind=rec.kind, portal_id=rec.portal_id, state=DocumentState.LIVE,
        first_seen_at=utcnow(), link_title=rec.link_title or None,
    )  # fmt: skip  # transient: never added to the session, only read back as a row
    digest = sha256(rec.body) if rec.body is not None else None
    decision = classify_change(_prior(doc, None), FetchFacts(rec.disposition, digest))
    _apply(doc, rec, decision, digest, recheck_after)
    conn = session.connection()
    row = {k: getattr(doc, k) for k in _DOCUMENT_COLUMNS}
    doc_id = conn.execute(_insert_new_document(session), row).scalar()
    if doc_id is None:
        return None
    snapshot_id, new_version = None, False
    if _keeps_body(rec):  # version 1: a new document has no latest snapshot to reuse
        assert rec.body is not None
        body_sha = _store_body(session, rec.body)
        row = _snapshot_row(rec, doc_id, 1, body_sha, run_id)
        snapshot_id = insert_row(session, _SNAPSHOTS, row)
        new_version = rec.disposition == Disposition.CONTENT
    if decision.change is not None:
        conn.execute(
            _insert_of(_CHANGES),
            {
                "document_id": doc_id, "run_id": run_id, "kind": decision.change,
                "from_snapshot_id": None, "detail": rec.reason,
                "to_snapshot_id": snapshot_id if new_version else None,
            },
        )  # fmt: skip
    conn.execute(_insert_of(_FETCHES), _fetch_row(rec, doc_id, decision, snapshot_id, run_id))
    return StoredFetch(
        doc_id, snapshot_id, decision.outcome, decision.change, new_version, new_document=True
    )


def _fetch_row(
    rec: FetchRecord,
    document_id: int,
    decision: ChangeDecision,
    snapshot_id: int | None,
    run_id: int | None,
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "document_id": document_id,
        "url": rec.url,
        "method": rec.method,
        "status": rec.status,
        "outcome": decision.outcome,
        "reason": rec.reason,
        "bytes": rec.body_size,
        "conditional": rec.conditional,
        "fetched_at": rec.fetched_at,
        "snapshot_id": snapshot_id,
    }


def _document_for(session: Session, rec: FetchRecord, found: Document | None) -> Document:
    """The document row of `rec` (`found` if it was already looked up), created if new, with
    what this fetch adds to its identity."""
    doc = found or _get_or_create_document(session, rec.url, rec.kind, rec.portal_id)
    if rec.kind != doc.kind and doc.kind in (DocumentKind.OTHER, DocumentKind.LIST):
        doc.kind = rec.kind  # a URL first seen as a plain page turned out to be a report
    if rec.link_title:  # the newest list entry: a retitle is due once, then known
        doc.link_title = rec.link_title
    if rec.parent_url and doc.parent_id is None:
        parent = _get_or_create_document(
            session, rec.parent_url, DocumentKind.REPORT, rec.portal_id
        )
        doc.parent_id = parent.id
    return doc


def _prior(doc: Document, latest: Snapshot | None) -> PriorState:
    return PriorState(
        kind=DocumentKind(doc.kind),
        state=DocumentState(doc.state),
        content_sha256=doc.content_sha256,
        latest_body_sha256=latest.body_sha256 if latest is not None else None,
        has_snapshot=latest is not None,
    )


def _apply(
    doc: Document,
    rec: FetchRecord,
    decision: ChangeDecision,
    digest: str | None,
    recheck_after: dt.timedelta | None,
) -> None:
    """Write the decision onto the document's crawl state."""
    doc.last_fetched_at = rec.fetched_at
    if recheck_after is not None and decision.recheck:
        doc.next_check_at = rec.fetched_at + recheck_after
    doc.state = decision.state
    if decision.new_content:
        doc.content_sha256 = digest
        doc.last_changed_at = rec.fetched_at
    if rec.disposition == Disposition.CONTENT:
        doc.etag = _header(rec.headers, "etag")
        doc.last_modified = _header(rec.headers, "last-modified")


def _store_snapshot(
    session: Session,
    doc: Document,
    latest: Snapshot | None,
    rec: FetchRecord,
    run_id: int | None,
) -> tuple[int, bool]:
    """(snapshot id, is a new content version) for the body of `rec`."""
    assert rec.body is not None
    digest = _store_body(session, rec.body)
    if latest is not None and latest.body_sha256 == digest:
        return latest.id, False
    version = (latest.version + 1) if latest else 1
    snap = Snapshot(**_snapshot_row(rec, doc.id, version, digest, run_id))
    session.add(snap)
    session.flush()
    return snap.id, rec.disposition == Disposition.CONTENT


def _snapshot_row(
    rec: FetchRecord, document_id: int, version: int, body_sha256: str, run_id: int | None
) -> dict[str, Any]:
    return {
        "document_id": document_id,
        "version": version,
        "run_id": run_id,
        "requested_url": rec.requested_url or rec.url,
        "final_url": rec.final_url or rec.url,
        "method": rec.method,
        "status": rec.status or 0,
        "headers": rec.headers,
        "body_sha256": body_sha256,
        "encoding": rec.encoding,
        "fetched_at": rec.fetched_at,
        "etag": _header(rec.headers, "etag"),
        "last_modified": _header(rec.headers, "last-modified"),
        "disposition": rec.disposition,
    }


def _record_change(
    session: Session,
    doc: Document,
    rec: FetchRecord,
    change: ChangeKind,
    latest: Snapshot | None,
    snapshot_id: int | None,
    new_version: bool,
    run_id: int | None,
) -> None:
    session.add(
        Change(
            document_id=doc.id,
            run_id=run_id,
            kind=change,
            from_snapshot_id=latest.id if latest and change != ChangeKind.NEW else None,
            to_snapshot_id=snapshot_id if new_version else None,
            detail=rec.reason,
        )
    )
    if change == ChangeKind.ATTACHMENT_CHANGED and doc.parent_id is not None:
        # the report page that links the file changed too, as a reader sees it
        session.add(
            Change(
                document_id=doc.parent_id,
                run_id=run_id,
                kind=ChangeKind.ATTACHMENT_CHANGED,
                detail=rec.url,
            )
        )


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


def note_fetch_reason(session: Session, snapshot_id: int, reason: str) -> None:
    """Put why a stored response could not be parsed (e.g. `parse_timeout: …`) on the fetch rows
    that brought it and carry no reason yet: the fetch log says what became of every page."""
    session.execute(
        update(Fetch)
        .where(Fetch.snapshot_id == snapshot_id, Fetch.reason.is_(None))
        .values(reason=reason[:500])
    )
