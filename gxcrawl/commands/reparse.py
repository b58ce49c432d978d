"""`scrapy reparse`: rebuild parsed rows from stored raw snapshots, with no network."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections import Counter
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from tqdm import tqdm

from gxcrawl.commands import open_database, quiet_broken_pipe
from gxcrawl.extract.process import PARSER_VERSION
from gxcrawl.extract.types import PortalHints
from gxcrawl.ingest import SnapshotInput, extract_and_save, hints_from_row, record_parse_failure
from gxcrawl.store import repository as repo
from gxcrawl.store.db import Database
from gxcrawl.store.quality import refresh_quality_scores
from gxcrawl.vocab import ParseOutcome

log = logging.getLogger(__name__)


class Command(ScrapyCommand):
    requires_project = False
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "[--since YYYY-MM-DD] [--portal ID]"

    def short_desc(self) -> str:
        return "Rebuild parsed reports from stored raw snapshots (offline)"

    def long_desc(self) -> str:
        return (
            "Re-runs extraction on every stored content snapshot of report pages and attachments "
            f"(optionally only those fetched since a date or of one portal) and replaces their "
            f"parsed rows, recording parser version {PARSER_VERSION}. No network is used."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--since", help="only snapshots fetched on or after this date")
        parser.add_argument("--portal", help="only this portal id")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    @quiet_broken_pipe
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        since = None
        if opts.since:
            try:
                since = dt.datetime.fromisoformat(opts.since)
            except ValueError:
                raise UsageError(f"--since {opts.since!r}: expected YYYY-MM-DD") from None
        db = open_database(self.settings)
        if opts.portal:
            with db.transaction() as session:
                known = repo.stored_portals(session)
            if opts.portal not in known:
                db.close()
                raise UsageError(
                    f"--portal {opts.portal}: no such portal in this database "
                    f"(known: {', '.join(sorted(known)) or 'none'})",
                    print_help=False,
                )
        counts = reparse(db, since=since, portal=opts.portal, progress=not opts.quiet)
        with db.transaction() as session:
            refresh_quality_scores(session)
        db.close()
        summary = ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "nothing"
        print(f"reparse (parser {PARSER_VERSION}): {summary}")
        if counts.get("failed"):
            self.exitcode = 1


def _reparse_one(db: Database, snap: SnapshotInput, hints: dict[str, PortalHints]) -> ParseOutcome:
    hint = hints.get(snap.portal_id or "") or PortalHints(portal_id=snap.portal_id)
    try:
        with db.transaction() as session:
            return extract_and_save(session, snap, hint)
    except Exception as exc:
        log.exception("reparse failed for snapshot %s (%s)", snap.snapshot_id, snap.url)
        with db.transaction() as session:
            record_parse_failure(session, snap, exc)
        return ParseOutcome.FAILED


def reparse(
    db: Database,
    *,
    since: dt.datetime | None = None,
    portal: str | None = None,
    progress: bool = False,
) -> Counter[str]:
    counts: Counter[str] = Counter()
    with db.transaction() as session:
        total = repo.count_content_snapshots(session, portal=portal, since=since)
        hints = {pid: hints_from_row(row) for pid, row in repo.stored_portals(session).items()}
    with db.sessions() as reader:  # a read cursor streams snapshots; each rebuild commits alone
        snapshots = repo.iter_content_snapshots(reader, portal=portal, since=since)
        bar = tqdm(snapshots, total=total, unit="snapshot", disable=not progress, file=sys.stderr)
        for snap in bar:
            counts[_reparse_one(db, SnapshotInput.of(snap), hints)] += 1
    return counts
