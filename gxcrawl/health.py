"""Health of a crawl run: checks with teeth for unattended runs (cron, systemd, Scrapyd).

A run is unhealthy when

- `zero_reports`: a portal yields no report where its last healthy run had some;
- `start_url`: a start URL failed (404/410, DNS, connection, timeout, a block page) or was
  never fetched (robots.txt, offsite);
- `blocked_share` / `error_share`: blocked pages or fetch errors exceed a share of the fetches;
- `parse_errors`: extraction raised on some page (its raw copy is kept; `scrapy reparse`);
- `write_errors`: a fetched page could not be stored at all (the database refused it).

`assess(stats, portals, thresholds)` is pure; `collect()` reads the history from the store; the
Spidermon suite in `gxcrawl/monitors.py` runs both when the engine stops, marks the run
`unhealthy` with one line per reason, and records the process exit code:

| code | meaning |
| --- | --- |
| 0 | healthy (or no verdict: interrupted runs are not judged) |
| 1 | unhealthy: at least one check failed; the reasons are printed and stored with the run |
| 2 | operator error: bad arguments, URL, registry entry, unknown platform or portal |
| 3 | the database could not be reached to judge or record the run |
| 4 | the stats file (GXCRAWL_STATS_FILE) could not be written |
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from gxcrawl import config
from gxcrawl.store import health as store_health
from gxcrawl.store.db import Database, StoreUnavailable
from gxcrawl.store.workers import RUN_KEY_STAT

__all__ = [
    "EXIT_DATABASE",
    "EXIT_HEALTHY",
    "EXIT_STATS_FILE",
    "EXIT_UNHEALTHY",
    "EXIT_USAGE",
    "WRITE_ERRORS_STAT",
    "PortalFacts",
    "Reason",
    "StatsFileError",
    "Thresholds",
    "assess",
    "collect",
    "exit_code",
    "judge",
    "note_exit_code",
    "process_exit_code",
    "record",
    "write_stats_file",
]

# Items the store refused (a database error that retrying did not clear): counted by the
# pipeline; nothing of the page is stored, so the next run fetches it again.
WRITE_ERRORS_STAT = "gxcrawl/write_errors"
EXIT_HEALTHY = 0
EXIT_UNHEALTHY = 1
EXIT_USAGE = 2  # what Scrapy's UsageError already exits with
EXIT_DATABASE = 3
EXIT_STATS_FILE = 4
STATUS_KEY = "gxcrawl/health/status"
REASONS_KEY = store_health.REASONS_KEY
# Fetch outcomes of a start URL that mean the column could not be read.
FAILED_START = frozenset({"gone", "error", "blocked", "soft_404"})
# Close reasons that are judged; Ctrl-C ('shutdown') and failures are reported as such instead.
JUDGED_CLOSE_REASONS = ("finished", "closespider")


@dataclass(frozen=True)
class Thresholds:
    """The limits of the share checks; defaults and reasons in gxcrawl/config.py."""

    max_blocked_share: float = config.DEFAULT_HEALTH_MAX_BLOCKED_SHARE
    max_error_share: float = config.DEFAULT_HEALTH_MAX_ERROR_SHARE
    max_parse_errors: int = config.DEFAULT_HEALTH_MAX_PARSE_ERRORS
    min_fetches: int = config.DEFAULT_HEALTH_MIN_FETCHES

    @classmethod
    def from_settings(cls, settings: Any) -> Thresholds:
        """The GXCRAWL_HEALTH_* settings, read through the one typed CrawlConfig."""
        conf = config.CrawlConfig.from_settings(settings)
        return cls(
            max_blocked_share=conf.health_max_blocked_share,
            max_error_share=conf.health_max_error_share,
            max_parse_errors=conf.health_max_parse_errors,
            min_fetches=conf.health_min_fetches,
        )


@dataclass(frozen=True)
class Reason:
    # zero_reports | start_url | blocked_share | error_share | parse_errors | write_errors |
    # list_trap | database
    check: str
    message: str
    portal: str | None = None

    def line(self) -> str:
        where = f" [{self.portal}]" if self.portal else ""
        return f"{self.check}{where}: {self.message}"


@dataclass(frozen=True)
class PortalFacts:
    portal_id: str
    reports_now: int | None  # None: this run cannot tell (reports skipped as not due)
    last_healthy_run: int | None = None
    last_healthy_reports: int = 0
    starts: tuple[store_health.StartFetch, ...] = field(default_factory=tuple)


# --- the checks (pure) ---------------------------------------------------------------------


def _zero_reports(facts: PortalFacts) -> list[Reason]:
    if facts.reports_now != 0 or facts.last_healthy_run is None or facts.last_healthy_reports <= 0:
        return []
    return [
        Reason(
            "zero_reports",
            f"0 reports found; the last healthy run #{facts.last_healthy_run} "
            f"found {facts.last_healthy_reports}",
            facts.portal_id,
        )
    ]


def _start_failures(facts: PortalFacts, robots_forbade: bool) -> list[Reason]:
    reasons = []
    for start in facts.starts:
        if start.outcome is None and robots_forbade:
            what = "never fetched (robots.txt disallows it)"
        elif start.outcome is None:
            what = "never fetched (robots.txt, offsite, or the run was cut short)"
        elif start.outcome in FAILED_START:
            detail = start.reason or (f"HTTP {start.status}" if start.status else start.outcome)
            what = f"{start.outcome} ({detail})"
        else:
            continue
        reasons.append(Reason("start_url", f"{start.url} {what}", facts.portal_id))
    return reasons


def _fetches(stats: Mapping[str, Any]) -> int:
    return sum(v for k, v in stats.items() if k.startswith("gxcrawl/outcome/") and _is_int(v))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _share(stats: Mapping[str, Any], outcome: str, limit: float, minimum: int) -> list[Reason]:
    total = _fetches(stats)
    count = stats.get(f"gxcrawl/outcome/{outcome}", 0)
    if total < minimum or not _is_int(count) or count / total <= limit:
        return []
    return [
        Reason(
            f"{outcome}_share",
            f"{count} of {total} fetches {outcome} ({count / total:.0%} > {limit:.0%})",
        )
    ]


def assess(
    stats: Mapping[str, Any], portals: Sequence[PortalFacts], thresholds: Thresholds
) -> list[Reason]:
    """Every failed check of one run, in a stable order (portal checks first)."""
    reasons: list[Reason] = []
    robots_forbade = bool(stats.get("robotstxt/forbidden"))
    for facts in portals:
        reasons += _start_failures(facts, robots_forbade) + _zero_reports(facts)
    minimum = thresholds.min_fetches
    reasons += _share(stats, "blocked", thresholds.max_blocked_share, minimum)
    reasons += _share(stats, "error", thresholds.max_error_share, minimum)
    parse_errors = stats.get("gxcrawl/parse_errors", 0)
    if _is_int(parse_errors) and parse_errors > thresholds.max_parse_errors:
        reasons.append(
            Reason("parse_errors", f"{parse_errors} pages could not be parsed (scrapy reparse)")
        )
    write_errors = stats.get(WRITE_ERRORS_STAT, 0)
    if _is_int(write_errors) and write_errors > 0:
        reasons.append(
            Reason(
                "write_errors",
                f"{write_errors} fetched pages could not be stored (database errors in the log; "
                "the next run fetches them again)",
            )
        )
    return reasons + _list_traps(stats)


def _list_traps(stats: Mapping[str, Any]) -> list[Reason]:
    """A column or portal that reached its list-page bound: a pagination trap (or a bound set
    too low for a real column); either way an operator should look."""
    traps = stats.get("gxcrawl/list_traps", 0)
    if not _is_int(traps) or traps <= 0:
        return []
    return [
        Reason(
            "list_trap",
            f"{traps} list trap(s): a column or portal reached GXCRAWL_MAX_LIST_PAGES / "
            "GXCRAWL_MAX_PORTAL_LIST_PAGES distinct list pages; further pages not followed",
        )
    ]


def exit_code(reasons: Sequence[Reason]) -> int:
    if any(r.check == "database" for r in reasons):
        return EXIT_DATABASE
    return EXIT_UNHEALTHY if reasons else EXIT_HEALTHY


class _ProcessOutcome:
    """The worst exit code judged in this process; the crawl command exits with it."""

    code = EXIT_HEALTHY


def note_exit_code(code: int) -> None:
    _ProcessOutcome.code = max(_ProcessOutcome.code, code)


def process_exit_code() -> int:
    return _ProcessOutcome.code


# --- reading the history -------------------------------------------------------------------


def _reports_now(stats: Mapping[str, Any], counted: int | None, portal_id: str) -> int | None:
    """This run's reports of a portal: the spider's per-portal stat, else the store's count
    when nothing was skipped as not due (otherwise a quiet incremental run would look empty)."""
    if stats.get(RUN_KEY_STAT):
        return None  # one worker of a scaled-out pool sees only its share of the links
    seen = stats.get(store_health.REPORTS_SEEN_PREFIX + portal_id)
    if isinstance(seen, int) and not isinstance(seen, bool):
        return seen
    return counted if not stats.get(store_health.NOT_DUE_KEY) else None


def collect(
    db: Database, run_id: int, portals: Mapping[str, Sequence[str]], stats: Mapping[str, Any]
) -> list[PortalFacts]:
    """Per portal (id → start URLs): this run's start fetches and reports, and its history."""
    facts = []
    with db.transaction() as session:
        for portal_id, starts in portals.items():
            counted = store_health.reports_of_run(session, portal_id, run_id)
            past = store_health.last_healthy_run(session, portal_id, before_run_id=run_id)
            facts.append(
                PortalFacts(
                    portal_id,
                    _reports_now(stats, counted, portal_id),
                    past.run_id if past else None,
                    past.reports if past else 0,
                    tuple(store_health.start_fetches(session, run_id, starts)),
                )
            )
    return facts


