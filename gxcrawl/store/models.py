"""The schema: typed SQLAlchemy 2.0 models. Alembic migrations in `migrations/` own the DDL.

Shape of the data (raw first, parsed second, everything versioned):

- `crawl_runs`     one row per `scrapy crawl`: status and stats.
- `portals`        the registry entries crawls used (names, region codes, platform).
- `documents`      one row per canonical URL, with the per-URL crawl state (validators, content
                   hash, last fetched / changed, next check, live/gone).
- `bodies`         raw response bodies, deduplicated by SHA-256 (never stored twice).
- `snapshots`      versions of a document: a new row only when the content changed.
- `fetches`        the fetch log: every request's outcome, including 304s, blocks and errors.
- `changes`        classified changes of a document between versions (edited, gone, …).
- `parsed_reports` what extraction made of a report snapshot (one row per snapshot, rebuilt by
                   `scrapy reparse`).
- `agencies`       one row per agency entity: canonical name within a division, type, region
                   (province / prefecture / county codes and names); parsed reports point to it.
- `facts` / `report_findings`  the statistics tables as long-format facts and the failed
                   consistency checks of a parsed report.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names so migrations are the same on every backend.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    spider: Mapped[str] = mapped_column(String(64))
    portals: Mapped[str | None] = mapped_column(Text)  # comma-separated portal ids
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # running | finished | interrupted | failed
    status: Mapped[str] = mapped_column(String(16), default="running")
    close_reason: Mapped[str | None] = mapped_column(String(64))
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PortalRow(Base):
    """The registry entry a crawl used, kept so reparse and export work offline."""

    __tablename__ = "portals"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str | None] = mapped_column(String(32))
    province: Mapped[str | None] = mapped_column(String(32))
    region_code: Mapped[str | None] = mapped_column(String(6))
    homepage: Mapped[str | None] = mapped_column(String(2048))
    platform: Mapped[str | None] = mapped_column(String(32))
    confidence: Mapped[str | None] = mapped_column(String(16))
    selectors: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    portal_id: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # list | report | attachment | other
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    link_title: Mapped[str | None] = mapped_column(Text)
    first_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_fetched_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    next_check_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    # live | gone | redirected | blocked | error
    state: Mapped[str] = mapped_column(String(16), default="live")

    snapshots: Mapped[list[Snapshot]] = relationship(
        back_populates="document", order_by="Snapshot.version"
    )


class Body(Base):
    __tablename__ = "bodies"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Snapshot(Base):
    __tablename__ = "snapshots"
    __table_args__ = (UniqueConstraint("document_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    requested_url: Mapped[str] = mapped_column(String(2048))
    final_url: Mapped[str] = mapped_column(String(2048))
    method: Mapped[str] = mapped_column(String(8), default="GET")
    status: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    body_sha256: Mapped[str] = mapped_column(ForeignKey("bodies.sha256"), index=True)
    encoding: Mapped[str | None] = mapped_column(String(32))
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    # content | blocked | soft_404 | error_page
    disposition: Mapped[str] = mapped_column(String(16), default="content")

    document: Mapped[Document] = relationship(back_populates="snapshots")
    body: Mapped[Body] = relationship()


class Fetch(Base):
    """Every request's outcome. A log: many rows per URL, never updated."""

    __tablename__ = "fetches"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    method: Mapped[str] = mapped_column(String(8), default="GET")
    status: Mapped[int | None] = mapped_column(Integer)
    # new | changed | unchanged | gone | blocked | soft_404 | redirected | error
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    conditional: Mapped[bool] = mapped_column(Boolean, default=False)
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))


class Change(Base):
    __tablename__ = "changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    # new | edited | attachment_changed | redirected | gone | reappeared |
    # no_longer_report | parse_failed (a new version of a report that is none / did not parse)
    kind: Mapped[str] = mapped_column(String(24))
    from_snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))
    to_snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))
    detail: Mapped[str | None] = mapped_column(Text)
    detected_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Agency(Base):
    """An agency entity: every printed form of one body's name (市财政局 on a 宜春 portal,
    宜春市财政局) maps to one row; see `gxcrawl.extract.agencies`."""

    __tablename__ = "agencies"
    __table_args__ = (UniqueConstraint("name", "region_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))  # canonical name
    # government | government_office | department | township | other
    type: Mapped[str] = mapped_column(String(24))
    region_code: Mapped[str | None] = mapped_column(String(6))
    province_code: Mapped[str | None] = mapped_column(String(6))
    province_name: Mapped[str | None] = mapped_column(String(64))
    prefecture_code: Mapped[str | None] = mapped_column(String(6))
    prefecture_name: Mapped[str | None] = mapped_column(String(64))
    county_code: Mapped[str | None] = mapped_column(String(6))
    county_name: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ParsedReport(Base):
    __tablename__ = "parsed_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id"), unique=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    portal_id: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2048))
    title: Mapped[str | None] = mapped_column(Text)
    agency: Mapped[str | None] = mapped_column(Text)  # as printed
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    year: Mapped[int | None] = mapped_column(Integer)
    index_no: Mapped[str | None] = mapped_column(String(128))
    publisher: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)  # 来源
    written_date: Mapped[dt.date | None] = mapped_column(Date)
    publish_date: Mapped[dt.date | None] = mapped_column(Date)
    doc_no: Mapped[str | None] = mapped_column(String(255))
    disclosure_mode: Mapped[str | None] = mapped_column(String(64))
    validity: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(255))
    region_code: Mapped[str | None] = mapped_column(String(6))
    template: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    flags: Mapped[list[Any]] = mapped_column(default=list)
    removed: Mapped[list[Any]] = mapped_column(default=list)
    # html | attachment (the report exists only as a linked file)
    source_kind: Mapped[str] = mapped_column(String(16), default="html")
    parser_version: Mapped[str] = mapped_column(String(32))
    parsed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index(None, "agency", "year"),)


class AttachmentText(Base):
    """Text extracted from an attachment snapshot (PDF, DOCX, …)."""

    __tablename__ = "attachment_texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id"), unique=True)
    file_kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)  # the body as HTML with real <table>s
    flags: Mapped[list[Any]] = mapped_column(default=list)
    parser_version: Mapped[str] = mapped_column(String(32))


class ReportFact(Base):
    __tablename__ = "facts"
    __table_args__ = (UniqueConstraint("parsed_report_id", "table_key", "row_key", "column_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parsed_report_id: Mapped[int] = mapped_column(
        ForeignKey("parsed_reports.id", ondelete="CASCADE"), index=True
    )
    template: Mapped[str] = mapped_column(String(32))
    table_key: Mapped[str] = mapped_column(String(32))
    row_key: Mapped[str] = mapped_column(String(96))
    column_key: Mapped[str] = mapped_column(String(96))
    row_label: Mapped[str | None] = mapped_column(Text)
    column_label: Mapped[str | None] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(16))
    raw_text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="ok")  # ok | blank | unreadable


class ReportFinding(Base):
    __tablename__ = "report_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    parsed_report_id: Mapped[int] = mapped_column(
        ForeignKey("parsed_reports.id", ondelete="CASCADE"), index=True
    )
    rule: Mapped[str] = mapped_column(String(64))  # balance, outcomes, row_total, …
    table_key: Mapped[str | None] = mapped_column(String(32))
    row_key: Mapped[str | None] = mapped_column(String(96))
    column_key: Mapped[str | None] = mapped_column(String(96))
    expected: Mapped[float | None] = mapped_column(Float)
    actual: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str | None] = mapped_column(Text)
