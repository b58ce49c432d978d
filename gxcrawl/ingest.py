"""Extract a stored snapshot and save what it yields: shared by the crawl pipeline and
`scrapy reparse`, so a crawl and an offline rebuild write the same parsed rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from gxcrawl.extract.process import (
    PARSER_VERSION,
    STUB_CHARS,
    merge_attachment_texts,
    process_attachment,
    process_html,
)
from gxcrawl.extract.types import PortalHints
from gxcrawl.store import repository as repo


def extract_and_save(
    session: Session,
    *,
    snapshot_id: int,
    document_id: int,
    url: str,
    kind: str,
    portal_id: str | None,
    body: bytes,
    headers: dict[str, Any],
    link_title: str | None,
    standalone: bool,
    hints: PortalHints,
) -> str:
    """Returns what the snapshot turned out to be: report | not_a_report | attachment | skipped."""
    content_type = _header(headers, "content-type")
    if kind == "report":
        result, _ = process_html(body, url=url, content_type=content_type, hints=hints)
        if not result.is_report:
            return "not_a_report"
        files = repo.attachment_texts_of(session, document_id)
        merge_attachment_texts(result, [f.text for f in files])
        source = "html"
    elif kind == "attachment":
        att = process_attachment(
            body,
            url=url,
            content_type=content_type,
            link_title=link_title,
            hints=hints,
            standalone=standalone,
        )
        repo.save_attachment_text(
            session,
            snapshot_id=snapshot_id,
            file_kind=att.file_kind,
            text=att.text,
            flags=att.flags,
            parser_version=PARSER_VERSION,
        )
        if not standalone:
            _refresh_stub_parent(session, document_id, hints)
        if att.report is None or not att.report.is_report:
            return "attachment"
        result, source = att.report, "attachment"
    else:
        return "skipped"
    fields = result.to_json_dict()
    repo.save_parsed_report(
        session,
        snapshot_id=snapshot_id,
        document_id=document_id,
        url=url,
        portal_id=portal_id,
        fields=fields,
        facts=fields["tables"],
        findings=fields["findings"],
        source_kind=source,
        parser_version=PARSER_VERSION,
    )
    return "report"


def _header(headers: dict[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return str(value)
    return None


def hints_from_row(row: Any) -> PortalHints:
    """PortalHints from a stored `portals` row: the same hints the crawl had (Portal.hints())."""
    return PortalHints(
        portal_id=row.id,
        agency=row.name,
        region_code=row.region_code,
        platform=row.platform,
        content_selector=(row.selectors or {}).get("content"),
    )


def _refresh_stub_parent(session: Session, attachment_document_id: int, hints: PortalHints) -> None:
    """A file of a stub report page arrived after the page: re-parse the page with it."""
    parent = repo.parent_report_snapshot(session, attachment_document_id)
    if parent is None or parent.text_length >= STUB_CHARS:
        return
    snap = repo.snapshot_by_id(session, parent.snapshot_id)
    if snap is None:
        return
    extract_and_save(
        session,
        snapshot_id=snap.snapshot_id,
        document_id=snap.document_id,
        url=snap.url,
        kind="report",
        portal_id=snap.portal_id,
        body=snap.body,
        headers=snap.headers,
        link_title=snap.link_title,
        standalone=False,
        hints=hints,
    )


def stored_hints(session: Session, portal_id: str | None) -> PortalHints:
    """The hints a stored page was crawled with (its portal's row), as the pipeline passed them."""
    row = repo.stored_portals(session).get(portal_id or "")
    return hints_from_row(row) if row is not None else PortalHints(portal_id=portal_id)