def judge(
    database_url: str | None,
    run_id: int | None,
    portals: Mapping[str, Sequence[str]],
    stats: Mapping[str, Any],
    thresholds: Thresholds,
) -> list[Reason]:
    """assess() with the history read from the store; an unreachable store is a reason."""
    facts: list[PortalFacts] = []
    if database_url and run_id is not None:
        try:
            db = Database(database_url, migrate=False)
        except StoreUnavailable as exc:
            return [Reason("database", str(exc))]
        try:
            facts = collect(db, run_id, portals, stats)
        except SQLAlchemyError as exc:  # a driver error mid-read: say it in one line
            return [Reason("database", f"cannot read the run history: {type(exc).__name__}")]
        finally:
            db.close()
    return assess(stats, facts, thresholds)


def record(database_url: str | None, run_id: int | None, reasons: Sequence[Reason]) -> None:
    """Mark the run unhealthy with its reasons (StoreUnavailable when the store is gone)."""
    if not database_url or run_id is None or not reasons:
        return
    db = Database(database_url, migrate=False)
    try:
        with db.transaction() as session:
            store_health.mark_unhealthy(session, run_id, [r.line() for r in reasons])
    finally:
        db.close()


# --- the stats file ------------------------------------------------------------------------


class StatsFileError(OSError):
    """The stats file could not be written; the message names the path and the cause."""


def write_stats_file(path: str | Path, stats: Mapping[str, Any]) -> None:
    """Write stats as JSON atomically (a temporary file beside it, then a rename), so a cron
    check never reads half a file, and a failed write never leaves the previous run's stats
    looking current: the old file is removed when the new one cannot be written."""
    target = Path(path)
    text = json.dumps(dict(stats), ensure_ascii=False, indent=1, default=str)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except OSError as exc:
        for leftover in (tmp, target):  # neither half a file nor the previous run's stats
            _remove(leftover)
        cause = exc.strerror or exc
        raise StatsFileError(f"cannot write the stats file {target}: {cause}") from None


def _remove(path: str | Path | None) -> None:
    if path is None:
        return
    # an unwritable directory: nothing more can be done from here
    with contextlib.suppress(OSError):
        Path(path).unlink(missing_ok=True)
