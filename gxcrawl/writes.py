"""Whole-item writes: a crawl's PageItems into the store, several per transaction.

One item is its raw response, its snapshot, its change record and (for a new version of a report
page or file) its parsed report: all in the transaction that holds it, so a crawl killed at any
moment (even `kill -9`) loses no half-item. `ItemWriter` is used by the storage pipeline when it
writes in the crawl's own process and by the store writer process (gxcrawl/writer_process.py);
the stats an item earns are returned, and counted by the caller once its transaction committed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from gxcrawl.extract.process import Extraction
from gxcrawl.extract.types import PortalHints
from gxcrawl.ingest import SnapshotInput, extract_and_save, record_parse_failure
from gxcrawl.items import PageItem
from gxcrawl.store import repository as repo
from gxcrawl.store.db import Database
from gxcrawl.store.models import utcnow
from gxcrawl.vocab import DocumentKind, ParseOutcome, outcome_stat

log = logging.getLogger(__name__)

# Tries of one transaction that the database rolled back (deadlock, busy): concurrent workers
# deadlock now and then; a retry of the same whole items then goes through.
WRITE_ATTEMPTS = 3
EXTRACTED_KINDS = (DocumentKind.REPORT, DocumentKind.ATTACHMENT)


@dataclass
class WriteJob:
    """One item to write, with what the write needs besides the item (all picklable)."""

    item: PageItem
    hints: PortalHints
    run_id: int | None
    extraction: Extraction | None = None  # extracted ahead (elsewhere), or None: extract here
    # Worth extracting ahead: a report page or file whose body differs from the stored one.
    ahead: bool = False


@dataclass
class Written:
    """What writing one item gave: the stats it earned, or the error that stopped it."""

    stats: list[str] = field(default_factory=list)
    error: str | None = None


class ItemWriter:
    """Writes WriteJobs whole, a batch per transaction; a failing batch is retried (the database
    rolled it back) and then written item by item, so one bad item never takes others with it."""

    def __init__(
        self,
        db: Database,
        recheck_after: dt.timedelta | None,
        before_commit: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.recheck_after = recheck_after
        self._before_commit = before_commit

    def write(self, jobs: list[WriteJob]) -> list[Written]:
        """Write `jobs` in order; one Written per job, in the same order."""
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                out = self._transaction(jobs)
            except OperationalError as exc:
                if attempt == WRITE_ATTEMPTS:
                    return self._one_by_one(jobs, exc)
                continue  # rolled back whole: writing the same items again is safe
            except Exception as exc:
                return self._one_by_one(jobs, exc)
            out[0].stats.extend(["gxcrawl/write_retries"] * (attempt - 1))
            return out
        raise AssertionError("unreachable")

    def _one_by_one(self, jobs: list[WriteJob], exc: Exception) -> list[Written]:
        if len(jobs) == 1:
            return [Written(error=f"{type(exc).__name__}: {exc}")]
        out: list[Written] = []
        for job in jobs:
            out.extend(self.write([job]))
        return out

    def _transaction(self, jobs: list[WriteJob]) -> list[Written]:
        with self.db.transaction() as session:
            out = [self._store_item(session, job) for job in jobs]
            out[0].stats.append("gxcrawl/write_transactions")
            if self._before_commit is not None:
                self._before_commit()
        return out

    def _store_item(self, session: Session, job: WriteJob) -> Written:
        item, written = job.item, Written()
        # List pages are revisited every run; reports and files only when due.
        recheck = None if item.kind == DocumentKind.LIST else self.recheck_after
        stored = repo.record_fetch(
            session, fetch_record(item), run_id=job.run_id, recheck_after=recheck
        )
        written.stats.append(outcome_stat(stored.outcome))
        if stored.change:
            written.stats.append(f"gxcrawl/change/{stored.change}")
        if stored.is_new_version and item.body is not None and item.kind != DocumentKind.LIST:
            snap = _snapshot(job, stored)
            written.stats.extend(_extract(session, snap, job.hints, job.extraction))
        return written


def _snapshot(job: WriteJob, stored: repo.StoredFetch) -> SnapshotInput:
    item = job.item
    assert item.body is not None and stored.snapshot_id is not None
    return SnapshotInput(
        stored.snapshot_id, stored.document_id, item.url, item.kind, item.portal_id,
        item.body, item.headers, item.link_title, standalone=item.parent_url is None,
        run_id=job.run_id, fresh=True,  # a new version: record_fetch just made it
        childless=stored.new_document,  # no file can link to a document made just now
    )  # fmt: skip


def _extract(
    session: Session, snap: SnapshotInput, hints: PortalHints, ahead: Extraction | None
) -> list[str]:
    try:
        with session.begin_nested():  # a parser bug must not lose the raw page
            what = extract_and_save(session, snap, hints, ahead)
    except DBAPIError:
        raise  # the database's trouble, not the page's: the whole write is retried
    except Exception as exc:
        log.exception("extraction failed for %s; raw snapshot kept", snap.url)
        record_parse_failure(session, snap, exc)
        return ["gxcrawl/parse_errors"]
    stats = [f"gxcrawl/parsed/{what}"]
    if what == ParseOutcome.REPORT:
        stats.append("gxcrawl/reports_stored")
    elif what == ParseOutcome.NOT_A_REPORT:
        log.info("not a report after all: %s", snap.url)
    return stats


def needs_extraction(item: PageItem) -> bool:
    """Whether writing `item` may need its extraction (a report page or file with a body)."""
    return item.kind in EXTRACTED_KINDS and bool(item.body)


def fetch_record(item: PageItem) -> repo.FetchRecord:
    """A spider's PageItem as the store's input."""
    return repo.FetchRecord(
        url=item.url,
        kind=item.kind,
        method=item.method,
        requested_url=item.requested_url,
        final_url=item.final_url,
        status=item.status,
        headers=item.headers,
        body=item.body,
        encoding=item.encoding,
        fetched_at=item.fetched_at or utcnow(),
        portal_id=item.portal_id,
        link_title=item.link_title,
        parent_url=item.parent_url,
        disposition=item.disposition,
        reason=item.reason,
        conditional=item.conditional,
        body_size=len(item.body or b""),
    )
