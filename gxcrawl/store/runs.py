"""Crawl runs and the registry entries they used."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gxcrawl.store.models import (
    Change,
    CrawlRun,
    Fetch,
    PortalRow,
    utcnow,
)
from gxcrawl.vocab import RunStatus


def start_run(session: Session, spider: str, portals: Iterable[str]) -> int:
    _mark_dead_runs(session)
    run = CrawlRun(
        spider=spider,
        portals=",".join(portals) or None,
        host=socket.gethostname(),
        pid=os.getpid(),
        stats={},
    )
    session.add(run)
    session.flush()
    return run.id


def finish_run(
    session: Session, run_id: int, status: RunStatus, reason: str, stats: dict[str, Any]
) -> None:
    session.execute(
        update(CrawlRun)
        .where(CrawlRun.id == run_id)
        .values(status=status, close_reason=reason, finished_at=utcnow(), stats=stats)
    )


def _mark_dead_runs(session: Session) -> None:
    """Runs left 'running' by a process that no longer exists (kill -9) become 'interrupted'."""
    host = socket.gethostname()
    for run in session.scalars(
        select(CrawlRun).where(CrawlRun.status == RunStatus.RUNNING, CrawlRun.host == host)
    ):
        if run.pid is not None and not _pid_alive(run.pid):
            run.status = RunStatus.INTERRUPTED
            run.close_reason = "process vanished"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def upsert_portals(session: Session, portals: Iterable[dict[str, Any]]) -> None:
    """Keep the registry entries a crawl used (for offline reparse, extract and export).

    One INSERT … ON CONFLICT per entry, in id order: workers starting together on one database
    neither collide on the primary key nor deadlock."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    for entry in sorted(portals, key=lambda e: str(e["id"])):
        values = {**entry, "updated_at": utcnow()}
        ins = insert(PortalRow).values(**values)
        changed = {key: ins.excluded[key] for key in values if key != "id"}
        session.execute(ins.on_conflict_do_update(index_elements=["id"], set_=changed))
    session.flush()


def stored_portals(session: Session) -> dict[str, PortalRow]:
    return {row.id: row for row in session.scalars(select(PortalRow))}


@dataclass
class RunSummary:
    run: CrawlRun
    fetch_outcomes: dict[str, int]
    reports: list[tuple[str | None, int | None, str | None, str]]  # agency, year, title, url
    report_documents: int
    lookalikes: list[str]
    changes: dict[str, int]


def run_summary(session: Session, run_id: int | None = None) -> RunSummary | None:
    """What a crawl run did, and the reports the store now holds (the `reports` view)."""
    run = (
        session.get(CrawlRun, run_id)
        if run_id
        else session.scalar(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(1))
    )
    if run is None:
        return None
    outcomes = dict(
        session.execute(
            select(Fetch.outcome, func.count())
            .where(Fetch.run_id == run.id)
            .group_by(Fetch.outcome)
        ).all()
    )
    changes = dict(
        session.execute(
            select(Change.kind, func.count()).where(Change.run_id == run.id).group_by(Change.kind)
        ).all()
    )
    reports = [
        (r.agency, r.year, r.title, r.url)
        for r in session.execute(
            text("SELECT agency, year, title, url FROM reports ORDER BY year, agency, url")
        )
    ]
    lookalikes = list((run.stats or {}).get("gxcrawl/lookalikes") or [])
    documents = session.execute(text("SELECT COUNT(*) FROM report_documents")).scalar() or 0
    return RunSummary(run, outcomes, reports, documents, lookalikes, changes)


def recent_runs(session: Session, limit: int = 20) -> list[CrawlRun]:
    return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)))
