"""The store as one crawl sees it: opened once per crawler and shared by the conditional-request
middleware, the storage pipeline and the run extension."""

from __future__ import annotations

import datetime as dt
from typing import Any

from scrapy.exceptions import NotConfigured

from gxcrawl import revalidation
from gxcrawl.config import crawl_config
from gxcrawl.store import repository as repo
from gxcrawl.store import revalidation as store_revalidation
from gxcrawl.store.db import Database
from gxcrawl.vocab import RunStatus


def require_store(crawler: Any) -> None:
    """For the components that only make sense with a store (GXCRAWL_STORE_ENABLED=False
    switches them all off): raise NotConfigured when storage is disabled."""
    if not crawl_config(crawler).store_enabled:
        raise NotConfigured("storage disabled")


class CrawlStore:
    _ATTR = "_gxcrawl_store"

    def __init__(self, url: str) -> None:
        self.db = Database(url)  # runs the Alembic migrations on a new database
        self.run_id: int | None = None
        self._states: dict[str, repo.UrlState] | None = None

    @classmethod
    def for_crawler(cls, crawler: Any) -> CrawlStore:
        store = getattr(crawler, cls._ATTR, None)
        if store is None:
            store = cls(crawl_config(crawler).database_url)
            setattr(crawler, cls._ATTR, store)
        return store

    def start_run(self, spider: str, portals: list[dict[str, Any]]) -> int:
        """Record the crawl run (once; the run extension calls this when the spider opens)."""
        if self.run_id is None:
            with self.db.transaction() as s:
                repo.upsert_portals(s, portals)
                self.run_id = repo.start_run(s, spider, [p["id"] for p in portals])
        return self.run_id

    def finish_run(self, status: RunStatus, reason: str, stats: dict[str, Any]) -> None:
        if self.run_id is None:
            return
        with self.db.transaction() as s:
            repo.finish_run(s, self.run_id, status, reason, stats)

    def url_state(self, url: str) -> repo.UrlState | None:
        if self._states is None:  # one query at start instead of one per request
            with self.db.transaction() as s:
                self._states = repo.load_url_states(s)
        return self._states.get(url)

    def revalidation_slice(
        self, portal_id: str, *, window: dt.timedelta, force: bool
    ) -> tuple[list[repo.KnownDocument], revalidation.Slice]:
        """The known reports this run revalidates (gxcrawl/revalidation.py) and the slice."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with self.db.transaction() as s:
            known = store_revalidation.known_documents(s, portal_id)
            previous = (
                store_revalidation.previous_run_start(s, portal_id, self.run_id)
                if self.run_id is not None
                else None
            )
        elapsed = now - previous if previous is not None else None
        chosen = revalidation.choose(
            [c for _, c in known], now=now, elapsed=elapsed, window=window, force=force
        )
        by_url = {doc.url: doc for doc, _ in known}
        return [by_url[c.url] for c in chosen.chosen], chosen

    def latest_content_body(self, url: str) -> bytes | None:
        with self.db.transaction() as s:
            return repo.latest_content_body(s, url)

    def refresh_quality(self) -> None:
        """Recompute the report_quality measures (near-copies need every report, so once per
        run, at its end)."""
        from gxcrawl.store.quality import refresh_quality_scores

        with self.db.transaction() as s:
            refresh_quality_scores(s)

    def close(self) -> None:
        self.db.close()


def jsonable_stats(stats: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in stats.items():
        if isinstance(value, dt.datetime):
            out[key] = value.isoformat()
        elif isinstance(value, int | float | str | bool) or value is None:
            out[key] = value
        else:
            out[key] = str(value)
    return out
