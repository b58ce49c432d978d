"""What the health checks read from the store: a portal's last healthy run and how many reports
it saw, how this run's start URLs answered, and marking a run `unhealthy` with its reasons.

Reasons live inside `crawl_runs.stats` under `REASONS_KEY` (no schema change); an unhealthy run
has `status = 'unhealthy'`, so "the last healthy run" is simply the last `finished` one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gxcrawl.store.models import CrawlRun, Document, Fetch, ParsedReport
from gxcrawl.store.workers import RUN_KEY_STAT, runs_of
from gxcrawl.urls import canonical_url
from gxcrawl.vocab import RunStatus

__all__ = [
    "REASONS_KEY",
    "REPORTS_SEEN_PREFIX",
    "PastRun",
    "StartFetch",
    "last_healthy_run",
    "mark_unhealthy",
    "reports_in_run",
    "reports_of_run",
    "run_reasons",
    "start_fetches",
]

REASONS_KEY = "gxcrawl/health/reasons"
# Per-portal stat the spider may keep (report links found, due or not); preferred when present.
REPORTS_SEEN_PREFIX = "gxcrawl/reports_seen/"
NOT_DUE_KEY = "gxcrawl/not_due"  # known reports skipped this run: fetch counts are partial
HEALTHY_STATUS = RunStatus.FINISHED.value
UNHEALTHY_STATUS = RunStatus.UNHEALTHY.value
# Outcomes that mean a report page was there in that run (a 304 still proves it).
_PRESENT = ("new", "changed", "unchanged")
_HISTORY_SCAN = 200  # runs looked back through for a portal's last healthy run


@dataclass(frozen=True)
class PastRun:
    run_id: int
    finished_at: dt.datetime | None
    reports: int


@dataclass(frozen=True)
class StartFetch:
    url: str
    outcome: str | None  # None: never fetched in this run (robots.txt, offsite, cancelled)
    status: int | None
    reason: str | None


def _portal_ids(run: CrawlRun) -> list[str]:
    return [p for p in (run.portals or "").split(",") if p]


def reports_in_run(session: Session, portal_id: str, run: CrawlRun) -> int | None:
    """Reports of a portal that run saw: its own per-portal stat when it kept one, else the
    report documents it fetched (304s included); None when that count says nothing because
    the run skipped known reports as not due."""
    stats = run.stats or {}
    seen = stats.get(REPORTS_SEEN_PREFIX + portal_id)
    if isinstance(seen, int) and not isinstance(seen, bool):
        return seen
    if stats.get(NOT_DUE_KEY):
        return None
    query = (
        select(func.count(func.distinct(Fetch.document_id)))
        .join(Document, Document.id == Fetch.document_id)
        .where(
            Fetch.run_id == run.id,
            Fetch.outcome.in_(_PRESENT),
            Document.portal_id == portal_id,
            select(ParsedReport.id).where(ParsedReport.document_id == Document.id).exists(),
        )
    )
    return int(session.scalar(query) or 0)


def reports_of_run(session: Session, portal_id: str, run_id: int) -> int | None:
    """reports_in_run() by run id (None for an unknown run)."""
    run = session.get(CrawlRun, run_id)
    return reports_in_run(session, portal_id, run) if run is not None else None


def last_healthy_run(
    session: Session, portal_id: str, *, before_run_id: int | None = None
) -> PastRun | None:
    """The most recent `finished` run (before `before_run_id`) that covered the portal and
    whose report count is known (quiet incremental runs are passed over)."""
    query = select(CrawlRun).where(
        CrawlRun.status == HEALTHY_STATUS, CrawlRun.portals.contains(portal_id)
    )
    if before_run_id is not None:
        query = query.where(CrawlRun.id < before_run_id)
    for run in session.scalars(query.order_by(CrawlRun.id.desc()).limit(_HISTORY_SCAN)):
        if portal_id not in _portal_ids(run):
            continue
        reports = reports_in_run(session, portal_id, run)
        if reports is not None:
            return PastRun(run.id, run.finished_at, reports)
    return None


def _resumed_runs(session: Session, run_id: int) -> list[int]:
    """The interrupted runs right before `run_id`: a JOBDIR resume continues them, and its
    duplicate filter skips the start URLs they already fetched."""
    ids = []
    earlier = select(CrawlRun.id, CrawlRun.status).where(CrawlRun.id < run_id)
    for rid, status in session.execute(earlier.order_by(CrawlRun.id.desc()).limit(_HISTORY_SCAN)):
        if status != RunStatus.INTERRUPTED:
            break
        ids.append(rid)
    return ids


def _linked_workers(session: Session, run_id: int) -> list[int]:
    """The other workers of a scaled-out run: the shared frontier fetches each start URL once,
    in whichever worker takes it (gxcrawl/scaleout.py)."""
    run = session.get(CrawlRun, run_id)
    key = (run.stats or {}).get(RUN_KEY_STAT) if run is not None else None
    return [r.id for r in runs_of(session, key) if r.id != run_id] if key else []


def start_fetches(session: Session, run_id: int, urls: Iterable[str]) -> list[StartFetch]:
    """How each start URL answered in this run (its last fetch row; for a resumed job, in the
    interrupted runs it continues), or None when not fetched."""
    runs = [run_id, *_resumed_runs(session, run_id), *_linked_workers(session, run_id)]
    out = []
    for url in urls:
        row = session.scalars(
            select(Fetch)
            .where(Fetch.run_id.in_(runs), Fetch.url == canonical_url(url))
            .order_by(Fetch.id.desc())
            .limit(1)
        ).first()
        if row is None:
            out.append(StartFetch(url, None, None, None))
        else:
            out.append(StartFetch(url, row.outcome, row.status, row.reason))
    return out


def mark_unhealthy(session: Session, run_id: int, reasons: list[str]) -> None:
    """Keep the reasons in the run's stats; a finished (or still running) run becomes
    `unhealthy`, an interrupted or failed one keeps its status."""
    run = session.get(CrawlRun, run_id)
    if run is None:
        return
    stats: dict[str, Any] = dict(run.stats or {})
    stats[REASONS_KEY] = list(reasons)
    run.stats = stats
    if run.status in (HEALTHY_STATUS, "running"):
        run.status = UNHEALTHY_STATUS


def run_reasons(stats: Mapping[str, Any] | None) -> list[str]:
    """The health reasons stored with a run (for `scrapy runs`)."""
    value = (stats or {}).get(REASONS_KEY)
    return [str(v) for v in value] if isinstance(value, list) else []
