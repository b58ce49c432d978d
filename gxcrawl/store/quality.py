"""Quality measures in the store: `refresh_quality_scores` rebuilds `report_quality_scores` from
the `reports` view (one row per agency × year) with the pure measures of
`gxcrawl.extract.quality`; the `report_quality` view (migration 0004) joins them to `reports`.

Call it at the end of a crawl and of `scrapy reparse`; `scrapy quality` runs it by hand.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, text
from sqlalchemy.orm import Session

from gxcrawl.extract import quality as q
from gxcrawl.store.models import ReportFact, utcnow
from gxcrawl.store.quality_models import QualityScore

# Read and written as Core tables: tens of thousands of plain rows, no ORM objects needed.
_FACTS = cast(Table, ReportFact.__table__)
_SCORES = cast(Table, QualityScore.__table__)

# The application-table rows compared across years (table_keys.APPLICATION_ROWS).
CARRIED_OVER = "carried_over"  # 二、上年结转 (this year)
CARRY_FORWARD = "carry_forward"  # 四、结转下年度 (last year)


@dataclass(frozen=True)
class ScoredReport:
    """A report as the refresh keeps it: its text is read, measured and dropped (a store's
    texts together would make the crawl's memory grow with the store)."""

    report_id: int
    url: str
    agency_key: str | None  # agency_id when the store has agency entities, else the name
    year: int | None
    reporter_type: str
    publish_date: dt.date | None
    sections_missing: list[str] | None
    text_sha256: str
    n_shingles: int
    minhash: bytes | None  # the stored signature (None: too little prose)


@dataclass(frozen=True)
class RefreshSummary:
    reports: int
    late: int
    incomplete: int
    near_copies: int  # reports whose nearest other report is at or above NEAR_COPY
    signatures_reused: int


SECTION_SEPARATOR = ","  # sections_missing is "五,六": readable in Datasette, split on export
NEAR_COPY = 0.9  # the published evaluations' "copied" reports repeat 90% or more


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _flags(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):  # SQLite hands JSON columns of a view back as text
        value = json.loads(value or "[]")
    return tuple(str(f) for f in value or ())


# The columns of the `reports` view read here (agency_id and agency_type only exist after the
# agencies migration): the view has many more, the report text among them.
_REPORT_COLUMNS = (
    "report_id", "url", "agency", "agency_id", "agency_type", "year", "publish_date", "text",
    "flags",
)  # fmt: skip


def _report_rows(session: Session) -> Iterator[Any]:
    present = set(session.execute(text("SELECT * FROM reports LIMIT 0")).keys())
    columns = ", ".join(c for c in _REPORT_COLUMNS if c in present)
    yield from session.execute(text(f"SELECT {columns} FROM reports ORDER BY report_id")).mappings()


class _Signer:
    """MinHash signatures of report texts, reusing the stored ones of unchanged texts."""

    def __init__(self, session: Session) -> None:
        self.cached = {
            sha: (n, sig)
            for sha, n, sig in session.execute(
                select(QualityScore.text_sha256, QualityScore.n_shingles, QualityScore.minhash)
            )
        }
        self.memo: dict[str, bytes] = {}  # n-gram hashes shared across reports
        self.reused = 0

    def sign(self, body: str) -> tuple[str, int, bytes | None]:
        """(text hash, n-gram count, signature bytes or None for too little prose)."""
        keyed = f"{q.SIMILARITY_VERSION}\n{body}"  # a new algorithm never reuses old ones
        sha = hashlib.sha256(keyed.encode("utf-8")).hexdigest()
        if sha in self.cached:
            self.reused += 1
            return sha, *self.cached[sha]
        grams = q.shingles(body)
        n = len(grams)
        if n < q.MIN_SHINGLES:
            return sha, n, None
        return sha, n, q.signature_bytes(q.signature(grams, self.memo))


def _reports(session: Session, signer: _Signer) -> Iterator[tuple[ScoredReport, Any]]:
    """Each report of the `reports` view with its signature, read one at a time."""
    for row in _report_rows(session):
        # After the agencies migration the view carries the entity and its type: prefer them.
        agency_key = row.get("agency_id") or row.get("agency")
        kind = row.get("agency_type")
        body = row.get("text") or ""
        sha, n, signature = signer.sign(body)
        report = ScoredReport(
            report_id=int(row["report_id"]),
            url=str(row["url"]),
            agency_key=None if agency_key is None else str(agency_key),
            year=row.get("year"),
            reporter_type=kind if kind in q.REPORTER_TYPES else q.classify_reporter(row["agency"]),
            publish_date=_date(row.get("publish_date")),
            sections_missing=q.sections_missing_if_known(body, _flags(row.get("flags"))),
            text_sha256=sha,
            n_shingles=n,
            minhash=signature,
        )
        yield report, None if report.minhash is None else q.signature_view(report.minhash)


def _carry_rows(
    session: Session, report_ids: set[int]
) -> dict[tuple[int, str], dict[str, float | None]]:
    """(report_id, row_key) → {column_key: value} for the two carry rows of every report.
    Read from `facts` itself, not the `report_facts` view: the view recomputes `reports`."""
    facts = _FACTS.c
    rows = session.connection().execute(
        select(facts.parsed_report_id, facts.row_key, facts.column_key, facts.value).where(
            facts.table_key == "applications", facts.row_key.in_((CARRIED_OVER, CARRY_FORWARD))
        )
    )
    out: dict[tuple[int, str], dict[str, float | None]] = {}
    for report_id, row_key, column_key, value in rows:
        if report_id not in report_ids:  # a version the `reports` view does not show
            continue
        out.setdefault((int(report_id), row_key), {})[column_key] = (
            None if value is None else float(value)
        )
    return out


def _carry_forward(
    reports: list[ScoredReport], carry: dict[tuple[int, str], dict[str, float | None]]
) -> dict[int, bool | None]:
    by_agency_year = {(r.agency_key, r.year): r.report_id for r in reports if r.agency_key}
    out: dict[int, bool | None] = {}
    for r in reports:
        last = by_agency_year.get((r.agency_key, (r.year or 0) - 1)) if r.agency_key else None
        if last is None or r.year is None:
            out[r.report_id] = None
            continue
        out[r.report_id] = q.carry_forward_ok(
            carry.get((last, CARRY_FORWARD), {}), carry.get((r.report_id, CARRIED_OVER), {})
        )
    return out


def refresh_quality_scores(session: Session) -> RefreshSummary:
    """Recompute every report's quality measures and replace `report_quality_scores`."""
    signer = _Signer(session)
    reports: list[ScoredReport] = []
    signatures: dict[int, Any] = {}
    for report, minhash in _reports(session, signer):
        reports.append(report)
        signatures[report.report_id] = minhash
    carry = _carry_forward(reports, _carry_rows(session, {r.report_id for r in reports}))
    owners = {r.report_id: q.Owner(r.agency_key, r.year) for r in reports}
    nearest = q.nearest_reports(signatures, owners)
    urls = {r.report_id: r.url for r in reports}
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for r in reports:
        due = q.deadline(r.year, r.reporter_type)
        missing = r.sections_missing
        near = nearest.get(r.report_id)
        rows.append(
            {
                "report_id": r.report_id,
                "reporter_type": r.reporter_type,
                "deadline": due,
                "days_late": q.days_late(r.publish_date, due),
                "sections_missing": None if missing is None else SECTION_SEPARATOR.join(missing),
                "n_sections_missing": None if missing is None else len(missing),
                "similar_report_id": near.other if near else None,
                "similar_url": urls[near.other] if near else None,
                "similarity": near.similarity if near else None,
                "n_shingles": r.n_shingles,
                "carry_forward_ok": carry[r.report_id],
                "text_sha256": r.text_sha256,
                "minhash": r.minhash,
                "computed_at": now,
            }
        )
    session.execute(delete(QualityScore))
    if rows:
        session.connection().execute(insert(_SCORES), rows)
    return RefreshSummary(
        reports=len(rows),
        late=sum(1 for row in rows if (row["days_late"] or 0) > 0),
        incomplete=sum(1 for row in rows if row["n_sections_missing"]),
        near_copies=sum(1 for row in rows if (row["similarity"] or 0) >= NEAR_COPY),
        signatures_reused=signer.reused,
    )
