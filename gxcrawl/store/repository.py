"""Repository functions: every read and write the crawler, the commands and the tests make.

One namespace for callers (`from gxcrawl.store import repository as repo`); the functions live in
`state` (fetches, documents, snapshots, changes), `runs` (crawl runs, portals), `parsed` (parsed
reports, facts, findings, stored snapshots read back), `agencies` (agency entities) and `views`
(researcher views).
"""

from gxcrawl.store.agencies import agency_id_for, link_agencies
from gxcrawl.store.parsed import (
    NO_LONGER_REPORT,
    PARSE_FAILED,
    LinkedFileText,
    ParentReport,
    StoredSnapshot,
    attachment_texts_of,
    count_content_snapshots,
    delete_parsed_report,
    iter_content_snapshots,
    newest_content_snapshot,
    parent_report_snapshot,
    record_unparsed_version,
    save_attachment_text,
    save_parsed_report,
    snapshot_by_id,
)
from gxcrawl.store.runs import (
    RunSummary,
    finish_run,
    recent_runs,
    run_summary,
    start_run,
    stored_portals,
    upsert_portals,
)
from gxcrawl.store.state import (
    CONTENT,
    FetchRecord,
    KnownDocument,
    StoredFetch,
    UrlState,
    latest_content_body,
    load_url_states,
    note_fetch_reason,
    record_fetch,
    sha256,
)
from gxcrawl.store.views import EXPORTABLE_VIEWS, count_view, iter_view, view_columns

__all__ = [
    "CONTENT",
    "EXPORTABLE_VIEWS",
    "NO_LONGER_REPORT",
    "PARSE_FAILED",
    "FetchRecord",
    "KnownDocument",
    "LinkedFileText",
    "ParentReport",
    "RunSummary",
    "StoredFetch",
    "StoredSnapshot",
    "UrlState",
    "agency_id_for",
    "attachment_texts_of",
    "count_content_snapshots",
    "count_view",
    "delete_parsed_report",
    "finish_run",
    "iter_content_snapshots",
    "iter_view",
    "latest_content_body",
    "link_agencies",
    "load_url_states",
    "newest_content_snapshot",
    "note_fetch_reason",
    "parent_report_snapshot",
    "recent_runs",
    "record_fetch",
    "record_unparsed_version",
    "run_summary",
    "save_attachment_text",
    "save_parsed_report",
    "sha256",
    "snapshot_by_id",
    "start_run",
    "stored_portals",
    "upsert_portals",
    "view_columns",
]
