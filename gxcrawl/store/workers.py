"""Crawl runs of a worker pool: each worker keeps its own `crawl_runs` row, linked to the others
by the shared run key (GXCRAWL_REDIS_URL scale-out, see gxcrawl/scaleout.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gxcrawl.store.models import CrawlRun

RUN_KEY_STAT = "gxcrawl/run_key"


def link_run(session: Session, run_id: int, run_key: str) -> None:
    """Record the run key on a worker's row at once, so even a worker killed mid-crawl is linked."""
    run = session.get(CrawlRun, run_id)
    if run is not None:
        run.stats = {**(run.stats or {}), RUN_KEY_STAT: run_key}


def runs_of(session: Session, run_key: str) -> list[CrawlRun]:
    """Every worker row of one scaled-out run, oldest first."""
    rows = session.scalars(select(CrawlRun).order_by(CrawlRun.id))
    return [r for r in rows if (r.stats or {}).get(RUN_KEY_STAT) == run_key]
