"""Ctrl-C (or SIGTERM) stops scheduling at once and finishes only the requests in flight.

Scrapy's graceful stop already asks the scheduler for nothing more, but it waits for every
request already handed to the downloader, including those queued in a domain's slot behind
DOWNLOAD_DELAY / AutoThrottle (up to CONCURRENT_REQUESTS of them, seconds each: a crawl kept
fetching for ~20 s after Ctrl-C). On the first shutdown signal this extension takes those
not-yet-sent requests out of the slots: with a JOBDIR or a scale-out frontier they go back into
the persisted queue (so the resumed run asks them), and they end as `Postponed`, which the
spider neither records nor counts as an error. Requests already on the wire finish and are
stored as usual.
"""

from __future__ import annotations

import logging
import signal
from typing import Any

from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from twisted.python.failure import Failure

__all__ = ["Postponed", "StopSchedulingOnShutdown", "postpone_queued"]

log = logging.getLogger(__name__)


def _reactor() -> Any:
    """The installed reactor, imported late: importing it early would install the default one."""
    from twisted.internet import reactor

    return reactor


SHUTDOWN_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Postponed(IgnoreRequest):
    """A queued request dropped by a shutdown (back in JOBDIR's queue when there is one)."""


def postpone_queued(engine: Any) -> int:
    """Take the not-yet-sent requests out of the downloader's slots; the number taken."""
    slot = getattr(engine, "_slot", None)
    scheduler = getattr(slot, "scheduler", None)
    # A JOBDIR disk queue, or a shared frontier that outlives the worker (scale-out's Redis
    # scheduler, SCHEDULER_PERSIST): the resumed run asks them. Dropped from a frontier whose
    # dupefilter already saw them, they would never be fetched again.
    keep = bool(getattr(scheduler, "dqs", None)) or bool(getattr(scheduler, "persist", False))
    taken = 0
    for dslot in list(engine.downloader.slots.values()):
        while dslot.queue:
            request, deferred = dslot.queue.popleft()
            if keep and scheduler is not None:
                scheduler.enqueue_request(request.replace(dont_filter=True))
            deferred.errback(Failure(Postponed("postponed by shutdown")))
            taken += 1
    return taken


class StopSchedulingOnShutdown:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> StopSchedulingOnShutdown:
        ext = cls(crawler)
        crawler.signals.connect(ext.engine_started, signal=signals.engine_started)
        return ext

    def engine_started(self) -> None:
        # Scrapy installs its shutdown handlers when the reactor has started; wrap them after.
        _reactor().callLater(0, self._wrap_handlers)

    def _wrap_handlers(self) -> None:
        for signum in SHUTDOWN_SIGNALS:
            previous = signal.getsignal(signum)
            if callable(previous):
                signal.signal(signum, self._handler(previous))

    def _handler(self, previous: Any) -> Any:
        def handler(signum: int, frame: Any) -> None:
            _reactor().callFromThread(self._postpone)
            for sig in SHUTDOWN_SIGNALS:  # once: Scrapy's own handlers take over
                signal.signal(sig, previous)
            previous(signum, frame)

        return handler

    def _postpone(self) -> None:
        engine = self.crawler.engine
        if engine is None:
            return
        taken = postpone_queued(engine)
        self.crawler.stats.set_value("gxcrawl/postponed_by_shutdown", taken)
        log.info("shutdown: %s queued requests postponed; finishing those in flight", taken)
