"""Extract a stored snapshot and save what it yields: the crawl pipeline and `scrapy reparse` both
call `extract_and_save`, and `scrapy extract` builds its input with `raw_document`, so every path
runs the one extraction entry point on the same input."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from gxcrawl.extract.process import (
    PARSER_VERSION,
    STUB_CHARS,
    Extraction,
    LinkedFile,
    RawDocument,
    extract_document,
)
from gxcrawl.extract.types import PortalHints
from gxcrawl.store import repository as repo
from gxcrawl.vocab import DocumentKind, ParseOutcome


@dataclass(frozen=True)
class SnapshotInput:
    """A stored content snapshot to extract, with the facts of its document."""

    snapshot_id: int
    document_id: int
    url: str
    kind: str  # report | attachment
    portal_id: str | None
    body: bytes
    headers: Mapping[str, Any]
    link_title: str | None
    standalone: bool  # not linked from a report page (a file straight from a list)
    run_id: int | None = None  # the crawl run that fetched it (None for a reparse)
    fresh: bool = False  # created in this transaction: no parsed row or verdict to replace yet
    childless: bool = False  # its document is new in this transaction: no linked files yet

    @classmethod
    def of(cls, snap: repo.StoredSnapshot) -> SnapshotInput:
        return cls(
            snap.snapshot_id, snap.document_id, snap.url, snap.kind, snap.portal_id, snap.body,
            snap.headers, snap.link_title, snap.parent_id is None,
        )  # fmt: skip


def raw_document(session: Session | None, snap: SnapshotInput, hints: PortalHints) -> RawDocument:
    """The entry point's input for a stored snapshot: its bytes, headers and hints, and for a
    report page the texts of the files it links (a stub page takes theirs). Without a session
    (extraction ahead of the write, in a worker) no linked files: see `is_stub`."""
    linked: list[LinkedFile] = []
    if snap.kind == DocumentKind.REPORT and session is not None and not snap.childless:
        files = repo.attachment_texts_of(session, snap.document_id)
        linked = [LinkedFile(f.text, f.html) for f in files]
    return RawDocument(
        body=snap.body,
        url=snap.url,
        headers={str(k): str(v) for k, v in snap.headers.items()},
        kind=snap.kind,
        link_title=snap.link_title,
        standalone=snap.standalone,
        hints=hints,
        linked_files=linked,
    )


def is_stub(out: Extraction) -> bool:
    """A short report page: the only extraction the texts of its linked files can change, so an
    extraction made without them (ahead of the write) is final unless this holds."""
    return out.source_kind == "html" and out.is_report and len(out.result.text) < STUB_CHARS


def extract_and_save(
    session: Session, snap: SnapshotInput, hints: PortalHints, ahead: Extraction | None = None
) -> ParseOutcome:
    """Extract a stored snapshot, save what it yields and say what it turned out to be.

    `ahead` is the extraction of the same bytes made before the write without linked files (in
    a worker process); it is used unless the page is a stub, which is re-read with its files."""
    if snap.kind not in (DocumentKind.REPORT, DocumentKind.ATTACHMENT):
        return ParseOutcome.SKIPPED
    if ahead is None or is_stub(ahead):
        ahead = extract_document(raw_document(session, snap, hints))
    return _save_extraction(session, snap, hints, ahead)


def _save_extraction(
    session: Session, snap: SnapshotInput, hints: PortalHints, out: Extraction
) -> ParseOutcome:
    if out.source_kind == "attachment":
        _save_file_text(session, snap, out)
        if not snap.standalone:
            _refresh_stub_parent(session, snap.document_id, hints)
        if not out.is_report:
            return ParseOutcome.ATTACHMENT
    elif not out.is_report:
        # A new version of a known report that is no longer one is a change researchers see.
        if not snap.fresh:
            repo.delete_parsed_report(session, snap.snapshot_id)
        reason = f"title {out.result.title!r} is not a report title"
        repo.record_unparsed_version(
            session,
            snapshot_id=snap.snapshot_id,
            kind=repo.NO_LONGER_REPORT,
            reason=reason,
            run_id=snap.run_id,
        )
        return ParseOutcome.NOT_A_REPORT
    fields = out.to_json_dict()
    repo.save_parsed_report(
        session,
        snapshot_id=snap.snapshot_id,
        document_id=snap.document_id,
        url=snap.url,
        portal_id=snap.portal_id,
        fields=fields,
        facts=fields["tables"],
        findings=fields["findings"],
        source_kind=out.source_kind,
        parser_version=PARSER_VERSION,
        replace=not snap.fresh,
    )
    return ParseOutcome.REPORT


def _save_file_text(session: Session, snap: SnapshotInput, out: Extraction) -> None:
    repo.save_attachment_text(
        session,
        snapshot_id=snap.snapshot_id,
        file_kind=out.file_kind or "unknown",
        text=out.file_text or "",
        flags=out.file_flags,
        parser_version=PARSER_VERSION,
        html=out.file_html,
    )


def _refresh_stub_parent(session: Session, attachment_document_id: int, hints: PortalHints) -> None:
    """A file of a stub report page arrived after the page: re-parse the page with it."""
    parent = repo.parent_report_snapshot(session, attachment_document_id)
    if parent is None or parent.text_length >= STUB_CHARS:
        return
    snap = repo.snapshot_by_id(session, parent.snapshot_id)
    if snap is not None:
        extract_and_save(session, SnapshotInput.of(snap), hints)


def record_parse_failure(session: Session, snap: SnapshotInput, error: BaseException) -> None:
    """Extraction raised (a parser bug, or `parse_timeout` past the page's time budget): the
    fetch that brought the page says why, and for a new version of a known report it is a
    recorded change. The raw snapshot is kept; `scrapy reparse` retries."""
    reason = f"{getattr(error, 'reason', type(error).__name__)}: {error}"[:500]
    repo.note_fetch_reason(session, snap.snapshot_id, reason)
    repo.record_unparsed_version(
        session,
        snapshot_id=snap.snapshot_id,
        kind=repo.PARSE_FAILED,
        reason=reason,
        run_id=snap.run_id,
    )


def hints_from_row(row: Any) -> PortalHints:
    """PortalHints from a stored `portals` row: the same hints the crawl had (Portal.hints())."""
    return PortalHints(
        portal_id=row.id,
        agency=row.name,
        region_code=row.region_code,
        platform=row.platform,
        content_selector=(row.selectors or {}).get("content"),
    )


def stored_hints(session: Session, portal_id: str | None) -> PortalHints:
    """The hints a stored page was crawled with (its portal's row), as the pipeline passed them."""
    row = repo.stored_portals(session).get(portal_id or "")
    return hints_from_row(row) if row is not None else PortalHints(portal_id=portal_id)
