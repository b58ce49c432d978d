"""What the revalidation slice reads: a portal's known reports with their last and next check,
and when the portal's previous run started (gxcrawl/revalidation.py chooses from these)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from gxcrawl.revalidation import Candidate
from gxcrawl.store.models import CrawlRun, Document
from gxcrawl.store.state import KnownDocument
from gxcrawl.vocab import DocumentKind, DocumentState

__all__ = ["known_documents", "previous_run_start"]

_HISTORY_SCAN = 50  # runs looked back through for the portal's previous one


def known_documents(session: Session, portal_id: str) -> list[tuple[KnownDocument, Candidate]]:
    """Every stored report page and attachment of a portal that a revalidation can tell about
    (content stored once; live, gone or redirected), with its last and next check."""
    parent = aliased(Document)
    query = (
        select(
            Document.url,
            Document.kind,
            Document.link_title,
            parent.url,
            Document.last_fetched_at,
            Document.next_check_at,
        )
        .outerjoin(parent, parent.id == Document.parent_id)
        .where(
            Document.portal_id == portal_id,
            Document.kind.in_((DocumentKind.REPORT, DocumentKind.ATTACHMENT)),
            Document.content_sha256.is_not(None),
            Document.state.in_((DocumentState.LIVE, DocumentState.GONE, DocumentState.REDIRECTED)),
        )
        .order_by(Document.id)
    )
    return [
        (KnownDocument(url, kind, title, parent_url), Candidate(url, last, nxt))
        for url, kind, title, parent_url, last, nxt in session.execute(query)
    ]


def previous_run_start(session: Session, portal_id: str, before_run_id: int) -> dt.datetime | None:
    """When the last run before `before_run_id` that covered the portal started."""
    query = (
        select(CrawlRun.started_at, CrawlRun.portals)
        .where(CrawlRun.id < before_run_id, CrawlRun.portals.contains(portal_id))
        .order_by(CrawlRun.id.desc())
        .limit(_HISTORY_SCAN)
    )
    for started, portals in session.execute(query):
        if portal_id in (portals or "").split(","):
            return started
    return None
