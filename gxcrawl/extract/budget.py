"""A cooperative time budget for extracting one page.

Every extraction stage is meant to be linear in the page size, so no page should come near the
budget; it is the safety net for a super-linear spot nobody has found yet. The entry point opens a
budget for the page and long loops call `check()`; past the deadline `check()` raises
`ParseTimeout` and the caller records the page with reason `parse_timeout`, its raw snapshot
kept. Cooperative only: a stage stuck inside one C call (a regex, lxml) is not interrupted — that
needs a worker process, which is out of scope here.

    with Budget(PAGE_SECONDS).active():
        result = extract_document(...)       # loops inside call budget.check("tables")

Without an active budget `check()` is a no-op, so pure functions stay usable on their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["PAGE_SECONDS", "PARSE_TIMEOUT", "Budget", "ParseTimeout", "check"]

# Reason recorded for a page whose extraction ran out of time.
PARSE_TIMEOUT = "parse_timeout"
# Default budget per page: ~100x the slowest real page measured (about 0.1 s), so only a
# pathological page reaches it, and well below the 10 s every hostile page must finish in.
PAGE_SECONDS = 5.0


class ParseTimeout(Exception):
    """Extraction of one page ran past its time budget."""

    def __init__(self, stage: str, elapsed: float, seconds: float) -> None:
        where = stage or "extraction"
        super().__init__(f"over budget in {where}: {elapsed:.2f} s > {seconds:.2f} s")
        self.stage = stage
        self.elapsed = elapsed
        self.seconds = seconds
        self.reason = PARSE_TIMEOUT


class Budget:
    """`seconds` of wall time from creation; `check()` costs one clock read."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._start = clock()
        self._deadline = self._start + seconds

    def elapsed(self) -> float:
        return self._clock() - self._start

    def expired(self) -> bool:
        return self._clock() > self._deadline

    def check(self, stage: str = "") -> None:
        """Raise `ParseTimeout` once the deadline has passed."""
        now = self._clock()
        if now > self._deadline:
            raise ParseTimeout(stage, now - self._start, self.seconds)

    @contextmanager
    def active(self) -> Iterator[Budget]:
        """Make this the budget that module-level `check()` calls see (per thread/task)."""
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)


_ACTIVE: ContextVar[Budget | None] = ContextVar("gxcrawl_extract_budget", default=None)


def check(stage: str = "") -> None:
    """Check the active budget, if any (a no-op outside `Budget.active()`)."""
    budget = _ACTIVE.get()
    if budget is not None:
        budget.check(stage)
