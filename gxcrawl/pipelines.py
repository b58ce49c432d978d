"""Item pipeline: a thin adapter from PageItems to the store and the extraction functions.

One transaction per item: the raw response, its snapshot, its change record and its parsed report
are written together or not at all, so a crawl killed at any moment loses no half-item.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import NotConfigured

from gxcrawl.extract.types import PortalHints
from gxcrawl.ingest import SnapshotInput, extract_and_save
from gxcrawl.items import PageItem
from gxcrawl.middlewares import recheck_delta
from gxcrawl.store import repository as repo
from gxcrawl.store.crawlstore import CrawlStore
from gxcrawl.store.models import utcnow

log = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler: Any) -> None:
        if not crawler.settings.getbool("GXCRAWL_STORE_ENABLED", True):
            raise NotConfigured("storage disabled")
        self.crawler = crawler
        self.stats = crawler.stats
        self.recheck = recheck_delta(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        store = CrawlStore.for_crawler(self.crawler)
        store.start_run(spider.name, spider.portal_rows() if hasattr(spider, "portal_rows") else [])
        self.store = store

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if not isinstance(item, PageItem):
            return item
        spider = spider or self.crawler.spider
        portal = getattr(spider, "portals", {}).get(item.portal_id)
        hints = portal.hints() if portal is not None else PortalHints(portal_id=item.portal_id)
        rec = repo.FetchRecord(
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
        # List pages are revisited every run; reports and files only when due.
        recheck = None if item.kind == "list" else self.recheck
        with self.store.db.transaction() as session:
            stored = repo.record_fetch(
                session, rec, run_id=self.store.run_id, recheck_after=recheck
            )
            self.stats.inc_value(f"gxcrawl/outcome/{stored.outcome}")
            if stored.change:
                self.stats.inc_value(f"gxcrawl/change/{stored.change}")
            if stored.is_new_version and item.body is not None and item.kind != "list":
                try:
                    with session.begin_nested():  # a parser bug must not lose the raw page
                        self._extract(session, item, stored, hints)
                except Exception:
                    self.stats.inc_value("gxcrawl/parse_errors")
                    log.exception("extraction failed for %s; raw snapshot kept", item.url)
        return item

    def _extract(
        self, session: Any, item: PageItem, stored: repo.StoredFetch, hints: PortalHints
    ) -> None:
        assert item.body is not None and stored.snapshot_id is not None
        snap = SnapshotInput(
            stored.snapshot_id, stored.document_id, item.url, item.kind, item.portal_id,
            item.body, item.headers, item.link_title, standalone=item.parent_url is None,
        )  # fmt: skip
        what = extract_and_save(session, snap, hints)
        self.stats.inc_value(f"gxcrawl/parsed/{what}")
        if what == "report":
            self.stats.inc_value("gxcrawl/reports_stored")
        elif what == "not_a_report":
            log.info("not a report after all: %s", item.url)
