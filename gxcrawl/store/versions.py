"""Reading parsed versions of one report document back (`scrapy diff`, the edits export)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gxcrawl.extract.versions import COMPARED_FIELDS, CellKey
from gxcrawl.store.models import Document, ParsedReport, ReportFact, Snapshot


@dataclass(frozen=True)
class ParsedVersion:
    version: int
    snapshot_id: int
    fetched_at: dt.datetime
    fields: dict[str, Any]  # the compared metadata fields
    text: str
    cells: dict[CellKey, float | None]


def parsed_version_numbers(session: Session, url: str) -> list[int]:
    """The versions of the document at `url` that were parsed as a report, oldest first."""
    return list(
        session.scalars(
            select(Snapshot.version)
            .join(Document, Document.id == Snapshot.document_id)
            .join(ParsedReport, ParsedReport.snapshot_id == Snapshot.id)
            .where(Document.url == url)
            .order_by(Snapshot.version)
        )
    )


def parsed_version(session: Session, url: str, version: int) -> ParsedVersion | None:
    row = session.execute(
        select(ParsedReport, Snapshot)
        .join(Snapshot, Snapshot.id == ParsedReport.snapshot_id)
        .join(Document, Document.id == Snapshot.document_id)
        .where(Document.url == url, Snapshot.version == version)
    ).first()
    if row is None:
        return None
    parsed, snap = row
    cells = {
        (f.table_key, f.row_key, f.column_key): f.value
        for f in session.scalars(select(ReportFact).where(ReportFact.parsed_report_id == parsed.id))
    }
    return ParsedVersion(
        version=snap.version,
        snapshot_id=snap.id,
        fetched_at=snap.fetched_at,
        fields={name: getattr(parsed, name) for name in COMPARED_FIELDS},
        text=parsed.text or "",
        cells=cells,
    )
