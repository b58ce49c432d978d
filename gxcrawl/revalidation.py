"""Which known reports a run revalidates: a budgeted slice, least recently checked first.

Every report must be checked at least once per GXCRAWL_RECHECK_AFTER_DAYS (the window), but not
all on the same day: reports found together on a first crawl would otherwise all fall due
together, one burst every window. So each run revalidates

    budget = round(known × elapsed / window)

of a portal's known reports, where `elapsed` is the time since the portal's previous run
(capped at the window): a daily run with a 7-day window checks a seventh of them each day. The
slice is taken least recently checked first, so the whole set is walked once per window; reports
already past their window (`overdue`: after missed runs, or new ones the slice has not reached)
are always added, which keeps the guarantee when the budget rounds down. A run right after
another (seconds apart) has a budget of 0 and checks only the overdue ones.

Pure: counts and times in, the chosen URLs out. The store reads the candidates
(`gxcrawl/store/revalidation.py`); the spider schedules them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Candidate", "Slice", "budget", "choose", "entry_changed"]


@dataclass(frozen=True)
class Candidate:
    url: str
    last_checked: dt.datetime | None  # None: never fetched with content (checked first)
    next_check: dt.datetime | None  # None or <= now: overdue


@dataclass(frozen=True)
class Slice:
    chosen: tuple[Candidate, ...]  # revalidated this run, overdue ones first
    budget: int
    overdue: int  # of `chosen`, those past their window
    waiting: int  # known reports left for later runs (within their window)


def budget(known: int, elapsed: dt.timedelta | None, window: dt.timedelta) -> int:
    """How many of `known` reports one run revalidates early, so that runs `elapsed` apart walk
    the whole set once per `window`. No previous run (None) → 0: the lists find them all."""
    if known <= 0 or elapsed is None or elapsed <= dt.timedelta(0):
        return 0
    if window <= dt.timedelta(0):
        return known  # GXCRAWL_RECHECK_AFTER_DAYS=0: every report, every run
    share = min(elapsed, window) / window
    return min(known, round(known * share))


def _age_key(candidate: Candidate) -> tuple[int, dt.datetime]:
    # never checked first, then the oldest check
    return (0, dt.datetime.min) if candidate.last_checked is None else (1, candidate.last_checked)


def choose(
    candidates: Sequence[Candidate],
    *,
    now: dt.datetime,
    elapsed: dt.timedelta | None,
    window: dt.timedelta,
    force: bool = False,
) -> Slice:
    """The run's slice: every overdue report, then the least recently checked up to budget."""
    size = budget(len(candidates), elapsed, window)
    if force:
        return Slice(tuple(candidates), len(candidates), 0, 0)
    overdue = [c for c in candidates if c.next_check is None or c.next_check <= now]
    overdue_urls = {c.url for c in overdue}
    rest = sorted((c for c in candidates if c.url not in overdue_urls), key=_age_key)
    early = rest[: max(0, size - len(overdue))]
    chosen = tuple(sorted(overdue, key=_age_key)) + tuple(early)
    return Slice(chosen, size, len(overdue), len(candidates) - len(chosen))


def entry_changed(stored_title: str | None, listed_title: str) -> bool:
    """The list now shows another title for a known report (whitespace aside): due at once.
    An entry never recorded, or shown without a title, says nothing."""
    if not stored_title or not listed_title:
        return False
    return " ".join(stored_title.split()) != " ".join(listed_title.split())
