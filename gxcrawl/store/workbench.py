"""Reads for the researcher's workbench: raw snapshots for the WARC export, the agency × year
grid for coverage, and the extra exported views (quality, findings, edits)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gxcrawl.store.models import Body, Document, PortalRow, Snapshot

RAW_BATCH = 200  # snapshots held in memory at once while streaming bodies out


@dataclass(frozen=True)
class RawSnapshot:
    snapshot_id: int
    url: str  # the document's canonical URL
    requested_url: str
    final_url: str
    method: str
    status: int
    headers: dict[str, Any]
    body: bytes
    body_sha256: str
    fetched_at: dt.datetime
    kind: str  # list | report | attachment | other
    version: int
    disposition: str


def iter_raw_snapshots(
    session: Session, *, portal: str | None = None, kinds: tuple[str, ...] | None = None
) -> Iterator[RawSnapshot]:
    """Every stored response (every version of every document), oldest first, streamed."""
    query = (
        select(Snapshot, Document.url, Document.kind, Body.data)
        .join(Document, Document.id == Snapshot.document_id)
        .join(Body, Body.sha256 == Snapshot.body_sha256)
        .order_by(Snapshot.id)
    )
    if portal:
        query = query.where(Document.portal_id == portal)
    if kinds:
        query = query.where(Document.kind.in_(kinds))
    for snap, url, kind, data in session.execute(query.execution_options(yield_per=RAW_BATCH)):
        yield RawSnapshot(
            snapshot_id=snap.id, url=url, requested_url=snap.requested_url,
            final_url=snap.final_url, method=snap.method, status=snap.status,
            headers=dict(snap.headers or {}), body=data, body_sha256=snap.body_sha256,
            fetched_at=snap.fetched_at, kind=kind, version=snap.version,
            disposition=snap.disposition,
        )  # fmt: skip


@dataclass(frozen=True)
class CoverageReport:
    agency: str
    year: int
    portal_id: str | None
    province: str | None
    url: str
    publish_date: str | None
    days_late: int | None


def coverage_reports(
    session: Session, *, portal: str | None = None, province: str | None = None
) -> list[CoverageReport]:
    """The reports of known agency and year (from report_quality), with their portal's
    province; filtered by portal id and/or province name."""
    provinces = {row.id: row.province for row in session.scalars(select(PortalRow))}
    rows = session.execute(
        text(
            "SELECT agency, year, portal_id, url, publish_date, days_late FROM report_quality "
            "WHERE agency IS NOT NULL AND year IS NOT NULL ORDER BY agency, year"
        )
    ).mappings()
    out = []
    for row in rows:
        prov = provinces.get(row["portal_id"] or "")
        if portal and row["portal_id"] != portal:
            continue
        if province and (prov or "") != province:
            continue
        date = row["publish_date"]
        out.append(
            CoverageReport(
                agency=row["agency"], year=int(row["year"]), portal_id=row["portal_id"],
                province=prov, url=row["url"],
                publish_date=None if date is None else str(date)[:10],
                days_late=None if row["days_late"] is None else int(row["days_late"]),
            )
        )  # fmt: skip
    return out


# Extra researcher views for `scrapy export`, as SELECTs over the migrated views and tables.
WORKBENCH_QUERIES: dict[str, str] = {
    "report_quality": "SELECT * FROM report_quality ORDER BY report_id",
    "report_findings": (
        "SELECT r.report_id, r.url, r.portal_id, r.agency, r.year, f.rule, f.table_key, "
        "f.row_key, f.column_key, f.expected, f.actual, f.detail "
        "FROM reports r JOIN report_findings f ON f.parsed_report_id = r.report_id "
        "ORDER BY r.report_id, f.id"
    ),
    "report_edits": "SELECT * FROM report_edits ORDER BY change_id",
}


def iter_workbench_view(session: Session, view: str) -> Iterator[dict[str, Any]]:
    if view not in WORKBENCH_QUERIES:
        raise ValueError(f"unknown workbench view {view!r}")
    result = session.execute(text(WORKBENCH_QUERIES[view]).execution_options(yield_per=1000))
    for row in result.mappings():
        yield dict(row)


def workbench_view_columns(session: Session, view: str) -> list[str]:
    if view not in WORKBENCH_QUERIES:
        raise ValueError(f"unknown workbench view {view!r}")
    query = f"SELECT * FROM ({WORKBENCH_QUERIES[view]}) AS v WHERE 1 = 0"
    return list(session.execute(text(query)).keys())
