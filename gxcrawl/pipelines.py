"""Item pipeline: a thin adapter from PageItems to the store and the extraction functions.

One transaction per item: the raw response, its snapshot, its change record and its parsed report
are written together or not at all, so a crawl killed at any moment loses no half-item.
"""

from __future__ import annotations

import logging
from typing import Any

from gxcrawl.config import crawl_config
from gxcrawl.extract.types import PortalHints
from gxcrawl.ingest import SnapshotInput, extract_and_save, record_parse_failure
from gxcrawl.items import PageItem
from gxcrawl.store import repository as repo
from gxcrawl.store.crawlstore import CrawlStore, require_store
from gxcrawl.store.models import utcnow
from gxcrawl.vocab import DocumentKind, ParseOutcome, outcome_stat

log = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler: Any) -> None:
        require_store(crawler)
        self.crawler = crawler
        self.stats = crawler.stats
        self.recheck = crawl_config(crawler).recheck_after

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        # The crawl run itself is started by CrawlRunExtension when the spider opens.
        self.store = CrawlStore.for_crawler(self.crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem):
            return item
        # List pages are revisited every run; reports and files only when due.
        recheck = None if item.kind == DocumentKind.LIST else self.recheck
        with self.store.db.transaction() as session:
            stored = repo.record_fetch(
                session, fetch_record(item), run_id=self.store.run_id, recheck_after=recheck
            )
            self.stats.inc_value(outcome_stat(stored.outcome))
            if stored.change:
                self.stats.inc_value(f"gxcrawl/change/{stored.change}")
            if stored.is_new_version and item.body is not None and item.kind != DocumentKind.LIST:
                self._extract(session, self._snapshot(item, stored), self._hints(item))
        return item

    def _hints(self, item: PageItem) -> PortalHints:
        """What the registry says about the item's portal (agency of last resort, region)."""
        portal = getattr(self.crawler.spider, "portals", {}).get(item.portal_id)
        return portal.hints() if portal is not None else PortalHints(portal_id=item.portal_id)

    def _snapshot(self, item: PageItem, stored: repo.StoredFetch) -> SnapshotInput:
        assert item.body is not None and stored.snapshot_id is not None
        return SnapshotInput(
            stored.snapshot_id, stored.document_id, item.url, item.kind, item.portal_id,
            item.body, item.headers, item.link_title, standalone=item.parent_url is None,
            run_id=self.store.run_id,
        )  # fmt: skip

    def _extract(self, session: Any, snap: SnapshotInput, hints: PortalHints) -> None:
        try:
            with session.begin_nested():  # a parser bug must not lose the raw page
                what = extract_and_save(session, snap, hints)
        except Exception as exc:
            self.stats.inc_value("gxcrawl/parse_errors")
            log.exception("extraction failed for %s; raw snapshot kept", snap.url)
            record_parse_failure(session, snap, exc)
            return
        self.stats.inc_value(f"gxcrawl/parsed/{what}")
        if what == ParseOutcome.REPORT:
            self.stats.inc_value("gxcrawl/reports_stored")
        elif what == ParseOutcome.NOT_A_REPORT:
            log.info("not a report after all: %s", snap.url)


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
